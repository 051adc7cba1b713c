import type { InstanceRow, WarningKind, WarningRow } from "../store/rows.js";
import { DAY_MS, releaseAtOf } from "./lifecycle.js";

// The expiry rules the timer applies: which thresholds have been reached, which warning is
// due and which outranks another, snoozes, when an auto-renewal is due, and what comes next.
// Pure functions of the instances, their warnings and the time; the timer does the writing.

export interface ExpirySettings {
  /** Days before expiry to warn at (`KMS_WARN_DAYS`). */
  warnDays: readonly number[];
  /** Days before release to warn an expired instance at (`KMS_RELEASE_WARN_DAYS`). */
  releaseWarnDays: readonly number[];
  /** Where warnings go when an instance has no channel, or its channel refuses them. */
  alertChannel: string;
}

/** The timer's settings from configuration. */
export function timerSettings(config: {
  KMS_WARN_DAYS: readonly number[];
  KMS_RELEASE_WARN_DAYS: readonly number[];
  KMS_ALERT_CHANNEL: string;
}): ExpirySettings {
  return {
    warnDays: config.KMS_WARN_DAYS,
    releaseWarnDays: config.KMS_RELEASE_WARN_DAYS,
    alertChannel: config.KMS_ALERT_CHANNEL,
  };
}

/** Which warning wins when an instance has several due: the most urgent. Receipts never compete. */
export const URGENCY: Partial<Record<WarningKind, number>> = {
  reminder: 1,
  pre_expiry: 2,
  expired: 3,
  pre_release: 4,
  released: 5,
};

const urgency = (kind: WarningKind, otherwise: number) => URGENCY[kind] ?? otherwise;

/** True when `kind` is at most as urgent as `than` (receipts count as the most urgent). */
export function outranks(than: WarningKind, kind: WarningKind): boolean {
  return urgency(kind, 99) <= urgency(than, 0);
}

/** The most urgent threshold that has been reached: the smallest T with `at - T days <= now`. */
export function reachedThreshold(
  thresholds: readonly number[],
  at: number,
  now: number,
): number | undefined {
  const reached = thresholds.filter((t) => at - t * DAY_MS <= now);
  return reached.length > 0 ? Math.min(...reached) : undefined;
}

/** Auto-renewal is tried from 3 days before expiry; 3, 1 and 0 days mark its receipts. */
export const AUTORENEW_SLOTS = [3, 1, 0] as const;

/** The farthest ahead of expiry the timer looks. */
export function horizonMs(settings: ExpirySettings): number {
  return Math.max(...settings.warnDays, ...AUTORENEW_SLOTS) * DAY_MS;
}

export function periodKey(instanceId: string, expiresAt: number): string {
  return `${instanceId}:${expiresAt}`;
}

/** Warnings grouped by the period they are about (instance and expiry). */
export function groupByPeriod(warnings: WarningRow[]): Map<string, WarningRow[]> {
  const groups = new Map<string, WarningRow[]>();
  for (const w of warnings) {
    const key = periodKey(w.instance_id, w.expires_at);
    const group = groups.get(key);
    if (group) group.push(w);
    else groups.set(key, [w]);
  }
  return groups;
}

/** The warnings of each instance's current period. */
export type PeriodWarnings = (instance: InstanceRow) => WarningRow[];

export function periodWarnings(warnings: WarningRow[]): PeriodWarnings {
  const groups = groupByPeriod(warnings);
  return (i) => groups.get(periodKey(i.id, i.expires_at)) ?? [];
}

export interface DueRenewal {
  instance: InstanceRow;
  months: number;
  /** The attempt's slot: 3, 1 or 0 days before expiry (0 also after it). */
  slot: number;
}

/** An instance whose expiry an auto-renewal may move: auto-renew on, not released. */
export function mayAutoRenew(instance: InstanceRow): boolean {
  return instance.auto_renew_months !== null && instance.released_at === null;
}

/**
 * Auto-renewals to try now: every instance with auto-renew on, not released, within 3 days
 * of expiry (or past it), whose current period no auto-renewal has paid at this slot. A failed
 * attempt is tried again on every sweep until it succeeds, the instance is released, or
 * auto-renew is turned off; only its notice is limited to one per slot.
 */
export function dueAutoRenewals(
  candidates: InstanceRow[],
  warningsOf: PeriodWarnings,
  now: number,
): DueRenewal[] {
  const due: DueRenewal[] = [];
  for (const instance of candidates) {
    if (!mayAutoRenew(instance) || instance.auto_renew_months === null) continue;
    if (now >= releaseAtOf(instance.expires_at)) continue;
    const slot = reachedThreshold(AUTORENEW_SLOTS, instance.expires_at, now);
    if (slot === undefined) continue;
    const paid = warningsOf(instance).some((w) => w.kind === "autorenew_ok" && w.slot <= slot);
    if (!paid) due.push({ instance, months: instance.auto_renew_months, slot });
  }
  return due;
}

export interface Transition {
  instance: InstanceRow;
  /** `null` records the expiry without a notice of its own (a pre-release warning says it). */
  kind: "expired" | "released" | null;
}

export interface PlannedWarning {
  instance: InstanceRow;
  kind: WarningKind;
  slot: number;
}

/**
 * What the timer must record as of `now`: lifecycle transitions (expired, released) and the
 * pre-expiry, reminder and pre-release warnings that are due and not yet created.
 */
export function planExpiry(
  candidates: InstanceRow[],
  warningsOf: PeriodWarnings,
  settings: ExpirySettings,
  now: number,
): { transitions: Transition[]; warnings: PlannedWarning[] } {
  const transitions: Transition[] = [];
  const warnings: PlannedWarning[] = [];
  const has = (i: InstanceRow, kind: WarningKind, maxSlot = Number.MAX_SAFE_INTEGER) =>
    warningsOf(i).some((w) => w.kind === kind && w.slot <= maxSlot);
  for (const instance of candidates) {
    const releaseAt = releaseAtOf(instance.expires_at);
    if (now >= releaseAt) {
      transitions.push({ instance, kind: "released" });
      continue;
    }
    if (now >= instance.expires_at) {
      const t = reachedThreshold(settings.releaseWarnDays, releaseAt, now);
      // After downtime, a due pre-release warning says everything the expiry notice would.
      if (!has(instance, "expired"))
        transitions.push({ instance, kind: t !== undefined ? null : "expired" });
      if (t !== undefined && !has(instance, "pre_release", t))
        warnings.push({ instance, kind: "pre_release", slot: t });
      continue;
    }
    const reminder = reminderDue(instance, warningsOf(instance), settings, now, has);
    if (reminder) warnings.push(reminder);
  }
  return { transitions, warnings };
}

function reminderDue(
  instance: InstanceRow,
  ofPeriod: WarningRow[],
  settings: ExpirySettings,
  now: number,
  has: (i: InstanceRow, kind: WarningKind, maxSlot?: number) => boolean,
): PlannedWarning | undefined {
  if (instance.wont_renew_expires_at === instance.expires_at) return undefined;
  const snoozedUntil = instance.snoozed_until;
  if (snoozedUntil !== null && snoozedUntil > now) return undefined;
  const t = reachedThreshold(settings.warnDays, instance.expires_at, now);
  if (t !== undefined && !has(instance, "pre_expiry", t))
    return { instance, kind: "pre_expiry", slot: t };
  if (snoozedUntil === null) return undefined;
  // The snooze is over: remind once, unless a warning went out since it ended.
  const warnedSince = ofPeriod.some(
    (w) => (w.kind === "pre_expiry" || w.kind === "reminder") && w.created_at >= snoozedUntil,
  );
  return warnedSince ? undefined : { instance, kind: "reminder", slot: snoozedUntil };
}

/**
 * Of the due warnings, the ones to post: per instance and period only the most urgent
 * (receipts always go); the others are `outranked`.
 */
export function mostUrgentDue(due: WarningRow[]): { toPost: WarningRow[]; outranked: number[] } {
  const best = new Map<string, WarningRow>();
  const outranked: number[] = [];
  for (const w of due) {
    if (URGENCY[w.kind] === undefined) continue;
    const k = periodKey(w.instance_id, w.expires_at);
    const seen = best.get(k);
    if (!seen) best.set(k, w);
    else if (urgency(w.kind, 0) > urgency(seen.kind, 0)) {
      outranked.push(seen.id);
      best.set(k, w);
    } else outranked.push(w.id);
  }
  const skip = new Set(outranked);
  return { toPost: due.filter((w) => !skip.has(w.id)), outranked };
}

/**
 * A warning overtaken while it waited: about a period that a renewal has replaced, about an
 * instance since released, or a pre-expiry reminder that a snooze or "won't renew" now holds
 * back. Receipts of auto-renewals always go out.
 */
export function outdated(w: WarningRow, instance: InstanceRow, now: number): boolean {
  if (w.kind === "autorenew_ok" || w.kind === "autorenew_failed") return false;
  if (instance.expires_at !== w.expires_at) return true;
  const released = instance.released_at !== null && instance.released_at <= now;
  if (released && w.kind !== "released") return true;
  if (w.kind !== "pre_expiry" && w.kind !== "reminder") return false;
  return (
    instance.wont_renew_expires_at === w.expires_at ||
    (instance.snoozed_until !== null && instance.snoozed_until > now)
  );
}

/** The end of a snooze: 1 or 3 days from now, or the next warning threshold (at the latest, expiry). */
export function snoozeUntil(
  choice: "1d" | "3d" | "next",
  expiresAt: number,
  now: number,
  warnDays: readonly number[],
): number {
  if (choice === "1d") return Math.min(now + DAY_MS, expiresAt);
  if (choice === "3d") return Math.min(now + 3 * DAY_MS, expiresAt);
  const next = warnDays.map((t) => expiresAt - t * DAY_MS).filter((at) => at > now);
  return next.length > 0 ? Math.min(...next) : expiresAt;
}

/** The next moment after `now` one of these instances reaches a threshold, expiry or release. */
export function nextThresholdAt(
  candidates: InstanceRow[],
  settings: ExpirySettings,
  now: number,
): number | undefined {
  const thresholds = [...settings.warnDays, ...AUTORENEW_SLOTS];
  let next: number | undefined;
  for (const i of candidates) {
    const points = [
      ...thresholds.map((t) => i.expires_at - t * DAY_MS),
      ...settings.releaseWarnDays.map((t) => releaseAtOf(i.expires_at) - t * DAY_MS),
      releaseAtOf(i.expires_at),
    ].filter((t) => t > now);
    for (const p of points) if (next === undefined || p < next) next = p;
  }
  return next;
}
