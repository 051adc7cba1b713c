import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DAY_MS,
  daysUntil,
  type Lifecycle,
  lifecycleOf,
  RELEASE_AFTER_MS,
  releaseAtOf,
} from "../../src/billing/lifecycle.js";

const EXPIRES = Date.UTC(2026, 5, 30, 8, 0, 0);
const RELEASE = EXPIRES + 15 * DAY_MS;

type Fields = Parameters<typeof lifecycleOf>[0];
const instance = (fields: Partial<Fields> = {}): Fields => ({
  expires_at: EXPIRES,
  admin_disabled_at: null,
  released_at: null,
  ...fields,
});

function disabled(l: Lifecycle): Extract<Lifecycle, { state: "disabled" }> {
  expect(l.state).toBe("disabled");
  return l as Extract<Lifecycle, { state: "disabled" }>;
}

describe("lifecycle boundaries", () => {
  it("releases on the 16th day after expiry: expires_at + 15 days", () => {
    expect(RELEASE_AFTER_MS).toBe(15 * 86_400_000);
    expect(releaseAtOf(EXPIRES)).toBe(RELEASE);
  });

  it("is active up to the last millisecond before expires_at", () => {
    const l = lifecycleOf(instance(), EXPIRES - 1);
    expect(l).toEqual({ state: "active", remainingDays: 1, expiresAt: EXPIRES });
  });

  it("is disabled (expired) exactly at expires_at", () => {
    const l = disabled(lifecycleOf(instance(), EXPIRES));
    expect(l).toEqual({
      state: "disabled",
      reason: "expired",
      expiresAt: EXPIRES,
      remainingDays: 0,
      daysSinceExpiry: 0,
      releaseAt: RELEASE,
      daysToRelease: 15,
    });
  });

  it("is still disabled the last millisecond before expires_at + 15 days", () => {
    const l = disabled(lifecycleOf(instance(), RELEASE - 1));
    expect(l.reason).toBe("expired");
    expect(l.daysSinceExpiry).toBe(14);
    expect(l.daysToRelease).toBe(1);
  });

  it("is released exactly at expires_at + 15 days", () => {
    expect(lifecycleOf(instance(), RELEASE)).toEqual({
      state: "released",
      releasedAt: RELEASE,
      expiresAt: EXPIRES,
    });
  });

  it("is released from released_at on, even while still paid up", () => {
    const releasedAt = EXPIRES - 40 * DAY_MS;
    expect(lifecycleOf(instance({ released_at: releasedAt }), releasedAt - 1).state).toBe("active");
    expect(lifecycleOf(instance({ released_at: releasedAt }), releasedAt)).toEqual({
      state: "released",
      releasedAt,
      expiresAt: EXPIRES,
    });
  });

  it("is disabled by an admin before expiry, counting the days it had left", () => {
    const now = EXPIRES - 10 * DAY_MS - 1;
    const l = disabled(lifecycleOf(instance({ admin_disabled_at: now - DAY_MS }), now));
    expect(l.reason).toBe("admin");
    expect(l.remainingDays).toBe(11);
    expect(l.daysSinceExpiry).toBe(0);
    expect(l.releaseAt).toBe(RELEASE);
    expect(l.daysToRelease).toBe(26);
  });

  it("reports an admin-disabled instance as expired once its expiry passes", () => {
    const l = disabled(lifecycleOf(instance({ admin_disabled_at: EXPIRES - DAY_MS }), EXPIRES));
    expect(l.reason).toBe("expired");
  });

  it("releases an admin-disabled instance at expires_at + 15 days like any other", () => {
    expect(lifecycleOf(instance({ admin_disabled_at: EXPIRES - DAY_MS }), RELEASE).state).toBe(
      "released",
    );
  });
});

describe("day counts (issue 11 item 6)", () => {
  it("counts the Remaining Subscription Period in days, a started day counting whole", () => {
    expect(lifecycleOf(instance(), EXPIRES - 101 * DAY_MS).state).toBe("active");
    expect(lifecycleOf(instance(), EXPIRES - 101 * DAY_MS)).toMatchObject({ remainingDays: 101 });
    expect(lifecycleOf(instance(), EXPIRES - 101 * DAY_MS + 1)).toMatchObject({
      remainingDays: 101,
    });
    expect(lifecycleOf(instance(), EXPIRES - DAY_MS)).toMatchObject({ remainingDays: 1 });
  });

  it("days since expiry and days until release add up to 15", () => {
    const l = disabled(lifecycleOf(instance(), EXPIRES + 3 * DAY_MS + 5_000));
    expect(l.daysSinceExpiry).toBe(3);
    // 11 days, 23 hours, 59 minutes and 55 seconds left: the 12th day has begun.
    expect(l.daysToRelease).toBe(12);
    expect(l.remainingDays).toBe(0);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: RELEASE_AFTER_MS - 1 }), (since) => {
        const d = disabled(lifecycleOf(instance(), EXPIRES + since));
        expect(d.daysSinceExpiry + d.daysToRelease).toBe(15);
        expect(d.daysToRelease).toBeGreaterThan(0);
      }),
    );
  });

  it("a warning sent at a threshold (within a sweep's 5 minutes) shows that threshold", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(30, 14, 7, 3, 1),
        fc.integer({ min: 0, max: 5 * 60_000 }),
        (threshold, late) => {
          const now = EXPIRES - threshold * DAY_MS + late;
          expect(lifecycleOf(instance(), now)).toMatchObject({ remainingDays: threshold });
        },
      ),
    );
  });

  it("daysUntil is negative for a time past and never -0", () => {
    expect(daysUntil(EXPIRES, EXPIRES + 5 * DAY_MS)).toBe(-5);
    expect(daysUntil(EXPIRES, EXPIRES + DAY_MS - 1)).toBe(0);
    expect(Object.is(daysUntil(EXPIRES, EXPIRES + 1), 0)).toBe(true);
    expect(daysUntil(EXPIRES, EXPIRES - 1)).toBe(1);
  });
});

describe("lifecycle rule (property)", () => {
  const time = fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2035, 0, 1) });
  const offset = fc.integer({ min: -40 * DAY_MS, max: 40 * DAY_MS });
  // Bias towards the exact boundaries, where off-by-one mistakes live.
  const delta = fc.oneof(offset, fc.constantFrom(-1, 0, 1, RELEASE_AFTER_MS - 1, RELEASE_AFTER_MS));

  it("active iff before expiry, not admin-disabled and not released; released iff released_at <= now or now >= expires + 15 days", () => {
    fc.assert(
      fc.property(
        time,
        delta,
        fc.option(fc.integer({ min: -60 * DAY_MS, max: 60 * DAY_MS })),
        fc.option(fc.integer({ min: -60 * DAY_MS, max: 60 * DAY_MS })),
        (expiresAt, nowDelta, disabledDelta, releasedDelta) => {
          const now = expiresAt + nowDelta;
          const fields = instance({
            expires_at: expiresAt,
            admin_disabled_at: disabledDelta === null ? null : now + disabledDelta,
            released_at: releasedDelta === null ? null : now + releasedDelta,
          });
          const l = lifecycleOf(fields, now);
          const released =
            (fields.released_at !== null && fields.released_at <= now) ||
            now >= expiresAt + 15 * DAY_MS;
          const active = !released && now < expiresAt && fields.admin_disabled_at === null;
          expect(l.state === "released").toBe(released);
          expect(l.state === "active").toBe(active);
          expect(l.state === "disabled").toBe(!released && !active);
          expect(l.expiresAt).toBe(expiresAt);
          if (l.state === "disabled") {
            expect(l.reason).toBe(now >= expiresAt ? "expired" : "admin");
            expect(l.releaseAt).toBe(expiresAt + 15 * DAY_MS);
            expect(l.daysToRelease).toBe(Math.ceil((l.releaseAt - now) / DAY_MS));
            expect(l.daysSinceExpiry).toBe(Math.max(0, Math.floor((now - expiresAt) / DAY_MS)));
          }
          if (l.state !== "released") {
            expect(l.remainingDays).toBe(Math.max(0, Math.ceil((expiresAt - now) / DAY_MS)));
          }
        },
      ),
    );
  });
});
