import { echoInput } from "./echo.js";
import { BillingError } from "./errors.js";
import { addMonths as addZonedMonths } from "./time.js";

/** The subscription periods on sale, in months: 1-9 months, 1, 2 and 3 years. */
export const PERIOD_MONTHS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 24, 36] as const;
export type PeriodMonths = (typeof PERIOD_MONTHS)[number];

export function isPeriod(months: number): months is PeriodMonths {
  return (PERIOD_MONTHS as readonly number[]).includes(months);
}

/** `1 month`, `3 months`, `1 year`, `2 years`. */
export function periodLabel(months: number): string {
  if (months % 12 === 0) return months === 12 ? "1 year" : `${months / 12} years`;
  return months === 1 ? "1 month" : `${months} months`;
}

const PERIOD_TEXT = /^(\d{1,2})\s*(m|mo|mon|month|months|y|yr|year|years)?$/i;

/** Parses `3`, `3m`, `3 months`, `1y`, `2 years` into a period on sale. */
export function parsePeriod(text: string): PeriodMonths {
  const match = PERIOD_TEXT.exec(text.trim());
  const n = match ? Number(match[1]) : Number.NaN;
  const months = match?.[2]?.toLowerCase().startsWith("y") ? n * 12 : n;
  if (!isPeriod(months)) {
    throw new BillingError({
      code: "INVALID_INPUT",
      field: "period",
      problem: `"${echoInput(text.trim())}" is not a subscription period; choose ${PERIOD_MONTHS.map(periodLabel).join(", ")}`,
    });
  }
  return months;
}

/**
 * Adds calendar months in `zone` from the anniversary (see `time.ts`); `at` is its own
 * anniversary unless one is given (31 January + 1 month = 28 or 29 February).
 */
export function addMonths(at: number, months: number, zone = "UTC", anniversary = at): number {
  return addZonedMonths(at, months, zone, anniversary);
}
