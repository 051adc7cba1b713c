import { transaction } from "../store/db.js";
import { lockInstance } from "../store/instances.js";
import { getOrderByKey } from "../store/orders.js";
import type { InstanceRow } from "../store/rows.js";
import { openTicketFor } from "../store/tickets.js";
import { enqueueWarning } from "../store/warnings.js";
import { checkPeriod, type OrderResult } from "./charge.js";
import { type BillingContext, timerActor } from "./context.js";
import { BillingError } from "./errors.js";
import type { DueRenewal } from "./expiry.js";
import { renewLocked } from "./orders.js";

/** Why an instance is no longer to be auto-renewed, read under its lock; undefined if it is. */
async function stopReason(
  tx: Parameters<typeof lockInstance>[0]["tx"],
  instance: InstanceRow,
  months: number,
): Promise<string | undefined> {
  if (instance.auto_renew_months === null) return "auto-renew was turned off";
  if (instance.auto_renew_months !== months) return "its auto-renewal period was changed";
  if (instance.wont_renew_expires_at === instance.expires_at) return "someone chose Won't renew";
  if (await openTicketFor({ tx }, instance.id)) return "an unsubscribe ticket is open";
  return undefined;
}

/**
 * One auto-renewal attempt by the expiry timer, in one transaction: under the instance's
 * lock it re-checks the period (PERIOD_CHANGED) and the current settings (auto-renew on, no
 * Won't renew, no open ticket: AUTO_RENEWAL_STOPPED), charges, and writes the receipt into
 * the outbox in the same transaction, so a crash can't leave a charge without its receipt.
 * An attempt whose order already exists (its key) charges nothing and reports `replayed`.
 */
export async function autoRenew(ctx: BillingContext, due: DueRenewal): Promise<OrderResult> {
  const months = checkPeriod(due.months);
  const { id, expires_at: expiresAt } = due.instance;
  const key = `autorenew:${id}:${expiresAt}:${due.slot}`;
  return transaction(ctx.db, async (tx) => {
    const instance = await lockInstance({ tx }, id);
    if (!instance) throw new BillingError({ code: "NOT_FOUND", entity: "instance", id });
    if (instance.expires_at !== expiresAt)
      throw new BillingError({ code: "PERIOD_CHANGED", instanceId: id });
    const reason = await stopReason(tx, instance, months);
    if (reason) throw new BillingError({ code: "AUTO_RENEWAL_STOPPED", instanceId: id, reason });
    const earlier = await getOrderByKey({ tx }, key);
    if (earlier) throw new BillingError({ code: "PERIOD_CHANGED", instanceId: id });
    const r = await renewLocked(ctx, tx, timerActor, instance, months, key);
    const now = ctx.clock();
    await enqueueWarning(
      { tx },
      {
        instance_id: id,
        kind: "autorenew_ok",
        slot: due.slot,
        expires_at: expiresAt,
        due_at: now,
        created_at: now,
        detail: {
          months,
          orderId: r.order.id,
          amountCents: r.order.amount_cents,
          newExpiresAt: r.instance.expires_at,
          balanceAfterCents: r.balanceAfterCents,
        },
      },
    );
    return r;
  });
}
