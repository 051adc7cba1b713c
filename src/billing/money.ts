import { echoInput } from "./echo.js";
import { BillingError } from "./errors.js";
import { formatUsd } from "./usd.js";

export { formatDecimal, formatUsd } from "./usd.js";

/** The largest amount accepted in one top-up or price: USD 10,000,000.00. */
export const MAX_AMOUNT_CENTS = 1_000_000_000;

const AMOUNT = /^(?:USD\s*|\$)?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?$/i;

/**
 * Parses a positive amount of money typed by a person: `1000`, `1,000.50`, `USD 1799`,
 * `$12.5`. Refuses zero, negatives, more than two decimals, malformed grouping and amounts
 * above {@link MAX_AMOUNT_CENTS}.
 */
export function parseAmount(text: string, field = "amount"): number {
  const trimmed = text.trim();
  const invalid = (problem: string) => new BillingError({ code: "INVALID_INPUT", field, problem });
  if (trimmed === "") throw invalid("is missing; give an amount such as 1,000.50");
  if (/^(USD\s*|\$)?-/i.test(trimmed))
    throw invalid(`must be positive, got "${echoInput(trimmed)}"`);
  const match = AMOUNT.exec(trimmed);
  if (!match) {
    throw invalid(
      `"${echoInput(trimmed)}" is not an amount; write it like 1000 or 1,000.50 (at most 2 decimals)`,
    );
  }
  const whole = match[1].replaceAll(",", "").replace(/^0+(?=\d)/, "");
  if (whole.length > 10)
    throw invalid(`${echoInput(trimmed)} is larger than ${formatUsd(MAX_AMOUNT_CENTS)}`);
  const cents = Number(whole) * 100 + Number((match[2] ?? "").padEnd(2, "0"));
  if (cents === 0) throw invalid("must be more than zero");
  if (cents > MAX_AMOUNT_CENTS)
    throw invalid(`${echoInput(trimmed)} is larger than ${formatUsd(MAX_AMOUNT_CENTS)}`);
  return cents;
}
