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

/** A wall-clock reading in a zone: month 1-12, day 1-31. */
export interface LocalTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  ms: number;
}

const DAY = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(zone, f);
  }
  return f;
}

/** What a clock in `zone` reads at `at`. */
export function localTime(at: number, zone: string): LocalTime {
  const parts: Record<string, number> = {};
  for (const p of formatter(zone).formatToParts(at)) {
    if (p.type !== "literal") parts[p.type] = Number(p.value);
  }
  return {
    year: parts.year,
    month: parts.month,
    day: parts.day,
    hour: parts.hour,
    minute: parts.minute,
    second: parts.second,
    ms: ((at % 1000) + 1000) % 1000,
  };
}

function asUtc(t: LocalTime): number {
  const d = new Date(0);
  d.setUTCFullYear(t.year, t.month - 1, t.day);
  d.setUTCHours(t.hour, t.minute, t.second, t.ms);
  return d.getTime();
}

/** The zone's offset from UTC at `at`, in milliseconds. */
function offsetAt(at: number, zone: string): number {
  return asUtc(localTime(at, zone)) - at;
}

/**
 * The instant a clock in `zone` reads `t`. A reading that happens twice (clocks turned back)
 * is its first occurrence; one that never happens (clocks turned forward) is read with the
 * offset from before the change, which lands just after it.
 */
export function fromLocalTime(t: LocalTime, zone: string): number {
  const wall = asUtc(t);
  const before = wall - offsetAt(wall - 2 * DAY, zone);
  const after = wall - offsetAt(wall + 2 * DAY, zone);
  const valid = [before, after].filter((at) => asUtc(localTime(at, zone)) === wall);
  return valid.length > 0 ? Math.min(...valid) : before;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * Adds calendar months in `zone`, counted from the subscription's anniversary: the result
 * falls on the day of month of `anniversary` (clamped to the month's length) at its time of
 * day, `months` months after the month `at` falls in. With the same anniversary, N steps of
 * one month end where one step of N months does. Without one, `at` is its own anniversary
 * (31 January + 1 month = 28 February).
 */
export function addMonths(at: number, months: number, zone: string, anniversary = at): number {
  const from = localTime(at, zone);
  const anchor = localTime(anniversary, zone);
  const index = from.year * 12 + (from.month - 1) + months;
  const year = Math.floor(index / 12);
  const month = (index % 12) + 1;
  const day = Math.min(anchor.day, daysInMonth(year, month));
  return fromLocalTime({ ...anchor, year, month, day }, zone);
}

/** The billing cycle (`YYYY-MM`) that `at` falls in, in `zone`. */
export function billingCycle(at: number, zone: string): string {
  const t = localTime(at, zone);
  return `${String(t.year).padStart(4, "0")}-${String(t.month).padStart(2, "0")}`;
}

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

/**
 * Parses `YYYY-MM` and returns the instants [start, end) of that month in `zone`. Each end is
 * computed as the next month's start in the zone (not start + 1 month), so consecutive months
 * meet exactly across daylight-saving changes.
 */
export function monthRange(month: string, zone: string): { start: number; end: number } {
  const m = MONTH.exec(month);
  if (!m) {
    throw new BillingError({
      code: "INVALID_INPUT",
      field: "month",
      problem: `"${echoInput(month)}" is not a month; write it as YYYY-MM`,
    });
  }
  const year = Number(m[1]);
  const mo = Number(m[2]);
  const first = (y: number, mon: number) =>
    fromLocalTime({ year: y, month: mon, day: 1, hour: 0, minute: 0, second: 0, ms: 0 }, zone);
  return { start: first(year, mo), end: mo === 12 ? first(year + 1, 1) : first(year, mo + 1) };
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
