import type { Decide } from "../store/renewals.js";
import type { InstanceRow } from "../store/rows.js";
import { checkShownPrice, shortfall } from "./charge.js";
import { type Actor, actorId } from "./context.js";
import { BillingError } from "./errors.js";
import { lifecycleOf } from "./lifecycle.js";
import type { PeriodMonths } from "./periods.js";
import { addMonths } from "./time.js";

/**
 * When a renewal bought at `now` runs: from the current expiry while the instance has not
 * expired (also when an admin disabled it), from `now` once it has expired. Months are
 * counted in `zone` from the subscription's anniversary, which a lapsed subscription
 * restarts at `now`.
 */
export function renewalPeriod(
  instance: InstanceRow,
  now: number,
  months: PeriodMonths,
  zone: string,
): { start: number; end: number; anniversary: number } {
  if (lifecycleOf(instance, now).state === "released") {
    throw new BillingError({ code: "INSTANCE_RELEASED", instanceId: instance.id });
  }
  const expired = now >= instance.expires_at;
  const start = expired ? now : instance.expires_at;
  const anniversary = expired ? now : (instance.anniversary_at ?? instance.expires_at);
  return { start, end: addMonths(start, months, zone, anniversary), anniversary };
}

export interface RenewInput {
  instanceId: string;
  months: number;
  /** One key per person's request (a modal submission): a retry with it charges nothing more. */
  idempotencyKey?: string | null;
  /**
   * Renew only the period ending at this expiry (the timer's auto-renewal): if the instance
   * was renewed since it was read, PERIOD_CHANGED and nothing is charged.
   */
  expectedExpiresAt?: number;
  /** The monthly price the person was shown: if the price in force differs, PRICE_CHANGED. */
  expectedUnitCents?: number;
}

/** Decides a renewal from what the store read: refuses, replays, or says what to write. */
export function decideRenewal(
  actor: Actor,
  input: RenewInput,
  months: PeriodMonths,
  now: number,
  zone: string,
): Decide {
  return (read) => {
    if (read?.keyedOrderId != null) return { replayOf: read.keyedOrderId };
    if (!read)
      throw new BillingError({ code: "NOT_FOUND", entity: "instance", id: input.instanceId });
    const { instance, unitCents, balanceCents } = read;
    if (input.expectedExpiresAt !== undefined && instance.expires_at !== input.expectedExpiresAt) {
      throw new BillingError({ code: "PERIOD_CHANGED", instanceId: instance.id });
    }
    const { start, end, anniversary } = renewalPeriod(instance, now, months, zone);
    if (unitCents === undefined) throw new Error(`no price for site ${instance.site} at ${now}`);
    checkShownPrice(unitCents, input.expectedUnitCents);
    const amountCents = unitCents * months;
    if (balanceCents < amountCents) throw shortfall(amountCents, balanceCents);
    const key = input.idempotencyKey ?? null;
    return {
      write: {
        kind: "renewal",
        instance_id: instance.id,
        site: instance.site,
        months,
        unit_cents: unitCents,
        amount_cents: amountCents,
        period_start: start,
        period_end: end,
        idempotency_key: key,
        created_by: actorId(actor),
        created_at: now,
      },
      anniversary,
      audit: { months, idempotencyKey: key },
    };
  };
}
