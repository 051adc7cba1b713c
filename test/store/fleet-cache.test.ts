import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fleetCounts, soonestFleet } from "../../src/billing/instances.js";
import { renew } from "../../src/billing/orders.js";
import { billingContext, DAY_MS, fund, member, seedInstance, T0 } from "../helpers/billing.js";
import { createTestDatabase, DATABASES, type TestDatabase } from "../helpers/databases.js";

describe.each(DATABASES)(
  "the fleet reads that status, App Home and the modals share (%s)",
  (dbId) => {
    let t: TestDatabase;
    beforeEach(async () => {
      t = await createTestDatabase(dbId);
    });
    afterEach(async () => {
      await t.destroy();
    });

    it("a burst of reads shares one query", async () => {
      const ctx = billingContext(t.db);
      await seedInstance(t.db, { id: "kst-a" });
      let selects = 0;
      const count = (q: { sql: string }) => {
        if (/^select/i.test(q.sql)) selects++;
      };
      t.db.on("query", count);
      await Promise.all(Array.from({ length: 20 }, () => fleetCounts(ctx)));
      await Promise.all(Array.from({ length: 20 }, () => soonestFleet(ctx, 600)));
      t.db.off("query", count);
      expect(selects).toBe(2);
    });

    it("shows this process's writes at once: a renewal, a new instance", async () => {
      const ctx = billingContext(t.db);
      await fund(ctx, 1_000_000);
      await seedInstance(t.db, { id: "kst-a", expires_at: T0 + 10 * DAY_MS });
      expect((await soonestFleet(ctx, 10))[0]?.instance.expires_at).toBe(T0 + 10 * DAY_MS);
      expect((await fleetCounts(ctx)).total).toBe(1);
      const { order } = await renew(ctx, member, { instanceId: "kst-a", months: 1 });
      expect((await soonestFleet(ctx, 10))[0]?.instance.expires_at).toBe(order.period_end);
      await seedInstance(t.db, { id: "kst-b" });
      expect((await fleetCounts(ctx)).total).toBe(2);
      expect(await soonestFleet(ctx, 10)).toHaveLength(2);
    });

    it("follows the clock: an instance past its expiry counts as disabled", async () => {
      const ctx = billingContext(t.db);
      await seedInstance(t.db, { id: "kst-a", expires_at: T0 + DAY_MS });
      expect(await fleetCounts(ctx)).toMatchObject({ active: 1, disabled: 0 });
      ctx.clock.advance(2 * DAY_MS);
      expect(await fleetCounts(ctx)).toMatchObject({ active: 0, disabled: 1 });
    });
  },
);
