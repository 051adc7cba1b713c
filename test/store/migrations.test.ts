import { afterEach, describe, expect, it } from "vitest";
import { migrations } from "../../migrations/index.js";
import { applyMigrations, migrateDown, migrateUp, rollbackAll } from "../../src/store/migrate.js";
import { createTestDatabase, DATABASES, type TestDatabase } from "../helpers/databases.js";

const TABLES = [
  "accounts",
  "prices",
  "instances",
  "orders",
  "ledger",
  "admins",
  "audit_log",
  "warnings",
  "leases",
  "tickets",
  "faq_entries",
  "processed_events",
  "seen_requests",
];

describe.each(DATABASES)("migrations on %s", (dbId) => {
  let t: TestDatabase;
  afterEach(async () => {
    await t.destroy();
  });

  it("go up, down and up again, with data in place", async () => {
    t = await createTestDatabase(dbId, { migrate: false });
    expect((await applyMigrations(t.db)).length).toBeGreaterThan(0);
    expect(await applyMigrations(t.db)).toEqual([]);
    for (const table of TABLES) expect(await t.db.schema.hasTable(table)).toBe(true);

    await t.db("instances").insert({
      id: "kst-a",
      name: "a",
      site: "china",
      expires_at: 1,
      created_at: 1,
      updated_at: 1,
    });
    await t.db("admins").insert({ user_id: "U1", added_by: "cli", added_at: 1 });

    expect((await rollbackAll(t.db)).length).toBeGreaterThan(0);
    for (const table of TABLES) expect(await t.db.schema.hasTable(table)).toBe(false);

    await applyMigrations(t.db);
    const prices = await t.db("prices").orderBy("site");
    expect(prices.map((p) => [p.site, Number(p.unit_cents)])).toEqual([
      ["china", 239_900],
      ["international", 179_900],
    ]);
    expect(Number((await t.db("accounts").first()).balance_cents)).toBe(0);
  });

  it("step up one at a time from the first schema with data in it, and each steps down and up again keeping it", async () => {
    t = await createTestDatabase(dbId, { migrate: false });
    const names = migrations.map(([name]) => name);
    expect(await migrateUp(t.db)).toEqual([names[0]]);
    // Data written by the first release of the schema...
    await t.db("instances").insert({
      id: "kst-old",
      name: "old",
      site: "china",
      expires_at: 5,
      created_at: 1,
      updated_at: 1,
    });
    await t.db("accounts").update({ balance_cents: 700 });
    await t.db("ledger").insert({
      account_id: "default",
      kind: "recharge",
      amount_cents: 700,
      balance_after_cents: 700,
      actor: "cli",
      created_at: 1,
    });
    // ...survives every later migration, and each later one's down and up again.
    for (const name of names.slice(1)) {
      expect(await migrateUp(t.db)).toEqual([name]);
      expect(await migrateDown(t.db)).toEqual([name]);
      expect(await migrateUp(t.db)).toEqual([name]);
      const row = await t.db("instances").where({ id: "kst-old" }).first();
      expect(row?.name).toBe("old");
      expect(Number((await t.db("accounts").first()).balance_cents)).toBe(700);
    }
    expect(await applyMigrations(t.db)).toEqual([]);
    const instance = await t.db("instances").where({ id: "kst-old" }).first();
    expect(instance.snoozed_until).toBeNull();
  });

  it("enforce the schema's constraints, not only the code's", async () => {
    t = await createTestDatabase(dbId);
    const instance = {
      id: "kst-a",
      name: "a",
      site: "china",
      expires_at: 1,
      created_at: 1,
      updated_at: 1,
    };
    await expect(
      t.db("instances").insert({ ...instance, id: "kst-b", site: "mars" }),
    ).rejects.toThrow();
    await t.db("instances").insert(instance);
    const order = {
      kind: "renewal",
      instance_id: "kst-a",
      site: "china",
      months: 1,
      unit_cents: 100,
      amount_cents: 100,
      period_start: 1,
      period_end: 2,
      created_by: "x",
      created_at: 1,
    };
    await t.db("orders").insert({ ...order, idempotency_key: "k" });
    await expect(t.db("orders").insert({ ...order, idempotency_key: "k" })).rejects.toThrow();
    await expect(t.db("orders").insert({ ...order, instance_id: "kst-none" })).rejects.toThrow();
    await expect(t.db("orders").insert({ ...order, refunded_cents: 101 })).rejects.toThrow();
    await expect(t.db("orders").insert({ ...order, amount_cents: 0 })).rejects.toThrow();
    await expect(t.db("accounts").update({ balance_cents: -1 })).rejects.toThrow();
  });
});
