import type { Knex } from "knex";
import { afterEach, describe, expect, it } from "vitest";
import { balance } from "../../src/billing/account.js";
import { isBillingError } from "../../src/billing/errors.js";
import { quoteRenewal, renew } from "../../src/billing/orders.js";
import { listAudit } from "../../src/store/audit.js";
import { getInstance } from "../../src/store/instances.js";
import { ledgerSum } from "../../src/store/ledger.js";
import { listOrders } from "../../src/store/orders.js";
import { billingContext, DAY_MS, fund, member, seedInstance, T0 } from "../helpers/billing.js";
import { createTestDatabase, DATABASES, type TestDatabase } from "../helpers/databases.js";

const PRICE = 179_900;

describe.each(DATABASES)("concurrent renewals on %s", (dbId) => {
  let t: TestDatabase;
  afterEach(async () => {
    await t.destroy();
  });

  it("50 renewals at once against a balance that covers 7 charge exactly 7", async () => {
    t = await createTestDatabase(dbId);
    const ctx = billingContext(t.db);
    await fund(ctx, 7 * PRICE + PRICE - 1);
    await seedInstance(t.db, { id: "kst-a", expires_at: T0 + 10 * DAY_MS });
    await seedInstance(t.db, { id: "kst-b", expires_at: T0 + 10 * DAY_MS });
    // Several independent handles, as several processes (SQLite) or pooled connections
    // (PostgreSQL) would have, so the requests really contend for the database.
    const handles: Knex[] = [
      t.db,
      t.another({ poolMax: 10 }),
      t.another({ poolMax: 10 }),
      t.another(),
    ];
    const outcomes = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) =>
        renew(billingContext(handles[i % handles.length]), member, {
          instanceId: i % 2 === 0 ? "kst-a" : "kst-b",
          months: 1,
        }),
      ),
    );
    const ok = outcomes.filter((o) => o.status === "fulfilled");
    const refused = outcomes.flatMap((o) => (o.status === "rejected" ? [o.reason] : []));
    expect(ok).toHaveLength(7);
    expect(refused).toHaveLength(43);
    for (const reason of refused) expect(isBillingError(reason, "INSUFFICIENT_BALANCE")).toBe(true);
    expect(await balance(ctx)).toBe(PRICE - 1);
    expect(await ledgerSum({ tx: t.db })).toBe(PRICE - 1);
    // Each instance was extended once per order it got, in sequence, never from a stale expiry.
    for (const id of ["kst-a", "kst-b"]) {
      const orders = await listOrders({ tx: t.db }, id);
      const instance = await getInstance({ tx: t.db }, id);
      for (let i = 1; i < orders.length; i++)
        expect(orders[i].period_start).toBe(orders[i - 1].period_end);
      expect(instance?.expires_at).toBe(orders.at(-1)?.period_end ?? T0 + 10 * DAY_MS);
    }
  });

  it("30 renewals of one instance at once, all covered: each charged once, chained, audited with its order", async () => {
    t = await createTestDatabase(dbId);
    const ctx = billingContext(t.db);
    await fund(ctx, 30 * PRICE);
    await seedInstance(t.db, { id: "kst-a", expires_at: T0 + 10 * DAY_MS, snoozed_until: T0 });
    const handles: Knex[] = [t.db, t.another({ poolMax: 10 }), t.another()];
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        renew(billingContext(handles[i % handles.length]), member, {
          instanceId: "kst-a",
          months: 1,
          idempotencyKey: `view-${i}`,
        }),
      ),
    );
    expect(results.every((r) => !r.replayed)).toBe(true);
    expect(await balance(ctx)).toBe(0);
    expect(await ledgerSum({ tx: t.db })).toBe(0);
    const orders = await listOrders({ tx: t.db }, "kst-a");
    expect(orders).toHaveLength(30);
    for (let i = 1; i < orders.length; i++)
      expect(orders[i].period_start).toBe(orders[i - 1].period_end);
    const instance = await getInstance({ tx: t.db }, "kst-a");
    expect(instance?.expires_at).toBe(orders.at(-1)?.period_end);
    expect(instance?.snoozed_until).toBeNull();
    const lines = await t.db("ledger").where({ kind: "renewal" }).orderBy("id");
    expect(lines.map((l) => Number(l.order_id)).sort((a, b) => a - b)).toEqual(
      orders.map((o) => o.id).sort((a, b) => a - b),
    );
    const audited = (await listAudit({ tx: t.db })).filter((e) => e.action === "instance.renew");
    expect(audited.map((e) => JSON.parse(e.inputs).orderId).sort((a, b) => a - b)).toEqual(
      orders.map((o) => o.id).sort((a, b) => a - b),
    );
  });
});

describe.each(DATABASES)("renewals while another replica migrates, on %s", (dbId) => {
  let t: TestDatabase;
  afterEach(async () => {
    await t.destroy();
  });

  it("a column added to instances and orders does not break the prepared renewal on open connections", async () => {
    t = await createTestDatabase(dbId);
    const ctx = billingContext(t.db);
    await fund(ctx, 10 * PRICE);
    await seedInstance(t.db, { id: "kst-a", expires_at: T0 + 10 * DAY_MS });
    // Prepared on this handle's connection(s) by a quote and a renewal...
    await quoteRenewal(ctx, "kst-a", 1);
    await renew(ctx, member, { instanceId: "kst-a", months: 1, idempotencyKey: "renew:V1" });
    // ...then another process adds columns (as a later migration would).
    const migrator = t.another();
    await migrator.schema.alterTable("instances", (table) => table.text("added_later"));
    await migrator.schema.alterTable("orders", (table) => table.text("added_later"));
    await migrator.destroy();
    const quote = await quoteRenewal(ctx, "kst-a", 1);
    expect(quote.unitCents).toBe(PRICE);
    const second = await renew(ctx, member, {
      instanceId: "kst-a",
      months: 1,
      idempotencyKey: "renew:V2",
    });
    expect(second.order.amount_cents).toBe(PRICE);
    expect(await listOrders({ tx: t.db }, "kst-a")).toHaveLength(2);
    expect(await balance(ctx)).toBe(8 * PRICE);
  });
});
