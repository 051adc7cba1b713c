import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { BillingContext } from "../../src/billing/context.js";
import { isBillingError } from "../../src/billing/errors.js";
import { setAutoRenew } from "../../src/billing/instances.js";
import { unsubscribe } from "../../src/billing/refunds.js";
import { approveTicket, fileTicket } from "../../src/billing/tickets.js";
import { getInstance } from "../../src/store/instances.js";
import { listOrders } from "../../src/store/orders.js";
import { getTicket } from "../../src/store/tickets.js";
import { slackPoster } from "../../src/timer/poster.js";
import { sweep } from "../../src/timer/sweep.js";
import {
  admin,
  billingContext,
  DAY_MS,
  fund,
  MEMBER,
  seedInstance,
  T0,
  type TestClock,
} from "../helpers/billing.js";
import { createTestDatabase, type TestDatabase } from "../helpers/databases.js";
import { type FakeSlack, startFakeSlack } from "../helpers/fake-slack.js";
import { HOUR, NO_SLEEP, SETTINGS } from "./harness.js";

describe("timer regressions", () => {
  let t: TestDatabase;
  let fake: FakeSlack;
  let ctx: BillingContext & { clock: TestClock };
  const run = () => sweep(ctx, SETTINGS, slackPoster(fake.botToken, fake.url), NO_SLEEP);

  beforeEach(async () => {
    t = await createTestDatabase("sqlite");
    fake = await startFakeSlack();
    ctx = billingContext(t.db, T0);
  });
  afterEach(async () => {
    await fake.close();
    await t.destroy();
  });

  it("auto-renews again at a later attempt after the first auto-renewal was refunded", async () => {
    await fund(ctx, 10_000_000);
    const expires = T0 + 10 * DAY_MS;
    await seedInstance(t.db, { id: "kst-a", expires_at: expires, auto_renew_months: 1 });
    ctx.clock.set(expires - 3 * DAY_MS + HOUR);
    expect((await run()).renewed).toBe(1);
    // The owner's team unsubscribes: the pending auto-renewal is refunded and auto-renew is off.
    await unsubscribe(ctx, admin, "kst-a");
    expect((await getInstance({ tx: t.db }, "kst-a"))?.expires_at).toBe(expires);
    // ...then changes its mind: the next attempt (1 day before) renews for real.
    await setAutoRenew(ctx, admin, "kst-a", 1);
    ctx.clock.set(expires - DAY_MS + HOUR);
    expect((await run()).renewed).toBe(1);
    const orders = await listOrders({ tx: t.db }, "kst-a");
    expect(orders).toHaveLength(2);
    expect(orders[1].refunded_cents).toBe(0);
    expect((await getInstance({ tx: t.db }, "kst-a"))?.expires_at).toBe(orders[1].period_end);
  });

  it("closes a ticket still open when the timer releases its instance", async () => {
    const expires = T0 - 2 * DAY_MS;
    await seedInstance(t.db, { id: "kst-b", expires_at: expires });
    const { ticket } = await fileTicket(
      ctx,
      { type: "user", userId: MEMBER },
      { instanceId: "kst-b", reason: "not needed" },
    );
    ctx.clock.set(expires + 15 * DAY_MS + HOUR);
    await run();
    const closed = await getTicket({ tx: t.db }, ticket.id);
    expect(closed).toMatchObject({
      status: "rejected",
      open_instance_id: null,
      decided_by: "timer",
    });
    const error = await approveTicket(ctx, admin, ticket.id).catch((e: unknown) => e);
    expect(isBillingError(error, "TICKET_CLOSED")).toBe(true);
  });
});
