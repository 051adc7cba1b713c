// Formatting of cents for people and files; no imports, so errors.ts and money.ts can both use it.

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
