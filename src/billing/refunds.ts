import type { Db } from "../store/db.js";
import { transaction } from "../store/db.js";
import { getInstance, lockInstance, updateInstance } from "../store/instances.js";
import { credit, getBalance, insertLedgerEntry } from "../store/ledger.js";
import { addRefunded, listOrders } from "../store/orders.js";
import type { InstanceRow, OrderRow } from "../store/rows.js";
import { audit, requireAdmin } from "./admins.js";
import { type Actor, actorId, type BillingContext } from "./context.js";
import { BillingError } from "./errors.js";
import { type Lifecycle, lifecycleOf } from "./lifecycle.js";

export interface RefundLine {
  orderId: number;
  /** A paid renewal whose period has not begun, or the unused share of the current period. */
  kind: "pending_renewal" | "unused_period";
  cents: number;
  /** What the order cost and the span it paid for. */
  paidCents: number;
  periodStart: number;
  periodEnd: number;
}

export interface RefundEstimate {
  instanceId: string;
  lifecycle: Lifecycle;
  lines: RefundLine[];
  totalCents: number;
  /** Active instances run on to `expiresAfter`; disabled ones are released on approval. */
  outcome: "runs_to_expiry" | "released";
  expiresAfter: number;
  /** When nothing is refundable: why, in the words of the rule. */
  nothingBecause: string | null;
}

/** Cents of `paid` for the unused share of [start, end) at `now`, by the second, rounded down. */
export function unusedShare(paid: number, start: number, end: number, now: number): number {
  if (now >= end) return 0;
  const total = BigInt(Math.round((end - start) / 1000));
  const unused = BigInt(Math.floor((end - Math.max(now, start)) / 1000));
  if (total <= 0n) return 0;
  return Number((BigInt(paid) * unused) / total);
}

/**
 * The unsubscription rule: every pending renewal order in full, plus, for a disabled
 * instance, the unused share of the order that paid for the current period. Pure: the
 * estimate shown to a person and the refund executed come from this one function.
 */
export function computeRefund(
  instance: InstanceRow,
  orders: readonly OrderRow[],
  now: number,
): RefundEstimate {
  const lifecycle = lifecycleOf(instance, now);
  if (lifecycle.state === "released")
    throw new BillingError({ code: "INSTANCE_RELEASED", instanceId: instance.id });
  const refundable = orders.filter(
    (o) => o.instance_id === instance.id && o.refunded_cents < o.amount_cents,
  );
  const line = (o: OrderRow, kind: RefundLine["kind"], cents: number): RefundLine => ({
    orderId: o.id,
    kind,
    cents: Math.min(cents, o.amount_cents - o.refunded_cents),
    paidCents: o.amount_cents,
    periodStart: o.period_start,
    periodEnd: o.period_end,
  });
  const pending = refundable.filter((o) => o.kind === "renewal" && o.period_start > now);
  const lines = pending.map((o) => line(o, "pending_renewal", o.amount_cents));
  if (lifecycle.state === "disabled") {
    const current = refundable.find((o) => o.period_start <= now && now < o.period_end);
    const cents = current
      ? unusedShare(current.amount_cents, current.period_start, current.period_end, now)
      : 0;
    if (current && cents > 0) lines.push(line(current, "unused_period", cents));
  }
  const totalCents = lines.reduce((sum, l) => sum + l.cents, 0);
  const firstPending = Math.min(...pending.map((o) => o.period_start));
  const active = lifecycle.state === "active";
  return {
    instanceId: instance.id,
    lifecycle,
    lines,
    totalCents,
    outcome: active ? "runs_to_expiry" : "released",
    expiresAfter:
      pending.length > 0 ? Math.min(firstPending, instance.expires_at) : instance.expires_at,
    nothingBecause: totalCents > 0 ? null : whyNothing(lifecycle),
  };
}

function whyNothing(lifecycle: Lifecycle): string {
  if (lifecycle.state === "active") {
    return "An active instance is refunded only its pending renewal orders (renewals whose period has not started), and it has none.";
  }
  if (lifecycle.state === "disabled" && lifecycle.reason === "expired") {
    return "It has expired: its paid period is used up, and it has no pending renewal orders.";
  }
  return "Its current period was not paid through kms-bot (or is used up), and it has no pending renewal orders.";
}

async function estimateWith(
  tx: Db,
  instanceId: string,
  now: number,
  lock: boolean,
): Promise<{ instance: InstanceRow; estimate: RefundEstimate }> {
  const instance = lock
    ? await lockInstance({ tx }, instanceId)
    : await getInstance({ tx }, instanceId);
  if (!instance) throw new BillingError({ code: "NOT_FOUND", entity: "instance", id: instanceId });
  return { instance, estimate: computeRefund(instance, await listOrders({ tx }, instanceId), now) };
}

/** {@link estimateRefund} inside the caller's transaction. */
export async function estimateRefundIn(
  ctx: BillingContext,
  tx: Db,
  instanceId: string,
): Promise<RefundEstimate> {
  return (await estimateWith(tx, instanceId, ctx.clock(), false)).estimate;
}

/** What unsubscribing `instanceId` now would refund, line by line. */
export async function estimateRefund(
  ctx: BillingContext,
  instanceId: string,
): Promise<RefundEstimate> {
  return (await estimateWith(ctx.db, instanceId, ctx.clock(), false)).estimate;
}

export interface UnsubscribeResult {
  refund: RefundEstimate;
  balanceAfterCents: number;
}

/**
 * Executes an approved unsubscription (admins only) as of now, in one transaction: refunds
 * each line into the ledger, cancels pending renewals and rolls `expires_at` back (active
 * instance, which also stops auto-renewing) or releases the instance (disabled).
 */
export async function unsubscribe(
  ctx: BillingContext,
  actor: Actor,
  instanceId: string,
): Promise<UnsubscribeResult> {
  return transaction(ctx.db, async (tx) => {
    await requireAdmin(ctx, tx, actor, "approve unsubscriptions");
    return unsubscribeIn(ctx, tx, actor, instanceId);
  });
}

/** {@link unsubscribe} inside the caller's transaction (a ticket approval), without the admin check. */
export async function unsubscribeIn(
  ctx: BillingContext,
  tx: Db,
  actor: Actor,
  instanceId: string,
): Promise<UnsubscribeResult> {
  const now = ctx.clock();
  const { estimate } = await estimateWith(tx, instanceId, now, true);
  let balanceAfterCents: number | undefined;
  for (const l of estimate.lines) {
    await addRefunded({ tx }, l.orderId, l.cents);
    balanceAfterCents = await credit({ tx }, l.cents, now);
    await insertLedgerEntry(
      { tx },
      {
        kind: "refund",
        amount_cents: l.cents,
        balance_after_cents: balanceAfterCents,
        order_id: l.orderId,
        instance_id: instanceId,
        actor: actorId(actor),
        idempotency_key: null,
        created_at: now,
      },
    );
  }
  await updateInstance(
    { tx },
    instanceId,
    estimate.outcome === "released"
      ? { released_at: now, auto_renew_months: null, updated_at: now }
      : { expires_at: estimate.expiresAfter, auto_renew_months: null, updated_at: now },
  );
  await audit(ctx, tx, actor, "instance.unsubscribe", instanceId, {
    refundedCents: estimate.totalCents,
    lines: estimate.lines.map((l) => ({ orderId: l.orderId, kind: l.kind, cents: l.cents })),
    outcome: estimate.outcome,
  });
  return { refund: estimate, balanceAfterCents: balanceAfterCents ?? (await getBalance({ tx })) };
}
