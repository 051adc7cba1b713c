import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { Db } from "../store/db.js";
import { transaction } from "../store/db.js";
import { insertInstance, updateInstance } from "../store/instances.js";
import { getBalance } from "../store/ledger.js";
import { priceAt } from "../store/prices.js";
import { readRenewal, renewInstance } from "../store/renewals.js";
import { type InstanceRow, type Site, siteSchema } from "../store/rows.js";
import { audit, requireAdmin } from "./admins.js";
import {
  charge,
  checkPeriod,
  checkShownPrice,
  type OrderResult,
  replayOrder,
  shortfall,
} from "./charge.js";
import { type Actor, actorId, type BillingContext } from "./context.js";
import { BillingError } from "./errors.js";
import { oncePerKey } from "./idempotency.js";
import { SLACK_CHANNEL_ID, SLACK_USER_ID } from "./ids.js";
import { instanceName } from "./names.js";
import { decideRenewal, type RenewInput, renewalPeriod } from "./order-rules.js";
import { isPeriod, type PeriodMonths } from "./periods.js";
import { addMonths } from "./time.js";

export type { OrderResult } from "./charge.js";
export { type RenewInput, renewalPeriod };

export interface RenewalQuote {
  instance: InstanceRow;
  months: PeriodMonths;
  unitCents: number;
  amountCents: number;
  balanceCents: number;
  /** Negative when the balance does not cover the renewal. */
  balanceAfterCents: number;
  periodStart: number;
  periodEnd: number;
  /** The instant whose day of month and time of day the period ends on. */
  anniversary: number;
}

function quoteOf(
  ctx: BillingContext,
  instance: InstanceRow,
  months: PeriodMonths,
  now: number,
  { unitCents, balanceCents }: { unitCents: number; balanceCents: number },
): RenewalQuote {
  const { start, end, anniversary } = renewalPeriod(instance, now, months, ctx.timezone);
  const amountCents = unitCents * months;
  return {
    instance,
    months,
    unitCents,
    amountCents,
    balanceCents,
    balanceAfterCents: balanceCents - amountCents,
    periodStart: start,
    periodEnd: end,
    anniversary,
  };
}

async function quoteWith(
  ctx: BillingContext,
  tx: Db,
  instance: InstanceRow,
  months: PeriodMonths,
): Promise<RenewalQuote> {
  const now = ctx.clock();
  const price = await priceAt({ tx }, instance.site, now);
  const balanceCents = await getBalance({ tx });
  return quoteOf(ctx, instance, months, now, { unitCents: price.unit_cents, balanceCents });
}

/**
 * What renewing `instanceId` for `months` would cost now, and what it would leave: the
 * instance, its price and the balance in one read (every renew modal asks).
 */
export async function quoteRenewal(
  ctx: BillingContext,
  instanceId: string,
  months: number,
): Promise<RenewalQuote> {
  const period = checkPeriod(months);
  const now = ctx.clock();
  const read = await readRenewal(ctx.db, instanceId, now);
  if (!read) throw new BillingError({ code: "NOT_FOUND", entity: "instance", id: instanceId });
  const { instance, unitCents, balanceCents } = read;
  if (unitCents === undefined) throw new Error(`no price for site ${instance.site} at ${now}`);
  return quoteOf(ctx, instance, period, now, { unitCents, balanceCents });
}

/**
 * Renews an instance if the balance covers it: debits the account, records the order at
 * today's price and its ledger line, extends `expires_at` and writes the audit entry, all in
 * one transaction (src/store/renewals.ts: a few round trips on either database). An expired
 * instance starts its new period now and is active again at once; an admin-disabled one
 * stays disabled.
 */
export async function renew(
  ctx: BillingContext,
  actor: Actor,
  input: RenewInput,
): Promise<OrderResult> {
  const months = checkPeriod(input.months);
  const key = input.idempotencyKey ?? null;
  const replay = () =>
    replayOrder(
      ctx,
      key ?? "",
      (o) =>
        o.kind === "renewal" &&
        o.instance_id === input.instanceId &&
        o.months === months &&
        o.created_by === actorId(actor),
    );
  const run = async (): Promise<OrderResult> => {
    const now = ctx.clock();
    const decide = decideRenewal(actor, input, months, now, ctx.timezone);
    let amountCents = 0;
    let anniversary = 0;
    const outcome = await renewInstance(
      ctx.db,
      { instanceId: input.instanceId, at: now, key },
      (read) => {
        const decision = decide(read);
        if ("write" in decision) {
          amountCents = decision.write.amount_cents;
          anniversary = decision.anniversary;
        }
        return decision;
      },
    );
    if (outcome.kind === "replay") {
      const earlier = await replay();
      if (!earlier) throw new Error(`order ${outcome.orderId} vanished during its replay`);
      return earlier;
    }
    if (outcome.kind === "short") throw shortfall(amountCents, await getBalance({ tx: ctx.db }));
    const { order, balanceAfterCents, before } = outcome;
    const instance = {
      ...before,
      expires_at: order.period_end,
      anniversary_at: anniversary,
      snoozed_until: null,
      updated_at: now,
    };
    return { order, instance, balanceAfterCents, replayed: false };
  };
  return oncePerKey(key, replay, run, { lookupFirst: false });
}

/**
 * What a renewal order of `instance` at `quote` records (who placed it, when, and its status
 * are the caller's): the same for the local ledger and for an order on the Alibaba Cloud
 * account.
 */
export function renewalOrderFields(instance: InstanceRow, quote: RenewalQuote, key: string | null) {
  return {
    kind: "renewal" as const,
    instance_id: instance.id,
    site: instance.site,
    months: quote.months,
    unit_cents: quote.unitCents,
    amount_cents: quote.amountCents,
    period_start: quote.periodStart,
    period_end: quote.periodEnd,
    idempotency_key: key,
  };
}

/**
 * The renewal itself, for a caller holding the instance's lock in transaction `tx`: quotes at
 * today's price, charges, extends `expires_at` and writes the audit entry.
 */
export async function renewLocked(
  ctx: BillingContext,
  tx: Db,
  actor: Actor,
  instance: InstanceRow,
  months: PeriodMonths,
  key: string | null,
  expectedUnitCents?: number,
): Promise<OrderResult> {
  const quote = await quoteWith(ctx, tx, instance, months);
  checkShownPrice(quote.unitCents, expectedUnitCents);
  const { order, balanceAfterCents } = await charge(
    ctx,
    tx,
    actor,
    renewalOrderFields(instance, quote, key),
  );
  // A new period starts with fresh reminders: an old snooze no longer applies.
  await updateInstance({ tx }, instance.id, {
    expires_at: quote.periodEnd,
    anniversary_at: quote.anniversary,
    snoozed_until: null,
    updated_at: ctx.clock(),
  });
  await audit(ctx, tx, actor, "instance.renew", instance.id, {
    months,
    idempotencyKey: key,
    orderId: order.id,
  });
  const renewed = {
    ...instance,
    expires_at: quote.periodEnd,
    anniversary_at: quote.anniversary,
    snoozed_until: null,
    updated_at: ctx.clock(),
  };
  return { order, instance: renewed, balanceAfterCents, replayed: false };
}

export const purchaseInput = z.object({
  name: instanceName("is missing"),
  site: siteSchema,
  months: z.number().int().refine(isPeriod, "is not a subscription period on sale"),
  channel: z.string().regex(SLACK_CHANNEL_ID, "is not a Slack channel id").nullable().default(null),
  owner: z.string().regex(SLACK_USER_ID, "is not a Slack user id").nullable().default(null),
  idempotencyKey: z.string().min(1).max(200).nullable().default(null),
  expectedUnitCents: z.number().int().positive().optional(),
});
export type PurchaseInput = z.input<typeof purchaseInput>;

/** Turns zod's first complaint into an INVALID_INPUT refusal naming the field. */
export function invalidInput(error: z.ZodError): BillingError {
  const issue = error.issues[0];
  return new BillingError({
    code: "INVALID_INPUT",
    field: issue?.path.join(".") || "input",
    problem: issue?.message ?? "is invalid",
  });
}

export function newInstanceId(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  return `kst-${Array.from(randomBytes(17), (b) => alphabet[b % alphabet.length]).join("")}`;
}

/** Refuses what {@link purchase} would refuse before charging (input, rights); buys nothing. */
export async function checkPurchase(
  ctx: BillingContext,
  actor: Actor,
  raw: PurchaseInput,
): Promise<void> {
  const parsed = purchaseInput.safeParse(raw);
  if (!parsed.success) throw invalidInput(parsed.error);
  await requireAdmin(ctx, ctx.db, actor, "buy instances");
}

/** Buys a new instance (admins only), active from now for the period paid. */
export async function purchase(
  ctx: BillingContext,
  actor: Actor,
  raw: PurchaseInput,
): Promise<OrderResult> {
  const parsed = purchaseInput.safeParse(raw);
  if (!parsed.success) throw invalidInput(parsed.error);
  const input = parsed.data;
  const months = checkPeriod(input.months);
  // Checked before a replay too: a member can't learn of (or "repeat") an admin's order.
  await requireAdmin(ctx, ctx.db, actor, "buy instances");
  return oncePerKey(
    input.idempotencyKey,
    () =>
      replayOrder(
        ctx,
        input.idempotencyKey ?? "",
        (o) =>
          o.kind === "purchase" &&
          o.months === months &&
          o.site === input.site &&
          o.created_by === actorId(actor),
      ),
    () =>
      transaction(ctx.db, async (tx) => {
        await requireAdmin(ctx, tx, actor, "buy instances");
        const now = ctx.clock();
        const price = await priceAt({ tx }, input.site as Site, now);
        checkShownPrice(price.unit_cents, input.expectedUnitCents);
        const instance: InstanceRow = {
          id: newInstanceId(),
          name: input.name,
          site: input.site,
          expires_at: addMonths(now, months, ctx.timezone),
          anniversary_at: now,
          admin_disabled_at: null,
          released_at: null,
          channel: input.channel,
          owner: input.owner,
          auto_renew_months: null,
          snoozed_until: null,
          wont_renew_expires_at: null,
          created_at: now,
          updated_at: now,
        };
        await insertInstance({ tx }, instance);
        const { order, balanceAfterCents } = await charge(ctx, tx, actor, {
          kind: "purchase",
          instance_id: instance.id,
          site: instance.site,
          months,
          unit_cents: price.unit_cents,
          amount_cents: price.unit_cents * months,
          period_start: now,
          period_end: instance.expires_at,
          idempotency_key: input.idempotencyKey,
        });
        await audit(ctx, tx, actor, "instance.purchase", instance.id, {
          ...input,
          orderId: order.id,
        });
        return { order, instance, balanceAfterCents, replayed: false };
      }),
  );
}
