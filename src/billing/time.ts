import dayjs from "dayjs";
import timezone from "dayjs/plugin/timezone.js";
import utc from "dayjs/plugin/utc.js";
import { echoInput } from "./echo.js";
import { BillingError } from "./errors.js";

dayjs.extend(utc);
dayjs.extend(timezone);

/** True when `zone` is an IANA time zone this runtime knows. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The billing cycle (`YYYY-MM`) that `at` falls in, in `zone`. */
export function billingCycle(at: number, zone: string): string {
  return dayjs(at).tz(zone).format("YYYY-MM");
}

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

/** Parses `YYYY-MM` and returns the instants [start, end) of that month in `zone`. */
export function monthRange(month: string, zone: string): { start: number; end: number } {
  if (!MONTH.test(month)) {
    throw new BillingError({
      code: "INVALID_INPUT",
      field: "month",
      problem: `"${echoInput(month)}" is not a month; write it as YYYY-MM`,
    });
  }
  const start = dayjs.tz(`${month}-01 00:00:00`, zone);
  return { start: start.valueOf(), end: start.add(1, "month").valueOf() };
}

/** `at` as ISO 8601 with the zone's offset, e.g. `2026-11-26T09:30:00+08:00`. */
export function isoInZone(at: number, zone: string): string {
  return dayjs(at).tz(zone).format("YYYY-MM-DDTHH:mm:ssZ");
}

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * Parses an ISO 8601 date or date-time. Without an offset (`2026-12-01`,
 * `2026-12-01T08:00`) it is read in `zone`. Impossible dates such as 2026-02-30 are refused.
 * Returns undefined for anything else.
 */
export function parseIsoInstant(text: string, zone: string): number | undefined {
  const m = ISO.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = "00", mi = "00", s = "00", ms = "0", offset] = m;
  const fields = [Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(s)];
  const probe = new Date(
    Date.UTC(fields[0], fields[1] - 1, fields[2], fields[3], fields[4], fields[5]),
  );
  const valid =
    probe.getUTCFullYear() === fields[0] &&
    probe.getUTCMonth() === fields[1] - 1 &&
    probe.getUTCDate() === fields[2] &&
    probe.getUTCHours() === fields[3] &&
    probe.getUTCMinutes() === fields[4] &&
    probe.getUTCSeconds() === fields[5];
  if (!valid) return undefined;
  const local = `${y}-${mo}-${d}T${h}:${mi}:${s}.${ms.padEnd(3, "0")}`;
  if (offset === undefined) return dayjs.tz(local, zone).valueOf();
  const normalised = offset === "Z" ? "Z" : `${offset.slice(0, 3)}:${offset.slice(-2)}`;
  const at = Date.parse(`${local}${normalised}`);
  return Number.isNaN(at) ? undefined : at;
}
