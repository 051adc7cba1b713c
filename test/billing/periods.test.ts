import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { BillingError } from "../../src/billing/errors.js";
import {
  addMonths,
  isPeriod,
  PERIOD_MONTHS,
  parsePeriod,
  periodLabel,
} from "../../src/billing/periods.js";

const utc = (y: number, m: number, d: number, h = 0, mi = 0, s = 0, ms = 0) =>
  Date.UTC(y, m - 1, d, h, mi, s, ms);

describe("subscription periods", () => {
  it("sells exactly 1-9 months, 1 year, 2 years and 3 years", () => {
    expect([...PERIOD_MONTHS]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 24, 36]);
    for (const months of [0, 10, 11, 13, 18, 48, -1, 1.5]) expect(isPeriod(months)).toBe(false);
  });

  it("labels each period as the buy page does", () => {
    expect(PERIOD_MONTHS.map(periodLabel)).toEqual([
      "1 month",
      "2 months",
      "3 months",
      "4 months",
      "5 months",
      "6 months",
      "7 months",
      "8 months",
      "9 months",
      "1 year",
      "2 years",
      "3 years",
    ]);
  });
});

describe("parsePeriod", () => {
  it.each([
    ["1", 1],
    ["3", 3],
    ["9", 9],
    ["12", 12],
    ["24", 24],
    ["36", 36],
    ["3m", 3],
    ["3 mo", 3],
    ["6 months", 6],
    ["1 month", 1],
    ["1y", 12],
    ["1 yr", 12],
    ["1 year", 12],
    ["2 years", 24],
    ["3Y", 36],
    ["  4 MONTHS ", 4],
  ])("reads %j as %i months", (text, months) => {
    expect(parsePeriod(text)).toBe(months);
  });

  it.each(["10", "0", "13", "4y", "abc", "", "1.5", "-3", "12 weeks", "100", "0y"])(
    "refuses %j, listing the periods on sale",
    (text) => {
      let error: unknown;
      try {
        parsePeriod(text);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(BillingError);
      const e = error as BillingError;
      expect(e.failure).toMatchObject({ code: "INVALID_INPUT", field: "period" });
      expect(e.message).toContain(`"${text.trim()}" is not a subscription period`);
      expect(e.message).toContain("1 month, 2 months");
      expect(e.message).toContain("9 months, 1 year, 2 years, 3 years");
    },
  );

  it("reads every label it prints back to the same period", () => {
    for (const months of PERIOD_MONTHS) expect(parsePeriod(periodLabel(months))).toBe(months);
  });
});

describe("addMonths (calendar months in UTC)", () => {
  const savedTz = process.env.TZ;
  afterEach(() => {
    if (savedTz === undefined) delete process.env.TZ;
    else process.env.TZ = savedTz;
  });

  it("keeps the day of month and the time of day", () => {
    expect(addMonths(utc(2026, 1, 10, 12, 34, 56, 789), 1)).toBe(utc(2026, 2, 10, 12, 34, 56, 789));
    expect(addMonths(utc(2026, 3, 15), 12)).toBe(utc(2027, 3, 15));
    expect(addMonths(utc(2026, 11, 20, 8), 3)).toBe(utc(2027, 2, 20, 8));
  });

  it("clips 31 January + 1 month to 28 February", () => {
    expect(addMonths(utc(2026, 1, 31, 9), 1)).toBe(utc(2026, 2, 28, 9));
    expect(addMonths(utc(2027, 1, 31), 1)).toBe(utc(2027, 2, 28));
  });

  it("clips to 29 February in the leap year 2028", () => {
    expect(addMonths(utc(2028, 1, 31), 1)).toBe(utc(2028, 2, 29));
    expect(addMonths(utc(2027, 2, 28), 12)).toBe(utc(2028, 2, 28));
    expect(addMonths(utc(2028, 2, 29), 12)).toBe(utc(2029, 2, 28));
    expect(addMonths(utc(2025, 2, 28), 36)).toBe(utc(2028, 2, 28));
  });

  it("clips other month ends (31 March + 1 = 30 April, 31 August + 6 = 28 February)", () => {
    expect(addMonths(utc(2026, 3, 31), 1)).toBe(utc(2026, 4, 30));
    expect(addMonths(utc(2026, 8, 31), 6)).toBe(utc(2027, 2, 28));
    expect(addMonths(utc(2026, 12, 31), 2)).toBe(utc(2027, 2, 28));
  });

  it("counts in UTC whatever the process time zone", () => {
    for (const tz of ["Pacific/Auckland", "Pacific/Honolulu", "America/New_York"]) {
      process.env.TZ = tz;
      // 30 January 23:00 UTC is already 31 January in Auckland: a local-time month would clip
      // to 28 February there and land on 27 February 23:00 UTC.
      expect(addMonths(utc(2026, 1, 30, 23), 1)).toBe(utc(2026, 2, 28, 23));
      expect(addMonths(utc(2026, 1, 31, 23), 1)).toBe(utc(2026, 2, 28, 23));
      // A month across New York's DST change keeps the UTC time of day (not 11:00 UTC).
      expect(addMonths(utc(2026, 3, 1, 12), 1)).toBe(utc(2026, 4, 1, 12));
    }
  });

  it("adds months one at a time or all at once to the same day when no clipping happens", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2000, max: 2100 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 28 }),
        fc.integer({ min: 0, max: 86_399_999 }),
        fc.constantFrom(...PERIOD_MONTHS),
        (year, month, day, msOfDay, months) => {
          const start = utc(year, month, day) + msOfDay;
          const end = addMonths(start, months);
          const d = new Date(end);
          const monthIndex = month - 1 + months;
          expect(d.getUTCFullYear()).toBe(year + Math.floor(monthIndex / 12));
          expect(d.getUTCMonth()).toBe(monthIndex % 12);
          expect(d.getUTCDate()).toBe(day);
          expect(end - utc(d.getUTCFullYear(), d.getUTCMonth() + 1, day)).toBe(msOfDay);
        },
      ),
    );
  });
});
