import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { accountCents } from "../../src/alibaba/decimal.js";
import { formatDecimal } from "../../src/billing/money.js";

describe("accountCents: the account's decimal amounts as integer cents", () => {
  it("reads decimal text with grouping and JSON numbers exactly", () => {
    expect(accountCents("10,000.00")).toBe(1_000_000);
    expect(accountCents("1799")).toBe(179_900);
    expect(accountCents("-12.5")).toBe(-1_250);
    expect(accountCents(5397.99)).toBe(539_799);
    expect(accountCents(0.1 + 0.2)).toBe(30); // 0.30000000000000004
    expect(accountCents(1.005)).toBe(101); // the text is 1.005: half away from zero
    expect(accountCents(1e-7)).toBe(0);
  });

  it("refuses what is not an amount", () => {
    for (const bad of ["", "USD 5", "1.2.3", "abc", Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => accountCents(bad)).toThrow(/not (an amount|a number)/);
    }
  });

  it("round-trips every cent amount written as text or as the JSON number of cents / 100", () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e12, max: 1e12 }), (cents) => {
        expect(accountCents(formatDecimal(cents))).toBe(cents);
        expect(accountCents(cents / 100)).toBe(cents);
      }),
    );
  });
});
