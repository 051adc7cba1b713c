const DECIMAL = /^(-)?(\d{1,13})(?:\.(\d+))?$/;

/**
 * Integer cents from an amount the account sends: decimal text (`"10,000.00"`, `"-12.5"`) or a
 * JSON number (`5397.3`). Works on the decimal digits, never on float arithmetic, and rounds
 * half away from zero at the cent. Throws on anything else: an amount must never be guessed.
 */
export function accountCents(value: string | number): number {
  let text: string;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`amount ${value} is not a number`);
    // Shortest round-trip text of the double: "5397.3" for 5397.3; exponent forms are rare.
    text = /e/i.test(String(value)) ? value.toFixed(10) : String(value);
  } else {
    text = value.trim().replaceAll(",", "");
  }
  const match = DECIMAL.exec(text);
  if (!match) throw new Error(`"${String(value)}" is not an amount`);
  const [, minus, whole, fraction = ""] = match;
  const digits = fraction.padEnd(3, "0");
  let cents = Number(whole) * 100 + Number(digits.slice(0, 2));
  if (Number(digits[2]) >= 5) cents += 1;
  return minus && cents !== 0 ? -cents : cents;
}
