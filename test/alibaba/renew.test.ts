// Renewing on the Alibaba Cloud account: one RenewInstance per request whatever happens
// (double submit, two replicas, 5xx, timeout, throttling), nothing paid on a refusal.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type AccountDeps, accountBalance } from "../../src/alibaba/account.js";
import { renewOnAccount, retrySubmitted } from "../../src/alibaba/renew.js";
import { syncFleet } from "../../src/alibaba/sync.js";
import type { BillingContext } from "../../src/billing/context.js";
import { BillingError, isBillingError } from "../../src/billing/errors.js";
import { getInstance } from "../../src/store/instances.js";
import { listOrdersByStatus } from "../../src/store/orders.js";
import { accountFleet, fakeAccountDeps } from "../helpers/alibaba.js";
import { admin, billingContext, cliActor, T0 } from "../helpers/billing.js";
import { createTestDatabase, DATABASES, type TestDatabase } from "../helpers/databases.js";
import { type FakeBss, startFakeBss } from "../helpers/fake-bss.js";

const MONTHLY = 179_900;
const ID = "kst-0000";

describe.each(DATABASES)("renewing on the Alibaba Cloud account (%s)", (dbId) => {
  let t: TestDatabase;
  let fake: FakeBss;
  let ctx: ReturnType<typeof billingContext>;
  let deps: AccountDeps;

  beforeEach(async () => {
    t = await createTestDatabase(dbId);
    ctx = billingContext(t.db);
    fake = await startFakeBss({
      instances: accountFleet(2, T0),
      balanceCents: 1_000_000,
      monthlyCents: MONTHLY,
      now: () => ctx.clock(),
    });
    deps = fakeAccountDeps(fake);
    await syncFleet(ctx, deps, cliActor);
  });
  afterEach(async () => {
    await fake.close();
    await t.destroy();
  });

  const renewals = () => fake.state.orders.filter((o) => o.via === "api");
  const paid = async (db = t.db) => listOrdersByStatus({ tx: db }, "paid");
  const renew = (key: string, months = 3, c: BillingContext = ctx, d = deps) =>
    renewOnAccount(c, d, admin, { instanceId: ID, months, idempotencyKey: key });

  it("renews once with a ClientToken and records the account's OrderId, amount and new expiry", async () => {
    expect(await accountBalance(ctx, deps)).toBe(1_000_000); // cached now
    const before = fake.state.instances.get(ID)?.endTime ?? 0;
    const result = await renew("view-1");
    const [call] = fake.callsOf("RenewInstance");
    expect(call.params).toMatchObject({ ProductCode: "kms", InstanceId: ID, RenewPeriod: "3" });
    expect(call.params.ClientToken).toMatch(/^[\x20-\x7e]{1,64}$/);
    expect(result.order).toMatchObject({
      status: "paid",
      account_order_id: renewals()[0].OrderId,
      amount_cents: 3 * MONTHLY,
      client_token: call.params.ClientToken,
    });
    const after = fake.state.instances.get(ID)?.endTime;
    expect(after).toBeGreaterThan(before);
    expect(result.instance.expires_at).toBe(after);
    expect((await getInstance({ tx: t.db }, ID))?.expires_at).toBe(after);
    // Never stale after the bot's own renewal.
    expect(result.balanceAfterCents).toBe(1_000_000 - 3 * MONTHLY);
    expect(await accountBalance(ctx, deps)).toBe(1_000_000 - 3 * MONTHLY);
  });

  it("a double submit renews once and answers the first order", async () => {
    const first = await renew("view-2");
    const second = await renew("view-2");
    expect(second).toMatchObject({ replayed: true, order: { id: first.order.id } });
    expect(renewals()).toHaveLength(1);
    expect(fake.callsOf("RenewInstance")).toHaveLength(1);
    expect(await paid()).toHaveLength(1);
  });

  it("two replicas renewing with one key at once renew once", async () => {
    const other = { ...ctx, db: t.another() };
    const results = await Promise.allSettled([
      renew("view-3"),
      renew("view-3", 3, other, fakeAccountDeps(fake)),
    ]);
    const orderIds = results.map((r) =>
      r.status === "fulfilled" ? r.value.order.id : String(r.reason),
    );
    expect(new Set(orderIds).size).toBe(1);
    expect(renewals()).toHaveLength(1);
    expect(await paid()).toHaveLength(1);
    // Whatever both sent, it was one token.
    expect(new Set(fake.callsOf("RenewInstance").map((c) => c.params.ClientToken)).size).toBe(1);
  });

  it("insufficient balance names the balance and records nothing as paid; topped up, the same request goes through", async () => {
    fake.state.balanceCents = 100_000;
    const error = await renew("view-4").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BillingError);
    expect((error as BillingError).failure).toEqual({
      code: "INSUFFICIENT_BALANCE",
      priceCents: 3 * MONTHLY,
      balanceCents: 100_000,
      shortfallCents: 3 * MONTHLY - 100_000,
      account: true,
    });
    expect((error as BillingError).message).toMatch(
      /Recharge the account in the Alibaba Cloud console/,
    );
    expect(await paid()).toHaveLength(0);
    expect(await listOrdersByStatus({ tx: t.db }, "failed")).toHaveLength(1);
    expect(renewals()).toHaveLength(0);
    fake.state.balanceCents = 10_000_000;
    const retried = await renew("view-4");
    expect(retried.order.status).toBe("paid");
    const tokens = fake.callsOf("RenewInstance").map((c) => c.params.ClientToken);
    expect(tokens[0]).not.toBe(tokens[1]);
  });

  it("an instance the account doesn't know is refused on the instance field", async () => {
    fake.state.instances.delete(ID);
    const error = await renew("view-5").catch((e: unknown) => e);
    expect(isBillingError(error, "INVALID_INPUT") && error.failure).toMatchObject({
      field: "instance",
    });
    expect(await paid()).toHaveLength(0);
  });

  it("a 5xx after the account renewed leaves the order submitted; the retry renews exactly once", async () => {
    fake.failNext("RenewInstance", {
      kind: "status",
      status: 503,
      code: "ServiceUnavailable",
      apply: true,
    });
    const error = await renew("view-6").catch((e: unknown) => e);
    expect(isBillingError(error, "RENEWAL_PENDING")).toBe(true);
    expect(await listOrdersByStatus({ tx: t.db }, "submitted")).toHaveLength(1);
    const [outcome] = await retrySubmitted(ctx, deps);
    expect(outcome).toMatchObject({ outcome: "paid", order: { created_by: "UADMIN001" } });
    expect(renewals()).toHaveLength(1);
    expect(await paid()).toHaveLength(1);
    const calls = fake.callsOf("RenewInstance");
    expect(calls).toHaveLength(2);
    expect(calls[1].params.ClientToken).toBe(calls[0].params.ClientToken);
    expect(await retrySubmitted(ctx, deps)).toEqual([]);
  });

  it("a timeout, then the person resubmitting: one renewal, one paid order", async () => {
    fake.failNext("RenewInstance", { kind: "hang", apply: true });
    await expect(renew("view-7")).rejects.toSatisfy((e) => isBillingError(e, "RENEWAL_PENDING"));
    const again = await renew("view-7");
    expect(again.order.status).toBe("paid");
    expect(renewals()).toHaveLength(1);
    expect(await paid()).toHaveLength(1);
  });

  it("a 5xx before the account acted: the retry renews once", async () => {
    fake.failNext("RenewInstance", { kind: "status", status: 500 });
    await expect(renew("view-8")).rejects.toSatisfy((e) => isBillingError(e, "RENEWAL_PENDING"));
    expect(renewals()).toHaveLength(0);
    expect((await retrySubmitted(ctx, deps))[0].outcome).toBe("paid");
    expect(renewals()).toHaveLength(1);
  });

  it("retries Throttling.User with backoff", async () => {
    fake.failNext("RenewInstance", { kind: "status", status: 400, code: "Throttling.User" }, 2);
    const result = await renew("view-9");
    expect(result.order.status).toBe("paid");
    expect(fake.callsOf("RenewInstance")).toHaveLength(3);
    expect(renewals()).toHaveLength(1);
  });
});

describe("a read-only AccessKey", () => {
  it("still gives status, balance and bills; renewing is refused naming Forbidden.RAM, nothing paid", async () => {
    const t = await createTestDatabase("sqlite");
    const ctx = billingContext(t.db);
    const readOnly = { id: "LTAI5tReadOnlyKey01", secret: "read-only-secret-0123456789" };
    const fake = await startFakeBss({
      instances: accountFleet(1, T0),
      balanceCents: 1_000_000,
      now: () => ctx.clock(),
      keys: { [readOnly.id]: readOnly.secret },
      allowedActions: {
        [readOnly.id]: [
          "QueryAvailableInstances",
          "QueryAccountBalance",
          "GetSubscriptionPrice",
          "QueryInstanceBill",
        ],
      },
    });
    try {
      const deps = fakeAccountDeps(fake, {
        accessKeyId: readOnly.id,
        accessKeySecret: readOnly.secret,
      });
      expect((await syncFleet(ctx, deps, cliActor)).added).toEqual([ID]);
      expect(await accountBalance(ctx, deps)).toBe(1_000_000);
      const error = await renewOnAccount(ctx, deps, admin, {
        instanceId: ID,
        months: 1,
        idempotencyKey: "ro-1",
      }).catch((e: unknown) => e);
      expect(isBillingError(error, "ACCOUNT_REFUSED") && error.failure).toMatchObject({
        operation: "RenewInstance",
        accountCode: "Forbidden.RAM",
      });
      expect(await listOrdersByStatus({ tx: t.db }, "paid")).toHaveLength(0);
      expect(fake.state.orders).toHaveLength(0);
    } finally {
      await fake.close();
      await t.destroy();
    }
  });
});
