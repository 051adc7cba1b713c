import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { BillingContext } from "../../src/billing/context.js";
import {
  claimForPosting,
  dueOutbox,
  enqueuePlanned,
  markPosted,
  type WarningRow,
} from "../../src/billing/outbox.js";
import type { InstanceRow } from "../../src/store/rows.js";
import { billingContext, DAY_MS, seedInstance, T0 } from "../helpers/billing.js";
import { createTestDatabase, DATABASES, type TestDatabase } from "../helpers/databases.js";
import { MINUTE, warnings } from "./harness.js";

// A sweep reads the due warnings once and claims each just before posting it, in one
// compare-and-set statement on the warning as read. These check that a warning another
// sweeper claimed, posted or abandoned in between is still decided on its state now.

const AT = T0 + 6 * DAY_MS;
const CLAIM_MS = 2 * MINUTE;

describe.each(DATABASES)("claiming a warning read earlier (%s)", (db) => {
  let t: TestDatabase;
  let ctx: BillingContext;
  let instance: InstanceRow;
  let seen: WarningRow;
  const claim = (holder: string, now: number) =>
    claimForPosting(ctx, seen, holder, now, now + CLAIM_MS);

  beforeEach(async () => {
    t = await createTestDatabase(db);
    ctx = billingContext(t.db, AT);
    instance = await seedInstance(t.db, { id: "kst-1", expires_at: T0 + 7 * DAY_MS });
    await enqueuePlanned(ctx, [{ instance, kind: "pre_expiry", slot: 1 }], () => []);
    [seen] = (await dueOutbox(ctx, 10)) as [WarningRow];
  });
  afterEach(async () => {
    await t.destroy();
  });

  it("is claimed once when nothing changed since it was read", async () => {
    expect(await claim("A", AT)).toEqual({ claimed: true });
    const [row] = await warnings(t.db);
    expect([row?.claimed_by, row?.claimed_until]).toEqual(["A", AT + CLAIM_MS]);
  });

  it("claimed by another sweeper since it was read: left to that sweeper", async () => {
    expect(await claim("B", AT)).toEqual({ claimed: true });
    expect(await claim("A", AT + 1_000)).toEqual({ claimed: false });
    expect((await warnings(t.db))[0]?.claimed_by).toBe("B");
  });

  it("posted by another sweeper since it was read: not claimed", async () => {
    await claim("B", AT);
    await markPosted(ctx, seen.id, "C0TEAM", "1.000001");
    // B's claim would have run out by now; the warning is sent all the same.
    expect(await claim("A", AT + 10 * MINUTE)).toEqual({ claimed: false });
  });

  it("abandoned by a sweeper that died since it was read: claimed, and said to be uncertain", async () => {
    await claim("B", AT);
    const later = AT + 10 * MINUTE;
    expect(await claim("A", later)).toEqual({ claimed: true, uncertainSince: AT });
    expect((await warnings(t.db))[0]?.claimed_by).toBe("A");
  });

  it("planned twice: created once; a new, more urgent one supersedes what still waits", async () => {
    await enqueuePlanned(ctx, [{ instance, kind: "pre_expiry", slot: 1 }], () => []);
    expect(await warnings(t.db)).toHaveLength(1);
    await enqueuePlanned(ctx, [{ instance, kind: "pre_release", slot: 7 }], () => [seen]);
    expect((await warnings(t.db)).map((w) => `${w.kind} ${w.status}`)).toEqual([
      "pre_expiry superseded",
      "pre_release pending",
    ]);
  });
});
