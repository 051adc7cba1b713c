import { echoInput } from "./echo.js";
import { BillingError } from "./errors.js";

const grouped = new Intl.NumberFormat("en-US", {
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});

/** `179900` -> `USD 1,799.00`; negative amounts read `-USD 12.50`. */
export function formatUsd(cents: number): string {
  const text = `USD ${grouped.format(Math.abs(cents) / 100)}`;
  return cents < 0 ? `-${text}` : text;
}

/** `179900` -> `1799.00`: a plain decimal for CSV files, exact for any integer cents. */
export function formatDecimal(cents: number): string {
  const abs = Math.abs(cents);
  const text = `${Math.trunc(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
  return cents < 0 ? `-${text}` : text;
}

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
