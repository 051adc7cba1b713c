// The Alibaba Cloud account through the official SDK over real HTTP against the fake BSS
// OpenAPI: fleet sync, balance, price, auto-renewal and bills, on SQLite and PostgreSQL.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type AccountDeps,
  accountBalance,
  quoteOnAccount,
  setAutoRenewOnAccount,
} from "../../src/alibaba/account.js";
import { accountBillCsv, accountMonthBill } from "../../src/alibaba/bills.js";
import { alibabaProvider } from "../../src/alibaba/provider.js";
import { renewOnAccount } from "../../src/alibaba/renew.js";
import { syncFleet } from "../../src/alibaba/sync.js";
import { isBillingError } from "../../src/billing/errors.js";
import { assignInstance } from "../../src/billing/instances.js";
import { getInstance, listInstances, updateInstance } from "../../src/store/instances.js";
import { accountFleet, fakeAccountDeps } from "../helpers/alibaba.js";
import { admin, billingContext, cliActor, member, T0 } from "../helpers/billing.js";
import { createTestDatabase, DATABASES, type TestDatabase } from "../helpers/databases.js";
import { type FakeBss, startFakeBss } from "../helpers/fake-bss.js";

const MONTHLY = 179_933; // USD 1,799.33: quotes like 5397.99 arrive as JSON numbers

describe.each(DATABASES)("Alibaba Cloud account (%s)", (dbId) => {
  let t: TestDatabase;
  let fake: FakeBss;
  let ctx: ReturnType<typeof billingContext>;
  let deps: AccountDeps;

  async function start(count: number, balanceCents = 10_000_000) {
    fake = await startFakeBss({
      instances: accountFleet(count, T0),
      balanceCents,
      monthlyCents: MONTHLY,
      now: () => ctx.clock(),
    });
    deps = fakeAccountDeps(fake);
  }

  beforeEach(async () => {
    t = await createTestDatabase(dbId);
    ctx = billingContext(t.db);
  });
  afterEach(async () => {
    await fake?.close();
    await t.destroy();
  });

  it("shows the account's fleet with no import: expiry from EndTime, named after the id", async () => {
    await start(3);
    const result = await syncFleet(ctx, deps, cliActor);
    expect(result.added).toEqual(["kst-0000", "kst-0001", "kst-0002"]);
    const rows = await listInstances({ tx: t.db });
    expect(rows.map((r) => [r.id, r.name, r.site, r.expires_at, r.auto_renew_months])).toEqual(
      [...fake.state.instances.values()].map((i) => [
        i.InstanceID,
        i.InstanceID,
        "international",
        i.endTime,
        null,
      ]),
    );
    const call = fake.callsOf("QueryAvailableInstances")[0];
    expect(call.params).toMatchObject({
      ProductCode: "kms",
      SubscriptionType: "Subscription",
      PageSize: "300",
    });
  });

  it("keeps the bot's own name, channel and owner across syncs and releases what the account dropped", async () => {
    await start(3);
    await syncFleet(ctx, deps, cliActor);
    await assignInstance(ctx, admin, "kst-0001", {
      channel: "C0PAY",
      owner: "U0OWNER1",
      name: "payments",
    });
    await expect(
      assignInstance(ctx, member, "kst-0000", { channel: "C0PAY", owner: "U0OWNER1" }),
    ).rejects.toSatisfy((e) => isBillingError(e, "FORBIDDEN"));
    fake.state.instances.delete("kst-0002");
    const again = await syncFleet(ctx, deps, cliActor);
    expect(again).toMatchObject({ added: [], updated: [], released: ["kst-0002"], unchanged: 2 });
    expect(again.changes).toEqual([
      "- kst-0002: released (no longer on the Alibaba Cloud account)",
    ]);
    expect(await getInstance({ tx: t.db }, "kst-0001")).toMatchObject({
      name: "payments",
      channel: "C0PAY",
      owner: "U0OWNER1",
    });
    expect((await getInstance({ tx: t.db }, "kst-0002"))?.released_at).toBe(T0);
  });

  it("pulls 1,000 instances over 4 pages of 300", async () => {
    await start(1_000);
    const result = await syncFleet(ctx, deps, cliActor);
    expect(result.added).toHaveLength(1_000);
    expect(fake.callsOf("QueryAvailableInstances").map((c) => c.params.PageNum)).toEqual([
      "1",
      "2",
      "3",
      "4",
    ]);
    expect(await listInstances({ tx: t.db })).toHaveLength(1_000);
  });

  it("picks up a renewal made in the console on the next sync", async () => {
    await start(2);
    await syncFleet(ctx, deps, cliActor);
    await updateInstance({ tx: t.db }, "kst-0000", {
      snoozed_until: T0 + 86_400_000,
      updated_at: T0,
    });
    fake.renewInConsole("kst-0000", 12);
    const result = await syncFleet(ctx, deps, cliActor);
    expect(result.updated).toEqual(["kst-0000"]);
    expect(result.changes[0]).toMatch(
      /^~ kst-0000: expiry 2026-01-20T12:00:00\+00:00 -> 2027-01-20T12:00:00\+00:00$/,
    );
    expect(await getInstance({ tx: t.db }, "kst-0000")).toMatchObject({
      expires_at: fake.state.instances.get("kst-0000")?.endTime,
      snoozed_until: null,
    });
  });

  it("refuses a sync by a member", async () => {
    await start(1);
    await expect(syncFleet(ctx, deps, member)).rejects.toSatisfy((e) =>
      isBillingError(e, "FORBIDDEN"),
    );
    expect(fake.calls).toHaveLength(0);
  });

  it("shows AvailableAmount, cached for seconds", async () => {
    await start(1, 123_456);
    expect(await accountBalance(ctx, deps)).toBe(123_456);
    fake.state.balanceCents = 99;
    expect(await accountBalance(ctx, deps)).toBe(123_456);
    ctx.clock.advance(31_000);
    expect(await accountBalance(ctx, deps)).toBe(99);
  });

  it("quotes the renewal with GetSubscriptionPrice, and falls back to the catalogue, labelled", async () => {
    await start(1);
    await syncFleet(ctx, deps, cliActor);
    const quote = await quoteOnAccount(ctx, deps, "kst-0000", 3);
    expect(quote).toMatchObject({
      source: "account",
      amountCents: 3 * MONTHLY,
      balanceCents: 10_000_000,
    });
    expect(fake.callsOf("GetSubscriptionPrice")[0].params).toMatchObject({
      OrderType: "Renewal",
      InstanceId: "kst-0000",
      ServicePeriodQuantity: "3",
      ServicePeriodUnit: "Month",
      SubscriptionType: "Subscription",
    });
    fake.failNext("GetSubscriptionPrice", {
      kind: "status",
      status: 503,
      code: "ServiceUnavailable",
    });
    const fallback = await quoteOnAccount(ctx, deps, "kst-0000", 3);
    expect(fallback).toMatchObject({ source: "catalogue", amountCents: 3 * 179_900 });
  });

  it("turns auto-renewal on and off with SetRenewal; a member who isn't the owner can't", async () => {
    await start(1);
    await syncFleet(ctx, deps, cliActor);
    await setAutoRenewOnAccount(ctx, deps, admin, "kst-0000", 12);
    expect(fake.state.instances.get("kst-0000")).toMatchObject({
      RenewStatus: "AutoRenewal",
      RenewalDuration: 1,
      RenewalDurationUnit: "Y",
    });
    expect((await getInstance({ tx: t.db }, "kst-0000"))?.auto_renew_months).toBe(12);
    await setAutoRenewOnAccount(ctx, deps, admin, "kst-0000", null);
    expect(fake.state.instances.get("kst-0000")?.RenewStatus).toBe("ManualRenewal");
    await expect(setAutoRenewOnAccount(ctx, deps, member, "kst-0000", 3)).rejects.toSatisfy((e) =>
      isBillingError(e, "FORBIDDEN"),
    );
    expect(fake.callsOf("SetRenewal")).toHaveLength(2);
    // The account's own setting comes back on sync.
    Object.assign(fake.state.instances.get("kst-0000") ?? {}, {
      RenewStatus: "AutoRenewal",
      RenewalDuration: 3,
      RenewalDurationUnit: "M",
    });
    expect((await syncFleet(ctx, deps, cliActor)).changes).toEqual([
      "~ kst-0000: auto-renewal off -> 3 months",
    ]);
  });

  it("bills: the account's lines for the month, tied to the bot's orders", async () => {
    await start(2);
    await syncFleet(ctx, deps, cliActor);
    const mine = await renewOnAccount(ctx, deps, admin, {
      instanceId: "kst-0000",
      months: 2,
      idempotencyKey: "bill-1",
    });
    fake.renewInConsole("kst-0001", 1);
    const bill = await accountMonthBill(ctx, deps, "2026-01");
    expect(
      bill.lines.map((l) => [l.instanceId, l.amountCents, l.orderId, l.accountOrderId, l.source]),
    ).toEqual([
      ["kst-0000", 2 * MONTHLY, mine.order.id, mine.order.account_order_id, "both"],
      ["kst-0001", MONTHLY, null, null, "account"],
    ]);
    expect(bill.totals.chargedCents).toBe(3 * MONTHLY);
    expect(fake.callsOf("QueryInstanceBill")[0].params).toMatchObject({
      BillingCycle: "2026-01",
      ProductCode: "kms",
    });
    expect(accountBillCsv(bill).split("\r\n")[1]).toBe(
      `2026-01,2026-01-10,ORD-${String(mine.order.id).padStart(6, "0")},${mine.order.account_order_id},SubscriptionOrder,kst-0000,2,3598.66,both`,
    );
  });

  it("the unsubscribe estimate: the seed's rule over the bot's orders and the account's expiry, marked as an estimate", async () => {
    await start(1);
    await syncFleet(ctx, deps, cliActor);
    const provider = alibabaProvider(deps);
    const order = await renewOnAccount(ctx, deps, admin, {
      instanceId: "kst-0000",
      months: 2,
      idempotencyKey: "u-1",
    });
    fake.renewInConsole("kst-0000", 1); // the account's expiry moves on; the estimate re-reads it
    const estimate = await provider.estimateRefund(ctx, "kst-0000");
    expect(estimate).toMatchObject({
      estimate: true,
      totalCents: 2 * MONTHLY,
      outcome: "runs_to_expiry",
    });
    expect(estimate.lines).toEqual([
      expect.objectContaining({
        orderId: order.order.id,
        kind: "pending_renewal",
        cents: 2 * MONTHLY,
      }),
    ]);
    expect(estimate.expiresAfter).toBe(order.order.period_start);
    expect((await getInstance({ tx: t.db }, "kst-0000"))?.expires_at).toBe(
      fake.state.instances.get("kst-0000")?.endTime,
    );
  });
});
