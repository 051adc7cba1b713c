import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { topup } from "../../src/billing/account.js";
import { billCsv, monthBill } from "../../src/billing/bills.js";
import { renew } from "../../src/billing/orders.js";
import { PERIOD_MONTHS } from "../../src/billing/periods.js";
import { billingCycle, localTime } from "../../src/billing/time.js";
import { getInstance } from "../../src/store/instances.js";
import { ZONES } from "../billing/zones.js";
import { admin, billingContext, DAY_MS, seedInstance } from "../helpers/billing.js";
import { createTestDatabase, DATABASES } from "../helpers/databases.js";

// The date rules of issue 11 through the store, on every database: bill months that meet
// exactly across daylight-saving changes, and months counted from the anniversary.

const zone = fc.constantFrom(...ZONES);
const instant = fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2090, 0, 1) });
const shift = (month: string, by: number) => {
  const [y, m] = month.split("-").map(Number);
  const i = y * 12 + m - 1 + by;
  return `${Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, "0")}`;
};

describe.each(DATABASES)("dates through the store on %s", (dbId) => {
  it("every recharge is on the bill of exactly one month, and its CSV row names that month", async () => {
    const t = await createTestDatabase(dbId);
    try {
      await fc.assert(
        fc.asyncProperty(instant, zone, async (at, z) => {
          const ctx = billingContext(t.db, at, z);
          const { entry } = await topup(ctx, admin, 100);
          const cycle = billingCycle(at, z);
          for (const month of [shift(cycle, -1), cycle, shift(cycle, 1)]) {
            const bill = await monthBill(ctx, month);
            const line = bill.lines.find((l) => l.ledgerId === entry.id);
            expect(line !== undefined, `${month} in ${z}`).toBe(month === cycle);
            if (!line) continue;
            const rows = billCsv({ ...bill, lines: [line] }, z).split("\r\n");
            expect(rows[1]?.split(",")[0]).toBe(cycle);
          }
        }),
        { numRuns: dbId === "sqlite" ? 60 : 30 },
      );
    } finally {
      await t.destroy();
    }
  }, 120_000);

  it("N renewals of 1 month end where one renewal of N months does, on the anniversary day", async () => {
    const t = await createTestDatabase(dbId);
    try {
      let n = 0;
      await fc.assert(
        fc.asyncProperty(
          instant,
          zone,
          fc.constantFrom(...PERIOD_MONTHS.filter((m) => m <= 12)),
          async (expiresAt, z, months) => {
            const ctx = billingContext(t.db, expiresAt - 10 * DAY_MS, z);
            await topup(ctx, admin, 179_900 * months * 2);
            const [stepwise, atOnce] = [`step-${n}`, `once-${n}`];
            n++;
            await seedInstance(t.db, { id: stepwise, expires_at: expiresAt });
            await seedInstance(t.db, { id: atOnce, expires_at: expiresAt });
            for (let i = 0; i < months; i++)
              await renew(ctx, admin, { instanceId: stepwise, months: 1 });
            await renew(ctx, admin, { instanceId: atOnce, months });
            const a = await getInstance({ tx: t.db }, stepwise);
            const b = await getInstance({ tx: t.db }, atOnce);
            expect(a?.expires_at).toBe(b?.expires_at);
            const start = localTime(expiresAt, z);
            const end = localTime(a?.expires_at ?? 0, z);
            expect((end.year - start.year) * 12 + end.month - start.month).toBe(months);
            const length = new Date(Date.UTC(end.year, end.month, 0)).getUTCDate();
            expect(end.day).toBe(Math.min(start.day, length));
          },
        ),
        { numRuns: dbId === "sqlite" ? 25 : 15 },
      );
    } finally {
      await t.destroy();
    }
  }, 120_000);
});
