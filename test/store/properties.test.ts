import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { balance, topup } from "../../src/billing/account.js";
import { monthBill } from "../../src/billing/bills.js";
import type { BillingContext } from "../../src/billing/context.js";
import { isBillingError } from "../../src/billing/errors.js";
import { disableInstance, fleet, fleetCounts } from "../../src/billing/instances.js";
import { DAY_MS } from "../../src/billing/lifecycle.js";
import { purchase, renew } from "../../src/billing/orders.js";
import { addMonths, PERIOD_MONTHS } from "../../src/billing/periods.js";
import { setPrice } from "../../src/billing/prices.js";
import { estimateRefund, unsubscribe } from "../../src/billing/refunds.js";
import { billingCycle } from "../../src/billing/time.js";
import { ledgerSum } from "../../src/store/ledger.js";
import { admin, billingContext, member, T0, type TestClock } from "../helpers/billing.js";
import { createTestDatabase, DATABASES } from "../helpers/databases.js";

// Random sequences of recharges, purchases, renewals, disables, unsubscriptions, price
// changes and clock moves, checked against a small independent model after every step.

type Command =
  | { kind: "recharge"; cents: number }
  | { kind: "purchase"; site: "international" | "china"; months: number }
  | { kind: "renew"; pick: number; months: number }
  | { kind: "disable"; pick: number }
  | { kind: "unsubscribe"; pick: number }
  | { kind: "price"; site: "international" | "china"; cents: number }
  | { kind: "advance"; ms: number };

const site = fc.constantFrom("international" as const, "china" as const);
const months = fc.constantFrom(...PERIOD_MONTHS);
const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("recharge" as const),
      cents: fc.integer({ min: 1, max: 8_000_000 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("purchase" as const), site, months }) },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant("renew" as const), pick: fc.nat(), months }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("disable" as const), pick: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("unsubscribe" as const), pick: fc.nat() }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("price" as const),
      site,
      cents: fc.integer({ min: 1, max: 500_000 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("advance" as const),
      ms: fc.integer({ min: 1, max: 60 * DAY_MS }),
    }),
  },
);

// Every run starts with money and one instance, so the interesting paths are reached often.
const START: Command[] = [
  { kind: "recharge", cents: 5_000_000 },
  { kind: "purchase", site: "international", months: 1 },
];

interface ModelInstance {
  id: string;
  site: "international" | "china";
  expiresAt: number;
  /** Periods end on this instant's day of month and time of day. */
  anniversary: number;
  adminDisabled: boolean;
  releasedAt: number | null;
}

interface Model {
  balance: number;
  price: Record<"international" | "china", number>;
  instances: ModelInstance[];
  paidPerOrder: Map<number, number>;
}

function modelState(i: ModelInstance, now: number): "active" | "disabled" | "released" {
  if ((i.releasedAt !== null && i.releasedAt <= now) || now >= i.expiresAt + 15 * DAY_MS)
    return "released";
  if (now >= i.expiresAt || i.adminDisabled) return "disabled";
  return "active";
}

async function refusedWith<T>(promise: Promise<T>): Promise<T | string> {
  try {
    return await promise;
  } catch (error) {
    if (isBillingError(error)) return error.code;
    throw error;
  }
}

async function step(
  ctx: BillingContext & { clock: TestClock },
  model: Model,
  c: Command,
): Promise<void> {
  const now = ctx.clock();
  const pick = (n: number) => model.instances[n % Math.max(1, model.instances.length)];
  switch (c.kind) {
    case "recharge":
      await topup(ctx, admin, c.cents);
      model.balance += c.cents;
      return;
    case "price":
      await setPrice(ctx, admin, c.site, c.cents);
      model.price[c.site] = c.cents;
      return;
    case "advance":
      ctx.clock.advance(c.ms);
      return;
    case "purchase": {
      const cost = model.price[c.site] * c.months;
      const r = await refusedWith(
        purchase(ctx, admin, { name: "p", site: c.site, months: c.months }),
      );
      if (cost > model.balance) {
        expect(r).toBe("INSUFFICIENT_BALANCE");
        return;
      }
      if (typeof r === "string") throw new Error(`purchase refused: ${r}`);
      expect(r.order.amount_cents).toBe(cost);
      model.balance -= cost;
      model.paidPerOrder.set(r.order.id, cost);
      model.instances.push({
        id: r.instance.id,
        site: c.site,
        expiresAt: addMonths(now, c.months),
        anniversary: now,
        adminDisabled: false,
        releasedAt: null,
      });
      return;
    }
    case "renew": {
      const i = pick(c.pick);
      if (!i) return;
      const cost = model.price[i.site] * c.months;
      const r = await refusedWith(renew(ctx, member, { instanceId: i.id, months: c.months }));
      if (modelState(i, now) === "released") {
        expect(r).toBe("INSTANCE_RELEASED");
        return;
      }
      if (cost > model.balance) {
        expect(r).toBe("INSUFFICIENT_BALANCE");
        return;
      }
      if (typeof r === "string") throw new Error(`renewal refused: ${r}`);
      model.balance -= cost;
      model.paidPerOrder.set(r.order.id, cost);
      // A lapsed subscription starts again now, with now as its anniversary.
      if (now >= i.expiresAt) i.anniversary = now;
      i.expiresAt = addMonths(Math.max(now, i.expiresAt), c.months, "UTC", i.anniversary);
      return;
    }
    case "disable": {
      const i = pick(c.pick);
      if (!i) return;
      const r = await refusedWith(disableInstance(ctx, admin, i.id));
      const state = modelState(i, now);
      if (state === "active") {
        expect(typeof r).not.toBe("string");
        i.adminDisabled = true;
      } else {
        expect(r).toBe(state === "released" ? "INSTANCE_RELEASED" : "INVALID_STATE");
      }
      return;
    }
    case "unsubscribe": {
      const i = pick(c.pick);
      if (!i) return;
      const state = modelState(i, now);
      if (state === "released") {
        expect(await refusedWith(unsubscribe(ctx, admin, i.id))).toBe("INSTANCE_RELEASED");
        return;
      }
      const estimate = await estimateRefund(ctx, i.id);
      const done = await unsubscribe(ctx, admin, i.id);
      expect(done.refund.totalCents).toBe(estimate.totalCents);
      model.balance += done.refund.totalCents;
      if (state === "disabled") i.releasedAt = now;
      else i.expiresAt = done.refund.expiresAfter;
      return;
    }
  }
}

async function checkInvariants(ctx: BillingContext, model: Model): Promise<void> {
  const now = ctx.clock();
  const cached = await balance(ctx);
  expect(cached).toBe(model.balance);
  expect(cached).toBeGreaterThanOrEqual(0);
  expect(await ledgerSum({ tx: ctx.db })).toBe(cached);

  // Refunds never exceed what an order paid, and each order's refunds are all in the ledger.
  const refunds: { order_id: number; total: number }[] = await ctx
    .db("ledger")
    .where({ kind: "refund" })
    .groupBy("order_id")
    .select("order_id", ctx.db.raw("sum(amount_cents) as total"));
  for (const r of refunds) {
    const paid = model.paidPerOrder.get(Number(r.order_id)) ?? 0;
    expect(Number(r.total)).toBeLessThanOrEqual(paid);
    const order = await ctx.db("orders").where({ id: r.order_id }).first();
    expect(Number(order.refunded_cents)).toBe(Number(r.total));
  }

  // Every money movement has exactly one bill line, in the billing cycle of its time.
  const ledger = await ctx.db("ledger").orderBy("id");
  const months = [...new Set(ledger.map((l) => billingCycle(Number(l.created_at), ctx.timezone)))];
  const lines = (await Promise.all(months.map((m) => monthBill(ctx, m)))).flatMap((b) => b.lines);
  expect(lines.map((l) => l.ledgerId)).toEqual(ledger.map((l) => Number(l.id)));

  // Each instance's state matches the lifecycle rule applied to the model.
  const all = await fleet(ctx);
  const views = new Map(all.map((v) => [v.instance.id, v]));
  // The database's own counts (used by /kms status) agree with the lifecycle rule.
  const count = (state: string) => all.filter((v) => v.lifecycle.state === state).length;
  expect(await fleetCounts(ctx)).toEqual({
    total: all.length,
    active: count("active"),
    disabled: count("disabled"),
    released: count("released"),
  });
  for (const i of model.instances) {
    const view = views.get(i.id);
    expect(view?.lifecycle.state, i.id).toBe(modelState(i, now));
    if (modelState(i, now) !== "released") expect(view?.instance.expires_at).toBe(i.expiresAt);
  }
}

describe.each(DATABASES)("billing invariants on %s", (dbId) => {
  it("hold over random sequences of operations and clock moves", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 25 }), async (commands) => {
        const t = await createTestDatabase(dbId);
        try {
          const ctx = billingContext(t.db, T0);
          const model: Model = {
            balance: 0,
            price: { international: 179_900, china: 239_900 },
            instances: [],
            paidPerOrder: new Map(),
          };
          for (const c of [...START, ...commands]) {
            await step(ctx, model, c);
            await checkInvariants(ctx, model);
          }
        } finally {
          await t.destroy();
        }
      }),
      { numRuns: dbId === "sqlite" ? 80 : 25 },
    );
  }, 120_000);
});
