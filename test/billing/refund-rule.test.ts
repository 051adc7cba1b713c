import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BillingError } from "../../src/billing/errors.js";
import { DAY_MS } from "../../src/billing/lifecycle.js";
import { computeRefund, type RefundEstimate, unusedShare } from "../../src/billing/refunds.js";
import type { InstanceRow, OrderRow } from "../../src/store/rows.js";

const INTL = 179_900;
const CHINA = 239_900;
const SECOND = 1_000;

/** Start of the current paid period in most cases: 1 June 2026 00:00 UTC. */
const S = Date.UTC(2026, 5, 1);

function inst(fields: Partial<InstanceRow> = {}): InstanceRow {
  return {
    id: "kst-1",
    name: "payments HSM",
    site: "international",
    expires_at: S + 30 * DAY_MS,
    admin_disabled_at: null,
    released_at: null,
    channel: null,
    owner: null,
    auto_renew_months: null,
    snoozed_until: null,
    wont_renew_expires_at: null,
    created_at: S - DAY_MS,
    updated_at: S - DAY_MS,
    ...fields,
  };
}

let nextId = 1;
function order(
  fields: Partial<OrderRow> & Pick<OrderRow, "period_start" | "period_end">,
): OrderRow {
  const months = fields.months ?? 1;
  const unit = fields.unit_cents ?? INTL;
  return {
    id: nextId++,
    kind: "renewal",
    instance_id: "kst-1",
    site: "international",
    months,
    unit_cents: unit,
    amount_cents: unit * months,
    refunded_cents: 0,
    idempotency_key: null,
    created_by: "UADMIN001",
    created_at: S - DAY_MS,
    status: "paid",
    account_order_id: null,
    client_token: null,
    last_error: null,
    ...fields,
  };
}

function refusedAsReleased(instance: InstanceRow, orders: OrderRow[], now: number): void {
  let error: unknown;
  try {
    computeRefund(instance, orders, now);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(BillingError);
  expect((error as BillingError).failure).toEqual({
    code: "INSTANCE_RELEASED",
    instanceId: instance.id,
  });
}

describe("computeRefund: active instance", () => {
  const E = S + 30 * DAY_MS;
  const current = order({ kind: "purchase", period_start: S, period_end: E });
  const next = order({ period_start: E, period_end: E + 31 * DAY_MS });
  const later = order({
    months: 3,
    period_start: E + 31 * DAY_MS,
    period_end: E + 123 * DAY_MS,
  });
  const otherInstance = order({
    instance_id: "kst-2",
    period_start: E,
    period_end: E + 31 * DAY_MS,
  });
  const now = S + 10 * DAY_MS;
  const instance = inst({ expires_at: later.period_end });

  it("refunds every pending renewal in full and nothing of the running period", () => {
    const r = computeRefund(instance, [current, next, later, otherInstance], now);
    expect(r.lifecycle.state).toBe("active");
    expect(r.lines).toEqual([
      {
        orderId: next.id,
        kind: "pending_renewal",
        cents: INTL,
        paidCents: INTL,
        periodStart: E,
        periodEnd: E + 31 * DAY_MS,
      },
      {
        orderId: later.id,
        kind: "pending_renewal",
        cents: 3 * INTL,
        paidCents: 3 * INTL,
        periodStart: E + 31 * DAY_MS,
        periodEnd: E + 123 * DAY_MS,
      },
    ]);
    expect(r.totalCents).toBe(4 * INTL);
    expect(r.nothingBecause).toBeNull();
  });

  it("runs on to the start of its first pending renewal", () => {
    const r = computeRefund(instance, [current, next, later], now);
    expect(r.outcome).toBe("runs_to_expiry");
    expect(r.expiresAfter).toBe(E);
  });

  it("treats a renewal starting exactly now as begun, not pending", () => {
    const r = computeRefund(instance, [current, next, later], E - 1);
    expect(r.lines.map((l) => l.orderId)).toEqual([next.id, later.id]);
    // One millisecond later `next` has begun; the instance is still active (expires later).
    const r2 = computeRefund(instance, [current, next, later], E);
    expect(r2.lifecycle.state).toBe("active");
    expect(r2.lines.map((l) => l.orderId)).toEqual([later.id]);
    expect(r2.expiresAfter).toBe(E + 31 * DAY_MS);
  });

  it("refunds nothing without pending renewals, and says why", () => {
    const r = computeRefund(inst(), [current], now);
    expect(r.lines).toEqual([]);
    expect(r.totalCents).toBe(0);
    expect(r.outcome).toBe("runs_to_expiry");
    expect(r.expiresAfter).toBe(E);
    expect(r.nothingBecause).toMatch(/active instance is refunded only its pending renewal/);
  });
});

describe("computeRefund: disabled by an admin", () => {
  it("refunds the unused share of the current period, by the second, rounded down", () => {
    const E = S + 30 * DAY_MS;
    const current = order({ kind: "purchase", period_start: S, period_end: E });
    // 1 day and 5 seconds used: 2,505,595 of 2,592,000 seconds unused of USD 1,799.00,
    // which is 173,902.986... cents: 173,902 (not 173,903).
    const now = S + DAY_MS + 5 * SECOND;
    const r = computeRefund(inst({ admin_disabled_at: now - 1 }), [current], now);
    expect(r.lifecycle).toMatchObject({ state: "disabled", reason: "admin" });
    expect(r.lines).toEqual([
      {
        orderId: current.id,
        kind: "unused_period",
        cents: 173_902,
        paidCents: INTL,
        periodStart: S,
        periodEnd: E,
      },
    ]);
    expect(r.totalCents).toBe(173_902);
    expect(r.outcome).toBe("released");
    expect(r.nothingBecause).toBeNull();
  });

  it("counts only whole unused seconds (a started second is used)", () => {
    const E = S + 30 * DAY_MS;
    const current = order({ kind: "purchase", period_start: S, period_end: E });
    const at = (now: number) =>
      computeRefund(inst({ admin_disabled_at: S }), [current], now).totalCents;
    // 2,505,595 s unused -> 173,902.98; 2,505,594.001 s counts as 2,505,594 -> 173,902.91.
    expect(at(S + DAY_MS + 5 * SECOND)).toBe(173_902);
    expect(at(S + DAY_MS + 5 * SECOND + 999)).toBe(173_902);
    // 2,505,599 s unused -> 173,903.26.
    expect(at(S + DAY_MS + 1)).toBe(173_903);
  });

  it("adds pending renewals in full to the unused share of a three-month China order", () => {
    const start = Date.UTC(2026, 0, 1);
    const E = start + 90 * DAY_MS;
    const current = order({
      kind: "renewal",
      site: "china",
      months: 3,
      unit_cents: CHINA,
      period_start: start,
      period_end: E,
    });
    const pending = order({
      site: "china",
      unit_cents: CHINA,
      period_start: E,
      period_end: E + 31 * DAY_MS,
    });
    // 3,933,001 of 7,776,000 seconds used: 719,700 x 3,842,999 / 7,776,000 = 355,684.97...
    const now = start + 3_933_001 * SECOND;
    const r = computeRefund(
      inst({ site: "china", expires_at: E + 31 * DAY_MS, admin_disabled_at: start }),
      [current, pending],
      now,
    );
    expect(r.lines.map((l) => [l.orderId, l.kind, l.cents])).toEqual([
      [pending.id, "pending_renewal", CHINA],
      [current.id, "unused_period", 355_684],
    ]);
    expect(r.totalCents).toBe(CHINA + 355_684);
    expect(r.outcome).toBe("released");
  });

  it("refunds nothing when the current period was not paid through the bot", () => {
    const r = computeRefund(inst({ admin_disabled_at: S }), [], S + DAY_MS);
    expect(r.lifecycle).toMatchObject({ state: "disabled", reason: "admin" });
    expect(r.lines).toEqual([]);
    expect(r.totalCents).toBe(0);
    expect(r.nothingBecause).toMatch(/not paid through kms-bot/);
  });
});

describe("computeRefund: expired and released", () => {
  const E = S + 30 * DAY_MS;
  const current = order({ kind: "purchase", period_start: S, period_end: E });

  it("refunds nothing for an expired instance, giving the reason", () => {
    for (const now of [E, E + 3 * DAY_MS, E + 15 * DAY_MS - 1]) {
      const r = computeRefund(inst(), [current], now);
      expect(r.lifecycle).toMatchObject({ state: "disabled", reason: "expired" });
      expect(r.lines).toEqual([]);
      expect(r.totalCents).toBe(0);
      expect(r.outcome).toBe("released");
      expect(r.nothingBecause).toMatch(/expired/);
    }
  });

  it("refuses a released instance with INSTANCE_RELEASED", () => {
    refusedAsReleased(inst(), [current], E + 15 * DAY_MS);
    refusedAsReleased(inst({ released_at: S + DAY_MS }), [current], S + 2 * DAY_MS);
  });
});

describe("computeRefund: partly refunded orders", () => {
  const E = S + 30 * DAY_MS;

  it("caps a pending renewal at what is left of it", () => {
    const pending = order({
      period_start: E,
      period_end: E + 31 * DAY_MS,
      refunded_cents: 100_000,
    });
    const r = computeRefund(inst({ expires_at: pending.period_end }), [pending], S + DAY_MS);
    expect(r.lines).toMatchObject([{ orderId: pending.id, cents: INTL - 100_000 }]);
    expect(r.totalCents).toBe(79_900);
  });

  it("skips a fully refunded order", () => {
    const pending = order({ period_start: E, period_end: E + 31 * DAY_MS, refunded_cents: INTL });
    const r = computeRefund(inst({ expires_at: pending.period_end }), [pending], S + DAY_MS);
    expect(r.lines).toEqual([]);
    expect(r.totalCents).toBe(0);
    expect(r.nothingBecause).not.toBeNull();
  });

  it("caps the unused share of the current period at what is left of the order", () => {
    const current = order({
      kind: "purchase",
      period_start: S,
      period_end: E,
      refunded_cents: 150_000,
    });
    // Half the period unused would be 89,950 cents, but only 29,900 are left to refund.
    const r = computeRefund(inst({ admin_disabled_at: S }), [current], S + 15 * DAY_MS);
    expect(r.lines).toMatchObject([{ orderId: current.id, kind: "unused_period", cents: 29_900 }]);
    expect(r.totalCents).toBe(29_900);
  });
});

describe("unusedShare", () => {
  const E = S + 30 * DAY_MS;

  it("is the whole price before the period starts and nothing from its end", () => {
    expect(unusedShare(INTL, S, E, S)).toBe(INTL);
    expect(unusedShare(INTL, S, E, S - DAY_MS)).toBe(INTL);
    expect(unusedShare(INTL, S, E, E)).toBe(0);
    expect(unusedShare(INTL, S, E, E + DAY_MS)).toBe(0);
    expect(unusedShare(INTL, S, E, S + 15 * DAY_MS)).toBe(89_950);
  });

  it("is exact for large amounts (no floating point loss)", () => {
    // 10,000,000.00 USD for 36 months, a third of it used: exactly two thirds is left
    // when the seconds divide evenly (1,095 days -> 365 days used).
    const end = S + 1_095 * DAY_MS;
    expect(unusedShare(1_000_000_000, S, end, S + 365 * DAY_MS)).toBe(666_666_666);
  });

  const period = fc
    .tuple(
      fc.integer({ min: Date.UTC(2024, 0, 1), max: Date.UTC(2030, 0, 1) }),
      fc.integer({ min: 1, max: 3 * 366 * 86_400 }),
    )
    .map(([start, seconds]) => ({ start, end: start + seconds * SECOND }));

  it("never exceeds what was paid and never increases as time passes (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000_000 }),
        period,
        fc.integer({ min: -DAY_MS, max: 4 * 366 * DAY_MS }),
        fc.integer({ min: 0, max: 30 * DAY_MS }),
        (paid, { start, end }, offset, step) => {
          const now = start + offset;
          const a = unusedShare(paid, start, end, now);
          const b = unusedShare(paid, start, end, now + step);
          expect(Number.isSafeInteger(a)).toBe(true);
          expect(a).toBeGreaterThanOrEqual(0);
          expect(a).toBeLessThanOrEqual(paid);
          expect(b).toBeLessThanOrEqual(a);
          if (now <= start) expect(a).toBe(paid);
          if (now >= end) expect(a).toBe(0);
        },
      ),
    );
  });
});

describe("computeRefund (property)", () => {
  const T = Date.UTC(2026, 0, 1);
  const arbOrder = fc
    .record({
      kind: fc.constantFrom("purchase" as const, "renewal" as const),
      instanceId: fc.constantFrom("kst-1", "kst-1", "kst-1", "kst-2"),
      months: fc.constantFrom(1, 2, 3, 6, 12, 24, 36),
      unit: fc.integer({ min: 1, max: 500_000 }),
      startOffset: fc.integer({ min: -400 * DAY_MS, max: 400 * DAY_MS }),
      days: fc.integer({ min: 1, max: 1_100 }),
      refundedShare: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1, noNaN: true })),
    })
    .map((o): OrderRow => {
      const amount = o.unit * o.months;
      return order({
        kind: o.kind,
        instance_id: o.instanceId,
        months: o.months,
        unit_cents: o.unit,
        amount_cents: amount,
        refunded_cents: Math.floor(amount * o.refundedShare),
        period_start: T + o.startOffset,
        period_end: T + o.startOffset + o.days * DAY_MS,
      });
    });

  it("refunds each order at most what is left of it, and totals its lines", () => {
    fc.assert(
      fc.property(
        fc.array(arbOrder, { maxLength: 8 }),
        fc.integer({ min: -200 * DAY_MS, max: 200 * DAY_MS }),
        fc.integer({ min: -400 * DAY_MS, max: 400 * DAY_MS }),
        fc.boolean(),
        fc.option(fc.integer({ min: -400 * DAY_MS, max: 400 * DAY_MS })),
        (orders, expiresOffset, nowOffset, adminDisabled, releasedOffset) => {
          const now = T + nowOffset;
          const instance = inst({
            expires_at: T + expiresOffset,
            admin_disabled_at: adminDisabled ? T - 500 * DAY_MS : null,
            released_at: releasedOffset === null ? null : T + releasedOffset,
          });
          const released =
            (instance.released_at !== null && instance.released_at <= now) ||
            now >= instance.expires_at + 15 * DAY_MS;
          if (released) {
            refusedAsReleased(instance, orders, now);
            return;
          }
          const r: RefundEstimate = computeRefund(instance, orders, now);
          const byId = new Map(orders.map((o) => [o.id, o]));
          const ids = r.lines.map((l) => l.orderId);
          expect(new Set(ids).size).toBe(ids.length);
          for (const line of r.lines) {
            const o = byId.get(line.orderId);
            expect(o).toBeDefined();
            if (!o) continue;
            expect(o.instance_id).toBe("kst-1");
            expect(line.cents).toBeGreaterThanOrEqual(0);
            expect(line.cents).toBeLessThanOrEqual(o.amount_cents - o.refunded_cents);
            expect(line.paidCents).toBe(o.amount_cents);
            if (line.kind === "pending_renewal") {
              expect(o.kind).toBe("renewal");
              expect(o.period_start).toBeGreaterThan(now);
              expect(line.cents).toBe(o.amount_cents - o.refunded_cents);
            } else {
              expect(r.lifecycle.state).toBe("disabled");
              expect(o.period_start).toBeLessThanOrEqual(now);
              expect(o.period_end).toBeGreaterThan(now);
            }
          }
          // Every unrefunded pending renewal of this instance is refunded.
          const pending = orders.filter(
            (o) =>
              o.instance_id === "kst-1" &&
              o.kind === "renewal" &&
              o.period_start > now &&
              o.refunded_cents < o.amount_cents,
          );
          expect(r.lines.filter((l) => l.kind === "pending_renewal").map((l) => l.orderId)).toEqual(
            pending.map((o) => o.id),
          );
          expect(r.lines.filter((l) => l.kind === "unused_period").length).toBeLessThanOrEqual(1);
          if (r.lifecycle.state === "active") {
            expect(r.lines.every((l) => l.kind === "pending_renewal")).toBe(true);
            expect(r.outcome).toBe("runs_to_expiry");
          } else {
            expect(r.outcome).toBe("released");
          }
          expect(r.totalCents).toBe(r.lines.reduce((sum, l) => sum + l.cents, 0));
          expect(r.nothingBecause === null).toBe(r.totalCents > 0);
        },
      ),
    );
  });
});
