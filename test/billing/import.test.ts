import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { topup } from "../../src/billing/account.js";
import type { BillingContext } from "../../src/billing/context.js";
import { isBillingError } from "../../src/billing/errors.js";
import { parseInstanceCsv } from "../../src/billing/import.js";
import { importInstances, resumeImport, rollbackImport } from "../../src/billing/import-run.js";
import { purchase, renew } from "../../src/billing/orders.js";
import { getInstance, listInstances } from "../../src/store/instances.js";
import { listOrders } from "../../src/store/orders.js";
import { admin, billingContext, cliActor, fund, T0, type TestClock } from "../helpers/billing.js";
import { createTestDatabase, DATABASES, type TestDatabase } from "../helpers/databases.js";

// Issue 11 items 1, 2 and 12: what an import may change, how it writes, what it refuses.

const HEADER = "instance_id,name,site,expires_at,channel,owner";
const csv = (...rows: string[]) => `${[HEADER, ...rows].join("\n")}\n`;
const MAY = Date.UTC(2027, 4, 1);
const rowsOf = (n: number, prefix = "kst-") =>
  Array.from(
    { length: n },
    (_, i) => `${prefix}${i},Name ${i},international,2027-02-01T00:00:00Z,,`,
  );
const never = () => new Promise<void>(() => {});

describe.each(DATABASES)("kms-bot import on %s", (dbId) => {
  let t: TestDatabase;
  let ctx: BillingContext & { clock: TestClock };

  beforeEach(async () => {
    t = await createTestDatabase(dbId);
    ctx = billingContext(t.db, T0);
  });
  afterEach(async () => {
    await t.destroy();
  });

  it("item 1: re-importing the fleet file keeps an expiry the bot sold a period for, and says so", async () => {
    const file = csv("a,A,international,2027-02-01T00:00:00Z,,");
    await importInstances(ctx, cliActor, file);
    await fund(ctx, 10_000_000);
    await renew(ctx, admin, { instanceId: "a", months: 3 });
    expect((await getInstance({ tx: t.db }, "a"))?.expires_at).toBe(MAY);

    const again = await importInstances(ctx, cliActor, file);
    expect((await getInstance({ tx: t.db }, "a"))?.expires_at).toBe(MAY);
    expect(again.rows[0]).toMatchObject({ line: 2, instanceId: "a", outcome: "unchanged" });
    expect(again.rows[0]?.refused[0]).toContain("kept expires_at 2027-05-01T00:00:00+00:00");
    // The next renewal extends from May 1: nobody pays for February to May twice.
    const next = await renew(ctx, admin, { instanceId: "a", months: 1 });
    expect(next.order.period_start).toBe(MAY);
  });

  it("item 1: --force-dates moves an expiry (audited) but never before a period the bot sold", async () => {
    await importInstances(
      ctx,
      cliActor,
      csv("a,A,international,2027-02-01T00:00:00Z,,", "b,B,china,2027-02-01T00:00:00Z,,"),
    );
    await fund(ctx, 10_000_000);
    await renew(ctx, admin, { instanceId: "a", months: 3 });
    const r = await importInstances(
      ctx,
      cliActor,
      csv("a,A,international,2027-02-01T00:00:00Z,,", "b,B,china,2027-03-01T00:00:00Z,,"),
      { forceDates: true },
    );
    expect((await getInstance({ tx: t.db }, "a"))?.expires_at).toBe(MAY);
    expect(r.rows[0]?.refused[0]).toMatch(/ORD-\d{6} paid through the bot up to 2027-05-01/);
    expect((await getInstance({ tx: t.db }, "b"))?.expires_at).toBe(Date.UTC(2027, 2, 1));
    expect(r.rows[1]).toMatchObject({ outcome: "updated", changed: ["expires_at"], refused: [] });
    const audit = await t.db("audit_log").where({ action: "instance.import_force_date" });
    expect(audit.map((a) => a.subject)).toEqual(["b"]);
  });

  it("item 2: writes in short transactions, so another writer commits between batches", async () => {
    const other = t.another();
    const otherCtx = { ...ctx, db: other };
    const seen: number[] = [];
    const r = await importInstances(ctx, cliActor, csv(...rowsOf(30)), {
      batchRows: 10,
      afterBatch: async (p) => {
        seen.push(p.written);
        await topup(otherCtx, admin, 100);
      },
    });
    expect(seen).toEqual([10, 20, 30]);
    expect(r.created).toBe(30);
    expect(Number((await t.db("ledger").count({ n: "*" }))[0]?.n)).toBe(3);
  });

  it("item 2: an import interrupted by a crash is resumed with the same file, and only with it", async () => {
    const file = csv(...rowsOf(25));
    // The process "dies" after its first batch: the promise never settles.
    void importInstances(ctx, cliActor, file, { batchRows: 10, afterBatch: never });
    await expect.poll(async () => (await listInstances({ tx: t.db })).length).toBe(10);
    const [imp] = await t.db("imports").select("id", "status");
    expect(imp.status).toBe("applying");
    const wrong = await resumeImport(ctx, cliActor, imp.id, csv(...rowsOf(3))).catch((e) => e);
    expect(isBillingError(wrong, "INVALID_INPUT")).toBe(true);
    const done = await resumeImport(ctx, cliActor, imp.id, file, { batchRows: 10 });
    expect(done).toMatchObject({ created: 25, updated: 0 });
    expect(await listInstances({ tx: t.db })).toHaveLength(25);
  });

  it("item 2: an interrupted import is rolled back, and a failing one rolls itself back", async () => {
    await importInstances(
      ctx,
      cliActor,
      csv("kst-0,Old name,international,2027-02-01T00:00:00Z,,"),
    );
    const file = csv(...rowsOf(25));
    void importInstances(ctx, cliActor, file, { batchRows: 10, afterBatch: never });
    await expect.poll(async () => (await listInstances({ tx: t.db })).length).toBe(10);
    const imp = await t.db("imports").where({ status: "applying" }).first();
    await rollbackImport(ctx, cliActor, imp.id);
    const left = await listInstances({ tx: t.db });
    expect(left.map((i) => [i.id, i.name])).toEqual([["kst-0", "Old name"]]);

    let batches = 0;
    const failing = await importInstances(ctx, cliActor, file, {
      batchRows: 10,
      afterBatch: () => {
        if (++batches === 2) throw new Error("disk full");
      },
    }).catch((e: Error) => e.message);
    expect(failing).toMatch(/failed \(disk full\); everything it had written is rolled back/);
    const after = await listInstances({ tx: t.db });
    expect(after.map((i) => [i.id, i.name])).toEqual([["kst-0", "Old name"]]);
  });
});

describe("instance names and file encoding (item 12)", () => {
  it("refuses Unicode format characters in a CSV name, naming the line and the character", () => {
    for (const [name, code] of [
      ["evil\u202Egnp.exe", "U+202E"],
      ["\u2066isolated", "U+2066"],
      ["\u200B\u200B", "U+200B"],
    ]) {
      const error = (() => {
        try {
          parseInstanceCsv(
            csv("a,OK,international,2027-02-01,,", `b,${name},china,2027-02-01,,`),
            "UTC",
          );
        } catch (e) {
          return e as Error;
        }
        return undefined;
      })();
      expect(error?.message).toContain("CSV line 3");
      expect(error?.message).toContain(code);
    }
  });

  it("refuses a Latin-1 file with the line of the first bad byte instead of storing U+FFFD", () => {
    const bytes = Buffer.concat([
      Buffer.from(`${HEADER}\na,ok,international,2027-02-01,,\nb,caf`),
      Buffer.from([0xe9]),
      Buffer.from(",china,2027-02-01,,\n"),
    ]);
    expect(() => parseInstanceCsv(bytes, "UTC")).toThrow(/CSV line 3: is not valid UTF-8/);
  });

  it("refuses a format character in a purchased instance's name", async () => {
    const t = await createTestDatabase("sqlite");
    try {
      const ctx = billingContext(t.db, T0);
      await fund(ctx, 10_000_000);
      const error = await purchase(ctx, admin, {
        name: "pay\u202Ements",
        site: "international",
        months: 1,
      }).catch((e) => e);
      expect(isBillingError(error, "INVALID_INPUT")).toBe(true);
      expect(String(error.message)).toContain("U+202E");
      expect(await listOrders({ tx: t.db }, "x")).toEqual([]);
    } finally {
      await t.destroy();
    }
  });
});
