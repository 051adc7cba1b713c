import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BillingError } from "../../src/billing/errors.js";
import {
  formatDecimal,
  formatUsd,
  MAX_AMOUNT_CENTS,
  parseAmount,
} from "../../src/billing/money.js";

/** Groups integer cents as `1,234.56` without Intl, so the test does not mirror the code. */
function grouped(cents: number): string {
  const whole = String(Math.floor(cents / 100));
  const frac = String(cents % 100).padStart(2, "0");
  const groups: string[] = [];
  for (let end = whole.length; end > 0; end -= 3)
    groups.unshift(whole.slice(Math.max(0, end - 3), end));
  return `${groups.join(",")}.${frac}`;
}

function refusal(text: string): BillingError {
  try {
    parseAmount(text);
  } catch (error) {
    expect(error).toBeInstanceOf(BillingError);
    const e = error as BillingError;
    expect(e.code).toBe("INVALID_INPUT");
    expect(e.failure).toMatchObject({ code: "INVALID_INPUT", field: "amount" });
    return e;
  }
  throw new Error(`parseAmount(${JSON.stringify(text)}) was accepted`);
}

describe("formatUsd", () => {
  it("shows the list price as it reads on the billing page", () => {
    expect(formatUsd(179_900)).toBe("USD 1,799.00");
    expect(formatUsd(239_900)).toBe("USD 2,399.00");
  });

  it("shows zero and single cents with two decimals", () => {
    expect(formatUsd(0)).toBe("USD 0.00");
    expect(formatUsd(1)).toBe("USD 0.01");
    expect(formatUsd(10)).toBe("USD 0.10");
  });

  it("puts the sign in front of negative amounts", () => {
    expect(formatUsd(-1_250)).toBe("-USD 12.50");
    expect(formatUsd(-179_900)).toBe("-USD 1,799.00");
  });

  it("groups every thousand of large amounts", () => {
    expect(formatUsd(MAX_AMOUNT_CENTS)).toBe("USD 10,000,000.00");
    expect(formatUsd(123_456_789_012)).toBe("USD 1,234,567,890.12");
  });
});

describe("formatDecimal", () => {
  it("writes plain decimals without grouping", () => {
    expect(formatDecimal(179_900)).toBe("1799.00");
    expect(formatDecimal(100_050)).toBe("1000.50");
    expect(formatDecimal(0)).toBe("0.00");
    expect(formatDecimal(7)).toBe("0.07");
  });

  it("is exact for negative cents, including under a dollar", () => {
    expect(formatDecimal(-5)).toBe("-0.05");
    expect(formatDecimal(-179_900)).toBe("-1799.00");
    expect(formatDecimal(-100_001)).toBe("-1000.01");
  });

  it("is exact for integer cents where floating point division would round", () => {
    // 2^53 - 1 cents: dividing by 100 as a float cannot represent the result exactly.
    expect(formatDecimal(Number.MAX_SAFE_INTEGER)).toBe("90071992547409.91");
    expect(formatDecimal(-Number.MAX_SAFE_INTEGER)).toBe("-90071992547409.91");
  });

  it("round-trips through parseAmount for every positive amount up to the maximum", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX_AMOUNT_CENTS }), (cents) => {
        expect(parseAmount(formatDecimal(cents))).toBe(cents);
      }),
    );
  });

  it("matches an independent digit-by-digit rendering of any safe integer", () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (cents) => {
        const abs = String(Math.abs(cents)).padStart(3, "0");
        const expected = `${cents < 0 ? "-" : ""}${abs.slice(0, -2)}.${abs.slice(-2)}`;
        expect(formatDecimal(cents)).toBe(expected);
      }),
    );
  });
});

describe("parseAmount", () => {
  it.each([
    ["1000", 100_000],
    ["1,000.50", 100_050],
    ["USD 1799", 179_900],
    ["usd 1,799.00", 179_900],
    ["$12.5", 1_250],
    ["0.01", 1],
    ["  42  ", 4_200],
    ["1,234,567.89", 123_456_789],
    ["10,000,000.00", MAX_AMOUNT_CENTS],
    ["10000000", MAX_AMOUNT_CENTS],
  ])("reads %j as %i cents", (text, cents) => {
    expect(parseAmount(text)).toBe(cents);
  });

  it("refuses negative amounts, saying they must be positive", () => {
    expect(refusal("-5").message).toMatch(/positive/);
    expect(refusal("-0.01").message).toMatch(/positive/);
  });

  it("refuses zero, saying it must be more than zero", () => {
    expect(refusal("0").message).toMatch(/more than zero/);
    expect(refusal("0.00").message).toMatch(/more than zero/);
    expect(refusal("USD 0").message).toMatch(/more than zero/);
  });

  it.each(["NaN", "abc", "ten dollars", "Infinity", "1e5", "1,00", "12,34.00", "1.", ".5"])(
    "refuses %j as not an amount",
    (text) => {
      expect(refusal(text).message).toMatch(/is not an amount/);
    },
  );

  it("refuses more than two decimals, naming the limit", () => {
    const e = refusal("1.234");
    expect(e.message).toContain('"1.234" is not an amount');
    expect(e.message).toMatch(/at most 2 decimals/);
  });

  it("reads leading zeros as the number they are, and a signed USD amount as negative", () => {
    expect(parseAmount("00000000001")).toBe(100);
    expect(parseAmount("0,001.00")).toBe(100);
    expect(() => parseAmount("USD -5")).toThrow(/must be positive/);
    expect(() => parseAmount("$-5")).toThrow(/must be positive/);
  });

  it("refuses an empty amount as missing", () => {
    expect(refusal("").message).toMatch(/missing/);
    expect(refusal("   ").message).toMatch(/missing/);
  });

  it("refuses amounts above USD 10,000,000.00, naming the maximum", () => {
    for (const text of ["10,000,000.01", "10000001", "99999999999", "USD 123,456,789,012"]) {
      const e = refusal(text);
      expect(e.message).toMatch(/larger than USD 10,000,000\.00/);
    }
  });

  it("names the field it was given", () => {
    try {
      parseAmount("abc", "price");
      expect.unreachable();
    } catch (error) {
      expect((error as BillingError).failure).toMatchObject({ field: "price" });
      expect((error as Error).message).toMatch(/^Invalid price:/);
    }
  });

  it("reads back any amount written with thousands separators, exactly", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX_AMOUNT_CENTS }), (cents) => {
        expect(parseAmount(grouped(cents))).toBe(cents);
        expect(parseAmount(formatUsd(cents))).toBe(cents);
      }),
    );
  });

  it("never accepts anything outside 1..MAX cents, whatever the text", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), (text) => {
        let cents: number | undefined;
        try {
          cents = parseAmount(text);
        } catch (error) {
          expect(error).toBeInstanceOf(BillingError);
          return;
        }
        expect(Number.isSafeInteger(cents)).toBe(true);
        expect(cents).toBeGreaterThanOrEqual(1);
        expect(cents).toBeLessThanOrEqual(MAX_AMOUNT_CENTS);
      }),
    );
  });
});
