import { transaction } from "../store/db.js";
import { credit, getBalance, getLedgerEntryByKey, insertLedgerEntry } from "../store/ledger.js";
import type { LedgerRow } from "../store/rows.js";
import { audit, requireAdmin } from "./admins.js";
import { type Actor, actorId, type BillingContext } from "./context.js";
import { BillingError } from "./errors.js";
import { oncePerKey } from "./idempotency.js";
import { MAX_AMOUNT_CENTS } from "./money.js";

export async function balance(ctx: BillingContext): Promise<number> {
  return getBalance({ tx: ctx.db });
}

export interface TopupResult {
  entry: LedgerRow;
  /** True when this idempotency key had already been applied: nothing was added again. */
  replayed: boolean;
}

/** Adds a recharge to the ledger (admins only). A repeated idempotency key adds nothing. */
export async function topup(
  ctx: BillingContext,
  actor: Actor,
  cents: number,
  idempotencyKey: string | null = null,
): Promise<TopupResult> {
  if (!Number.isSafeInteger(cents) || cents <= 0 || cents > MAX_AMOUNT_CENTS) {
    throw new BillingError({
      code: "INVALID_INPUT",
      field: "amount",
      problem: "must be a positive amount",
    });
  }
  const replay = async (): Promise<TopupResult | undefined> => {
    const entry = idempotencyKey
      ? await getLedgerEntryByKey({ tx: ctx.db }, idempotencyKey)
      : undefined;
    if (!entry) return undefined;
    if (
      entry.kind !== "recharge" ||
      entry.amount_cents !== cents ||
      entry.actor !== actorId(actor)
    ) {
      throw new BillingError({ code: "IDEMPOTENCY_CONFLICT", key: entry.idempotency_key ?? "" });
    }
    return { entry, replayed: true };
  };
  // Checked before a replay too: a member can't "repeat" an admin's recharge.
  await requireAdmin(ctx, ctx.db, actor, "top up the balance");
  return oncePerKey(idempotencyKey, replay, () =>
    transaction(ctx.db, async (tx) => {
      await requireAdmin(ctx, tx, actor, "top up the balance");
      const now = ctx.clock();
      const after = await credit({ tx }, cents, now);
      const entry = await insertLedgerEntry(
        { tx },
        {
          kind: "recharge",
          amount_cents: cents,
          balance_after_cents: after,
          order_id: null,
          instance_id: null,
          actor: actorId(actor),
          idempotency_key: idempotencyKey,
          created_at: now,
        },
      );
      await audit(ctx, tx, actor, "account.topup", null, { cents, idempotencyKey });
      return { entry, replayed: false };
    }),
  );
}
