import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  addMonths,
  billingCycle,
  fromLocalTime,
  localTime,
  monthRange,
} from "../../src/billing/time.js";
import { ZONES } from "./zones.js";

const zone = fc.constantFrom(...ZONES);
/** Instants from 1990 to 2100. */
const instant = fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2100, 0, 1) });

const nextMonth = (m: string) => {
  const [y, mo] = m.split("-").map(Number);
  return mo === 12 ? `${y + 1}-01` : `${y}-${String(mo + 1).padStart(2, "0")}`;
};
const previousMonth = (m: string) => {
  const [y, mo] = m.split("-").map(Number);
  return mo === 1 ? `${y - 1}-12` : `${y}-${String(mo - 1).padStart(2, "0")}`;
};
const within = (at: number, r: { start: number; end: number }) => at >= r.start && at < r.end;

describe("billing cycles across daylight-saving changes (issue 11 item 4)", () => {
  it("November in New York ends where December starts (EST begins in between)", () => {
    const nov = monthRange("2026-11", "America/New_York");
    const dec = monthRange("2026-12", "America/New_York");
    expect(nov.end).toBe(dec.start);
    expect(dec.start).toBe(Date.UTC(2026, 11, 1, 5));
    // 23:30 on 30 November in New York: in November (it used to be in neither month).
    const topup = Date.UTC(2026, 11, 1, 4, 30);
    expect(within(topup, nov)).toBe(true);
    expect(within(topup, dec)).toBe(false);
  });

  it("an instant on 1 April in New York is in April only, not also in March", () => {
    const at = Date.UTC(2027, 3, 1, 4, 30);
    expect(within(at, monthRange("2027-03", "America/New_York"))).toBe(false);
    expect(within(at, monthRange("2027-04", "America/New_York"))).toBe(true);
    expect(billingCycle(at, "America/New_York")).toBe("2027-04");
  });

  it("every instant is in exactly one billing cycle, the one billingCycle names", () => {
    fc.assert(
      fc.property(instant, zone, (at, z) => {
        const cycle = billingCycle(at, z);
        expect(within(at, monthRange(cycle, z))).toBe(true);
        expect(within(at, monthRange(previousMonth(cycle), z))).toBe(false);
        expect(within(at, monthRange(nextMonth(cycle), z))).toBe(false);
        expect(monthRange(cycle, z).end).toBe(monthRange(nextMonth(cycle), z).start);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("calendar months from the anniversary, in the billing zone (issue 11 item 7)", () => {
  const jan31 = Date.UTC(2027, 0, 31);

  it("31 January renewed 1 month twice ends 31 March, as 2 months at once does", () => {
    const feb = addMonths(jan31, 1, "UTC", jan31);
    expect(feb).toBe(Date.UTC(2027, 1, 28));
    expect(addMonths(feb, 1, "UTC", jan31)).toBe(Date.UTC(2027, 2, 31));
    expect(addMonths(jan31, 2, "UTC", jan31)).toBe(Date.UTC(2027, 2, 31));
  });

  it("twelve monthly renewals end where one year does", () => {
    let at = jan31;
    for (let i = 0; i < 12; i++) at = addMonths(at, 1, "UTC", jan31);
    expect(at).toBe(addMonths(jan31, 12, "UTC", jan31));
    expect(at).toBe(Date.UTC(2028, 0, 31));
  });

  it("counts in KMS_TIMEZONE: local 31 January + 1 month is local 28 February in Shanghai", () => {
    const localJan31 = Date.UTC(2027, 0, 30, 16); // 2027-01-31T00:00+08:00
    const end = addMonths(localJan31, 1, "Asia/Shanghai");
    expect(localTime(end, "Asia/Shanghai")).toMatchObject({ month: 2, day: 28, hour: 0 });
  });

  it("N renewals of 1 month end where one renewal of N months does, in any zone", () => {
    fc.assert(
      fc.property(instant, zone, fc.integer({ min: 1, max: 36 }), (start, z, n) => {
        let at = start;
        for (let i = 0; i < n; i++) at = addMonths(at, 1, z, start);
        expect(at).toBe(addMonths(start, n, z, start));
        const a = localTime(start, z);
        const e = localTime(at, z);
        expect((e.year - a.year) * 12 + e.month - a.month).toBe(n);
        const monthLength = new Date(Date.UTC(e.year, e.month, 0)).getUTCDate();
        expect(e.day).toBe(Math.min(a.day, monthLength));
      }),
      { numRuns: 500 },
    );
  });

  it("reads a wall-clock time back to the instant it came from", () => {
    fc.assert(
      fc.property(instant, zone, (at, z) => {
        // A time read twice (clocks turned back) maps to its first occurrence: same reading, not later.
        const back = fromLocalTime(localTime(at, z), z);
        expect(localTime(back, z)).toEqual(localTime(at, z));
        expect(back).toBeLessThanOrEqual(at);
      }),
      { numRuns: 1000 },
    );
  });
});
