import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { balance, topup } from "../../src/billing/account.js";
import { addAdmin, listAdmins, removeAdmin } from "../../src/billing/admins.js";
import { billCsv, monthBill } from "../../src/billing/bills.js";
import type { BillingContext } from "../../src/billing/context.js";
import { isBillingError } from "../../src/billing/errors.js";
import {
  disableInstance,
  enableInstance,
  instanceView,
  setAutoRenew,
} from "../../src/billing/instances.js";
import { purchase, quoteRenewal, renew } from "../../src/billing/orders.js";
import { currentPrices, setPrice } from "../../src/billing/prices.js";
import { estimateRefund, unsubscribe } from "../../src/billing/refunds.js";
import { listAudit } from "../../src/store/audit.js";
import { getInstance } from "../../src/store/instances.js";
import { ledgerSum } from "../../src/store/ledger.js";
import { listOrders } from "../../src/store/orders.js";
import {
  ADMIN,
  admin,
  billingContext,
  cliActor,
  DAY_MS,
  fund,
  MEMBER,
  member,
  seedInstance,
  T0,
  type TestClock,
} from "../helpers/billing.js";
import { createTestDatabase, DATABASES, type TestDatabase } from "../helpers/databases.js";

const INTL = 179_900;
const CHINA = 239_900;

async function expectRefusal(promise: Promise<unknown>, code: string): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isBillingError(error), `expected a ${code} refusal, got ${String(error)}`).toBe(true);
  expect((error as { code: string }).code).toBe(code);
  return error as Error;
}

describe.each(DATABASES)("billing core on %s", (dbId) => {
  let t: TestDatabase;
  let ctx: BillingContext & { clock: TestClock };

  beforeEach(async () => {
    t = await createTestDatabase(dbId);
    ctx = billingContext(t.db);
  });
  afterEach(async () => {
    await t.destroy();
  });

  describe("prices", () => {
    it("starts from the list prices of the billing page", async () => {
      const prices = await currentPrices(ctx);
      expect(prices.international.unit_cents).toBe(INTL);
      expect(prices.china.unit_cents).toBe(CHINA);
    });

    it("applies an admin's price change from now on, keeping what earlier orders paid", async () => {
      await fund(ctx, 10_000_000);
      await seedInstance(t.db, { id: "kst-a" });
      const first = await renew(ctx, member, { instanceId: "kst-a", months: 1 });
      ctx.clock.advance(1000);
      await setPrice(ctx, admin, "international", 150_000);
      const second = await renew(ctx, member, { instanceId: "kst-a", months: 2 });
      expect(first.order.unit_cents).toBe(INTL);
      expect(second.order.unit_cents).toBe(150_000);
      expect(second.order.amount_cents).toBe(300_000);
      const orders = await listOrders({ tx: t.db }, "kst-a");
      expect(orders.map((o) => o.unit_cents)).toEqual([INTL, 150_000]);
      expect((await currentPrices(ctx)).china.unit_cents).toBe(CHINA);
    });

    it("lets only admins change prices", async () => {
      const error = await expectRefusal(setPrice(ctx, member, "china", 1), "FORBIDDEN");
      expect(error.message).toContain(`<@${ADMIN}>`);
      expect((await currentPrices(ctx)).china.unit_cents).toBe(CHINA);
    });
  });

  describe("balance and recharges", () => {
    it("keeps the balance equal to the ledger sum", async () => {
      await topup(ctx, admin, 500_000);
      await topup(ctx, cliActor, 1);
      expect(await balance(ctx)).toBe(500_001);
      expect(await ledgerSum({ tx: t.db })).toBe(500_001);
    });

    it("refuses top-ups from members and of non-positive amounts", async () => {
      await expectRefusal(topup(ctx, member, 100), "FORBIDDEN");
      await expectRefusal(topup(ctx, admin, 0), "INVALID_INPUT");
      await expectRefusal(topup(ctx, admin, -5), "INVALID_INPUT");
      expect(await balance(ctx)).toBe(0);
    });

    it("applies a top-up once per idempotency key", async () => {
      const a = await topup(ctx, admin, 1000, "topup-1");
      const b = await topup(ctx, admin, 1000, "topup-1");
      expect(b.replayed).toBe(true);
      expect(b.entry.id).toBe(a.entry.id);
      expect(await balance(ctx)).toBe(1000);
      await expectRefusal(topup(ctx, admin, 2000, "topup-1"), "IDEMPOTENCY_CONFLICT");
    });

    it("refuses, in the schema itself, a balance below zero", async () => {
      await expect(t.db("accounts").update({ balance_cents: -1 })).rejects.toThrow();
      await expect(
        t.db("ledger").insert({
          account_id: "default",
          kind: "recharge",
          amount_cents: 5,
          balance_after_cents: -1,
          actor: "x",
          created_at: 0,
        }),
      ).rejects.toThrow();
    });
  });

  describe("purchase", () => {
    it("buys an instance active from now at the site's price", async () => {
      await fund(ctx, 1_000_000);
      const result = await purchase(ctx, admin, {
        name: "payments-hsm",
        site: "china",
        months: 3,
        channel: "C0PAYMENTS",
        owner: MEMBER,
      });
      expect(result.order.amount_cents).toBe(3 * CHINA);
      expect(result.balanceAfterCents).toBe(1_000_000 - 3 * CHINA);
      expect(result.instance.expires_at).toBe(Date.UTC(2026, 3, 10, 12, 0, 0));
      const view = await instanceView(ctx, result.instance.id);
      expect(view.lifecycle.state).toBe("active");
      expect(view.instance.owner).toBe(MEMBER);
      expect(result.instance.id).toMatch(/^kst-[a-z0-9]{17}$/);
    });

    it("refuses members, bad input and an uncovered price, writing nothing", async () => {
      await fund(ctx, 100);
      await expectRefusal(
        purchase(ctx, member, { name: "x", site: "china", months: 1 }),
        "FORBIDDEN",
      );
      await expectRefusal(
        purchase(ctx, admin, { name: "x", site: "china", months: 10 }),
        "INVALID_INPUT",
      );
      await expectRefusal(
        purchase(ctx, admin, { name: " ", site: "china", months: 1 }),
        "INVALID_INPUT",
      );
      const error = await expectRefusal(
        purchase(ctx, admin, { name: "x", site: "china", months: 1 }),
        "INSUFFICIENT_BALANCE",
      );
      expect(error.message).toContain("short by USD 2,398.00");
      expect(await t.db("instances").count({ n: "*" }).first()).toMatchObject({
        n: expect.anything(),
      });
      expect(Number((await t.db("instances").count({ n: "*" }).first())?.n)).toBe(0);
      expect(await balance(ctx)).toBe(100);
    });
  });

  describe("renewal", () => {
    it("extends an active instance from its current expiry by calendar months", async () => {
      await fund(ctx, 10_000_000);
      await seedInstance(t.db, { id: "kst-a", expires_at: Date.UTC(2026, 0, 31, 0, 0, 0) });
      const r = await renew(ctx, member, { instanceId: "kst-a", months: 1 });
      expect(r.order.period_start).toBe(Date.UTC(2026, 0, 31));
      expect(r.instance.expires_at).toBe(Date.UTC(2026, 1, 28));
      const y = await renew(ctx, member, { instanceId: "kst-a", months: 12 });
      expect(y.instance.expires_at).toBe(Date.UTC(2027, 1, 28));
      expect(y.order.amount_cents).toBe(12 * INTL);
    });

    it("restarts an expired (not released) instance from now and makes it active at once", async () => {
      await fund(ctx, 10_000_000);
      await seedInstance(t.db, { id: "kst-a", expires_at: T0 - 3 * DAY_MS });
      expect((await instanceView(ctx, "kst-a")).lifecycle.state).toBe("disabled");
      const r = await renew(ctx, member, { instanceId: "kst-a", months: 2 });
      expect(r.order.period_start).toBe(T0);
      expect(r.instance.expires_at).toBe(Date.UTC(2026, 2, 10, 12, 0, 0));
      expect((await instanceView(ctx, "kst-a")).lifecycle.state).toBe("active");
    });

    it("extends an admin-disabled instance from its expiry and leaves it disabled", async () => {
      await fund(ctx, 10_000_000);
      await seedInstance(t.db, { id: "kst-a", expires_at: T0 + 5 * DAY_MS });
      await disableInstance(ctx, admin, "kst-a");
      const r = await renew(ctx, member, { instanceId: "kst-a", months: 1 });
      expect(r.order.period_start).toBe(T0 + 5 * DAY_MS);
      const view = await instanceView(ctx, "kst-a");
      expect(view.lifecycle).toMatchObject({ state: "disabled", reason: "admin" });
    });

    it("refuses a released instance, an unknown one and an uncovered price, changing nothing", async () => {
      await fund(ctx, 100_000);
      await seedInstance(t.db, { id: "kst-old", expires_at: T0 - 15 * DAY_MS });
      await seedInstance(t.db, { id: "kst-a" });
      await expectRefusal(
        renew(ctx, member, { instanceId: "kst-old", months: 1 }),
        "INSTANCE_RELEASED",
      );
      await expectRefusal(renew(ctx, member, { instanceId: "kst-nope", months: 1 }), "NOT_FOUND");
      const e = await expectRefusal(
        renew(ctx, member, { instanceId: "kst-a", months: 1 }),
        "INSUFFICIENT_BALANCE",
      );
      expect(e.message).toContain("short by USD 799.00");
      expect((await getInstance({ tx: t.db }, "kst-a"))?.expires_at).toBe(T0 + 30 * DAY_MS);
      expect(await balance(ctx)).toBe(100_000);
      expect(await listOrders({ tx: t.db }, "kst-a")).toEqual([]);
    });

    it("quotes what the renewal costs and leaves", async () => {
      await fund(ctx, 200_000);
      await seedInstance(t.db, { id: "kst-a" });
      const q = await quoteRenewal(ctx, "kst-a", 2);
      expect(q).toMatchObject({
        amountCents: 2 * INTL,
        balanceCents: 200_000,
        balanceAfterCents: 200_000 - 2 * INTL,
      });
    });

    it("charges once for a request retried with the same idempotency key, even concurrently", async () => {
      await fund(ctx, 10_000_000);
      await seedInstance(t.db, { id: "kst-a" });
      const other = billingContext(t.another(), T0);
      const results = await Promise.all([
        renew(ctx, member, { instanceId: "kst-a", months: 1, idempotencyKey: "view-1" }),
        renew(other, member, { instanceId: "kst-a", months: 1, idempotencyKey: "view-1" }),
        renew(ctx, member, { instanceId: "kst-a", months: 1, idempotencyKey: "view-1" }),
      ]);
      expect(new Set(results.map((r) => r.order.id)).size).toBe(1);
      expect(results.filter((r) => !r.replayed)).toHaveLength(1);
      expect(await balance(ctx)).toBe(10_000_000 - INTL);
      expect(await listOrders({ tx: t.db }, "kst-a")).toHaveLength(1);
      await expectRefusal(
        renew(ctx, member, { instanceId: "kst-a", months: 2, idempotencyKey: "view-1" }),
        "IDEMPOTENCY_CONFLICT",
      );
    });
  });

  describe("disable, enable and auto-renew", () => {
    it("disables an active instance without moving its expiry, and enables it again", async () => {
      await seedInstance(t.db, { id: "kst-a" });
      await expectRefusal(disableInstance(ctx, member, "kst-a"), "FORBIDDEN");
      const disabled = await disableInstance(ctx, admin, "kst-a");
      expect(disabled.lifecycle).toMatchObject({
        state: "disabled",
        reason: "admin",
        expiresAt: T0 + 30 * DAY_MS,
      });
      await expectRefusal(disableInstance(ctx, admin, "kst-a"), "INVALID_STATE");
      expect((await enableInstance(ctx, admin, "kst-a")).lifecycle.state).toBe("active");
      await expectRefusal(enableInstance(ctx, admin, "kst-a"), "INVALID_STATE");
    });

    it("lets the owner or an admin set auto-renewal, nobody else", async () => {
      await seedInstance(t.db, { id: "kst-a", owner: MEMBER });
      await seedInstance(t.db, { id: "kst-b" });
      expect((await setAutoRenew(ctx, member, "kst-a", 3)).instance.auto_renew_months).toBe(3);
      const e = await expectRefusal(setAutoRenew(ctx, member, "kst-b", 3), "FORBIDDEN");
      expect(e.message).toContain("owner");
      expect((await setAutoRenew(ctx, admin, "kst-b", 12)).instance.auto_renew_months).toBe(12);
      expect((await setAutoRenew(ctx, admin, "kst-b", null)).instance.auto_renew_months).toBeNull();
      await expectRefusal(setAutoRenew(ctx, admin, "kst-b", 10), "INVALID_INPUT");
    });
  });

  describe("unsubscription refunds", () => {
    it("refunds an active instance's pending renewals in full and rolls its expiry back", async () => {
      await fund(ctx, 10_000_000);
      const bought = await purchase(ctx, admin, { name: "a", site: "international", months: 1 });
      const id = bought.instance.id;
      await setAutoRenew(ctx, admin, id, 1);
      ctx.clock.advance(DAY_MS);
      await renew(ctx, member, { instanceId: id, months: 2 });
      await renew(ctx, member, { instanceId: id, months: 1 });
      const estimate = await estimateRefund(ctx, id);
      expect(estimate.lines.map((l) => [l.kind, l.cents])).toEqual([
        ["pending_renewal", 2 * INTL],
        ["pending_renewal", INTL],
      ]);
      expect(estimate.outcome).toBe("runs_to_expiry");
      const before = await balance(ctx);
      const done = await unsubscribe(ctx, admin, id);
      expect(done.refund.totalCents).toBe(estimate.totalCents);
      expect(await balance(ctx)).toBe(before + 3 * INTL);
      const view = await instanceView(ctx, id);
      expect(view.instance.expires_at).toBe(bought.instance.expires_at);
      expect(view.instance.auto_renew_months).toBeNull();
      expect(view.lifecycle.state).toBe("active");
      // Nothing is refunded twice.
      expect((await estimateRefund(ctx, id)).totalCents).toBe(0);
    });

    it("refunds a disabled instance the unused share of its paid period, by the second, and releases it", async () => {
      await fund(ctx, 10_000_000);
      const bought = await purchase(ctx, admin, { name: "a", site: "international", months: 1 });
      const id = bought.instance.id;
      const period = bought.instance.expires_at - T0;
      ctx.clock.advance(10 * DAY_MS + 1234);
      await disableInstance(ctx, admin, id);
      const unused = Math.floor((bought.instance.expires_at - ctx.clock()) / 1000);
      const expected = Math.floor((INTL * unused) / (period / 1000));
      const estimate = await estimateRefund(ctx, id);
      expect(estimate.lines).toEqual([
        expect.objectContaining({ kind: "unused_period", cents: expected }),
      ]);
      expect(estimate.outcome).toBe("released");
      const done = await unsubscribe(ctx, admin, id);
      expect(done.refund.totalCents).toBe(expected);
      expect((await instanceView(ctx, id)).lifecycle.state).toBe("released");
      await expectRefusal(renew(ctx, member, { instanceId: id, months: 1 }), "INSTANCE_RELEASED");
      await expectRefusal(unsubscribe(ctx, admin, id), "INSTANCE_RELEASED");
    });

    it("refunds a disabled instance both its pending renewals and its unused time", async () => {
      await fund(ctx, 10_000_000);
      const bought = await purchase(ctx, admin, { name: "a", site: "china", months: 1 });
      const id = bought.instance.id;
      ctx.clock.advance(DAY_MS);
      await renew(ctx, member, { instanceId: id, months: 3 });
      await disableInstance(ctx, admin, id);
      const estimate = await estimateRefund(ctx, id);
      expect(estimate.lines.map((l) => l.kind).sort()).toEqual([
        "pending_renewal",
        "unused_period",
      ]);
      expect(estimate.lines.find((l) => l.kind === "pending_renewal")?.cents).toBe(3 * CHINA);
      const before = await balance(ctx);
      const done = await unsubscribe(ctx, admin, id);
      expect(await balance(ctx)).toBe(before + estimate.totalCents);
      expect(done.balanceAfterCents).toBe(before + estimate.totalCents);
    });

    it("refunds nothing for an expired instance, or one whose period was not paid here, and says why", async () => {
      await seedInstance(t.db, { id: "kst-expired", expires_at: T0 - DAY_MS });
      await seedInstance(t.db, { id: "kst-imported" });
      await disableInstance(ctx, admin, "kst-imported");
      const expired = await estimateRefund(ctx, "kst-expired");
      expect(expired.totalCents).toBe(0);
      expect(expired.nothingBecause).toMatch(/expired/);
      const imported = await estimateRefund(ctx, "kst-imported");
      expect(imported.totalCents).toBe(0);
      expect(imported.nothingBecause).toMatch(/not paid through kms-bot/);
      await seedInstance(t.db, { id: "kst-active" });
      expect((await estimateRefund(ctx, "kst-active")).nothingBecause).toMatch(/pending renewal/);
    });

    it("lets only admins execute an unsubscription", async () => {
      await seedInstance(t.db, { id: "kst-a" });
      await expectRefusal(unsubscribe(ctx, member, "kst-a"), "FORBIDDEN");
    });
  });

  describe("bills", () => {
    it("lists every money movement of a month as a bill line with totals, and exports CSV", async () => {
      await topup(ctx, admin, 1_000_000);
      await seedInstance(t.db, { id: "kst-a", expires_at: Date.UTC(2026, 1, 1) });
      const r = await renew(ctx, member, { instanceId: "kst-a", months: 1 });
      ctx.clock.set(Date.UTC(2026, 1, 3));
      await topup(ctx, admin, 5);
      const jan = await monthBill(ctx, "2026-01");
      expect(jan.lines.map((l) => [l.item, l.amountCents, l.balanceAfterCents])).toEqual([
        ["Recharge", 1_000_000, 1_000_000],
        ["Renewal", -INTL, 1_000_000 - INTL],
      ]);
      expect(jan.totals).toEqual({
        chargedCents: INTL,
        refundedCents: 0,
        rechargedCents: 1_000_000,
        netCents: 1_000_000 - INTL,
      });
      expect((await monthBill(ctx, "2026-02")).lines).toHaveLength(1);
      const csv = billCsv(jan, "UTC");
      const lines = csv.split("\r\n");
      expect(lines[0]).toBe(
        "billing_cycle,time,order_id,item,instance_id,site,period_start,period_end,months,unit_price_usd,amount_usd,balance_after_usd",
      );
      expect(lines[2]).toBe(
        `2026-01,2026-01-10T12:00:00+00:00,ORD-${String(r.order.id).padStart(6, "0")},Renewal,kst-a,international,2026-02-01T00:00:00+00:00,2026-03-01T00:00:00+00:00,1,1799.00,-1799.00,8201.00`,
      );
      await expectRefusal(monthBill(ctx, "2026-13"), "INVALID_INPUT");
    });

    it("puts a movement in the billing cycle of KMS_TIMEZONE", async () => {
      const tokyo = { ...ctx, timezone: "Asia/Tokyo" };
      ctx.clock.set(Date.UTC(2026, 0, 31, 16, 0, 0)); // 1 February, 01:00 in Tokyo
      await topup(tokyo, admin, 100);
      expect((await monthBill(tokyo, "2026-02")).lines).toHaveLength(1);
      expect((await monthBill(tokyo, "2026-01")).lines).toHaveLength(0);
      expect((await monthBill(ctx, "2026-01")).lines).toHaveLength(1);
      expect(billCsv(await monthBill(tokyo, "2026-02"), "Asia/Tokyo")).toContain(
        "2026-02,2026-02-01T01:00:00+09:00",
      );
    });
  });

  describe("admins and audit", () => {
    it("lists env admins first, adds and removes Slack-added admins, keeps env admins", async () => {
      await expectRefusal(addAdmin(ctx, member, "UNEW00001"), "FORBIDDEN");
      expect(await addAdmin(ctx, admin, "UNEW00001")).toBe(true);
      expect(await addAdmin(ctx, admin, "UNEW00001")).toBe(false);
      expect(await listAdmins(ctx, ctx.db)).toEqual([ADMIN, "UNEW00001"]);
      await expectRefusal(removeAdmin(ctx, admin, ADMIN), "INVALID_INPUT");
      await removeAdmin(ctx, admin, "UNEW00001");
      await expectRefusal(removeAdmin(ctx, admin, "UNEW00001"), "NOT_FOUND");
      await expectRefusal(addAdmin(ctx, admin, "not-a-user"), "INVALID_INPUT");
    });

    it("records who did what, when and with which inputs for every mutation", async () => {
      await topup(ctx, admin, 1_000_000);
      await seedInstance(t.db, { id: "kst-a" });
      await renew(ctx, member, { instanceId: "kst-a", months: 3, idempotencyKey: "k1" });
      await setPrice(ctx, admin, "china", 250_000);
      const entries = (await listAudit({ tx: t.db })).reverse();
      expect(entries.map((e) => [e.actor, e.action, e.subject])).toEqual([
        [ADMIN, "account.topup", null],
        [MEMBER, "instance.renew", "kst-a"],
        [ADMIN, "price.set", "china"],
      ]);
      expect(JSON.parse(entries[1].inputs)).toMatchObject({ months: 3, idempotencyKey: "k1" });
      expect(entries[1].at).toBe(T0);
    });

    it("writes no audit entry for a refused mutation", async () => {
      await seedInstance(t.db, { id: "kst-a" });
      await expectRefusal(
        renew(ctx, member, { instanceId: "kst-a", months: 1 }),
        "INSUFFICIENT_BALANCE",
      );
      expect(await listAudit({ tx: t.db })).toEqual([]);
    });
  });
});
