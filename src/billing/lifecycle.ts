import type { InstanceRow } from "../store/rows.js";

export const DAY_MS = 86_400_000;
/** An expired instance is released on the 16th day after expiry: `expires_at + 15 days`. */
export const RELEASE_AFTER_MS = 15 * DAY_MS;

export type LifecycleState = "active" | "disabled" | "released";

export type Lifecycle =
  | { state: "active"; remainingDays: number; expiresAt: number }
  | {
      state: "disabled";
      reason: "expired" | "admin";
      expiresAt: number;
      /** Days left before expiry (admin-disabled) or 0 once expired (see `daysUntil`). */
      remainingDays: number;
      daysSinceExpiry: number;
      releaseAt: number;
      daysToRelease: number;
    }
  | { state: "released"; releasedAt: number; expiresAt: number };

type LifecycleFields = Pick<InstanceRow, "expires_at" | "admin_disabled_at" | "released_at">;

export function releaseAtOf(expiresAt: number): number {
  return expiresAt + RELEASE_AFTER_MS;
}

/**
 * The one day count every surface shows (status, warnings, modals, the FAQ): days from `now`
 * to `at`, a started day counting as a whole one. Negative for a time past, so that days
 * since expiry plus days to release is always 15, and a warning sent at the 30-day threshold
 * reads "30 days left".
 */
export function daysUntil(at: number, now: number): number {
  return Math.ceil((at - now) / DAY_MS) || 0;
}

/**
 * The state of an instance at `now`, derived from its dates alone: active until
 * `expires_at`, disabled from then (or from an admin's disable), released at
 * `expires_at + 15 days` or when an unsubscription released it.
 */
export function lifecycleOf(instance: LifecycleFields, now: number): Lifecycle {
  const expiresAt = instance.expires_at;
  const releaseAt = releaseAtOf(expiresAt);
  if (instance.released_at !== null && instance.released_at <= now) {
    return { state: "released", releasedAt: instance.released_at, expiresAt };
  }
  if (now >= releaseAt) return { state: "released", releasedAt: releaseAt, expiresAt };
  const expired = now >= expiresAt;
  if (expired || instance.admin_disabled_at !== null) {
    return {
      state: "disabled",
      reason: expired ? "expired" : "admin",
      expiresAt,
      remainingDays: Math.max(0, daysUntil(expiresAt, now)),
      daysSinceExpiry: Math.max(0, -daysUntil(expiresAt, now)),
      releaseAt,
      daysToRelease: daysUntil(releaseAt, now),
    };
  }
  return { state: "active", remainingDays: daysUntil(expiresAt, now), expiresAt };
}
