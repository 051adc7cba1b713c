import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { Db } from "../store/db.js";
import { transaction } from "../store/db.js";
import { getInstance, insertInstance } from "../store/instances.js";
import { debit, getBalance, getChargeForOrder, insertLedgerEntry } from "../store/ledger.js";
import { getOrderByKey, insertOrder } from "../store/orders.js";
import { priceAt } from "../store/prices.js";
import { renewInstance } from "../store/renewals.js";
import { type InstanceRow, type OrderRow, type Site, siteSchema } from "../store/rows.js";
import { audit, requireAdmin } from "./admins.js";
import { type Actor, actorId, type BillingContext } from "./context.js";
import { BillingError } from "./errors.js";
import { oncePerKey } from "./idempotency.js";
import {
  checkPeriod,
  checkShownPrice,
  decideRenewal,
  type RenewInput,
  renewalPeriod,
  shortfall,
} from "./order-rules.js";

import { addMonths, isPeriod, type PeriodMonths } from "./periods.js";

export { type RenewInput, renewalPeriod };

export interface OrderResult {
  order: OrderRow;
  instance: InstanceRow;
  balanceAfterCents: number;
  /** True when the idempotency key had been used already: this is the earlier order. */
  replayed: boolean;
}

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
}

async function quoteWith(
  ctx: BillingContext,
  tx: Db,
  instance: InstanceRow,
  months: PeriodMonths,
): Promise<RenewalQuote> {
  const now = ctx.clock();
  const { start, end } = renewalPeriod(instance, now, months);
  const price = await priceAt({ tx }, instance.site, now);
  const amountCents = price.unit_cents * months;
  const balanceCents = await getBalance({ tx });
  return {
    instance,
    months,
    unitCents: price.unit_cents,
    amountCents,
    balanceCents,
    balanceAfterCents: balanceCents - amountCents,
    periodStart: start,
    periodEnd: end,
  };
}

/** What renewing `instanceId` for `months` would cost now, and what it would leave. */
export async function quoteRenewal(
  ctx: BillingContext,
  instanceId: string,
  months: number,
): Promise<RenewalQuote> {
  const period = checkPeriod(months);
  const instance = await getInstance({ tx: ctx.db }, instanceId);
  if (!instance) throw new BillingError({ code: "NOT_FOUND", entity: "instance", id: instanceId });
  return quoteWith(ctx, ctx.db, instance, period);
}

/** Debits the account and writes the order and its ledger line; the caller holds the transaction. */
async function charge(
  ctx: BillingContext,
  tx: Db,
  actor: Actor,
  order: Omit<OrderRow, "id" | "refunded_cents" | "created_by" | "created_at">,
): Promise<{ order: OrderRow; balanceAfterCents: number }> {
  const now = ctx.clock();
  const after = await debit({ tx }, order.amount_cents, now);
  if (after === undefined) throw shortfall(order.amount_cents, await getBalance({ tx }));
  const row = await insertOrder({ tx }, { ...order, created_by: actorId(actor), created_at: now });
  await insertLedgerEntry(
    { tx },
    {
      kind: order.kind,
      amount_cents: -order.amount_cents,
      balance_after_cents: after,
      order_id: row.id,
      instance_id: order.instance_id,
      actor: actorId(actor),
      idempotency_key: null,
      created_at: now,
    },
  );
  return { order: row, balanceAfterCents: after };
}

/** Looks up the order an idempotency key produced, checking it is the same request. */
async function replayOrder(
  ctx: BillingContext,
  key: string,
  matches: (order: OrderRow) => boolean,
): Promise<OrderResult | undefined> {
  const order = await getOrderByKey({ tx: ctx.db }, key);
  if (!order) return undefined;
  if (!matches(order)) throw new BillingError({ code: "IDEMPOTENCY_CONFLICT", key });
  const instance = await getInstance({ tx: ctx.db }, order.instance_id);
  const chargeLine = await getChargeForOrder({ tx: ctx.db }, order.id);
  if (!instance || !chargeLine)
    throw new Error(`order ${order.id} is missing its instance or ledger line`);
  return { order, instance, balanceAfterCents: chargeLine.balance_after_cents, replayed: true };
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
    const decide = decideRenewal(actor, input, months, now);
    let amountCents = 0;
    const outcome = await renewInstance(
      ctx.db,
      { instanceId: input.instanceId, at: now, key },
      (read) => {
        const decision = decide(read);
        if ("write" in decision) amountCents = decision.write.amount_cents;
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
      snoozed_until: null,
      updated_at: now,
    };
    return { order, instance, balanceAfterCents, replayed: false };
  };
  return oncePerKey(key, replay, run, { lookupFirst: false });
}

const SLACK_CHANNEL = /^[CGD][A-Z0-9]{2,}$/;
const SLACK_USER = /^[UW][A-Z0-9]{2,}$/;

export const purchaseInput = z.object({
  name: z
    .string()
    .trim()
    .min(1, "is missing")
    .max(200, "is longer than 200 characters")
    .refine((s) => !/\p{Cc}/u.test(s), "contains control characters"),
  site: siteSchema,
  months: z.number().int().refine(isPeriod, "is not a subscription period on sale"),
  channel: z.string().regex(SLACK_CHANNEL, "is not a Slack channel id").nullable().default(null),
  owner: z.string().regex(SLACK_USER, "is not a Slack user id").nullable().default(null),
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
          expires_at: addMonths(now, months),
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
