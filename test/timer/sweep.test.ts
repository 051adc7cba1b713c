import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { BillingContext } from "../../src/billing/context.js";
import { renew } from "../../src/billing/orders.js";
import { slackPoster } from "../../src/timer/poster.js";
import { sweep } from "../../src/timer/sweep.js";
import {
  billingContext,
  DAY_MS,
  fund,
  member,
  seedInstance,
  T0,
  type TestClock,
} from "../helpers/billing.js";
import { createTestDatabase, type TestDatabase } from "../helpers/databases.js";
import { type FakeSlack, startFakeSlack } from "../helpers/fake-slack.js";
import { HOUR, NO_SLEEP, SETTINGS } from "./harness.js";

describe("expiry timer", () => {
  let t: TestDatabase;
  let fake: FakeSlack;
  let ctx: BillingContext & { clock: TestClock };
  const run = () => sweep(ctx, SETTINGS, slackPoster(fake.botToken, fake.url), NO_SLEEP);
  const posts = () => fake.callsTo("chat.postMessage").filter((c) => c.response?.ok === true);

  beforeEach(async () => {
    t = await createTestDatabase("sqlite");
    fake = await startFakeSlack();
    ctx = billingContext(t.db, T0);
  });
  afterEach(async () => {
    fake.assertNoViolations();
    await fake.close();
    await t.destroy();
  });

  it("fires every threshold once, at its time, then the expiry, pre-release and release notices", async () => {
    const expires = T0 + 40 * DAY_MS;
    await seedInstance(t.db, {
      id: "kst-a",
      expires_at: expires,
      channel: "C0TEAM",
      owner: "U0OWNER1",
    });
    const seen: string[] = [];
    const at = async (when: number) => {
      ctx.clock.set(when);
      const before = posts().length;
      await run();
      await run(); // a second sweep at the same moment posts nothing more
      for (const c of posts().slice(before)) seen.push(String(c.args.text).split(" ")[0]);
      return posts().length - before;
    };
    expect(await at(expires - 31 * DAY_MS)).toBe(0);
    for (const days of [30, 14, 7, 3, 1]) {
      expect(await at(expires - days * DAY_MS + HOUR), `${days} days`).toBe(1);
      expect(await at(expires - days * DAY_MS + 2 * HOUR)).toBe(0);
    }
    expect(await at(expires + HOUR)).toBe(1);
    for (const days of [7, 3, 1])
      expect(await at(expires + (15 - days) * DAY_MS + HOUR), `release in ${days}`).toBe(1);
    expect(await at(expires + 15 * DAY_MS + HOUR)).toBe(1);
    expect(await at(expires + 40 * DAY_MS)).toBe(0);
    expect(seen).toEqual([
      ...Array(5).fill(":hourglass_flowing_sand:"),
      ":red_circle:",
      ...Array(3).fill(":warning:"),
      ":white_circle:",
    ]);
    for (const c of posts()) {
      expect(c.args.channel).toBe("C0TEAM");
      expect(JSON.stringify(c.args.blocks)).toContain("<@U0OWNER1>");
    }
    const audit = await t.db("audit_log").where({ actor: "timer" }).orderBy("id");
    expect(audit.map((a) => a.action)).toEqual(["instance.expired", "instance.released"]);
  });

  it("warns afresh after a renewal moves the expiry", async () => {
    await fund(ctx, 10_000_000);
    const expires = T0 + 20 * DAY_MS;
    await seedInstance(t.db, { id: "kst-a", expires_at: expires });
    ctx.clock.set(expires - 14 * DAY_MS + HOUR);
    await run();
    expect(posts()).toHaveLength(1);
    const r = await renew(ctx, member, { instanceId: "kst-a", months: 1 });
    ctx.clock.set(expires - 7 * DAY_MS + HOUR);
    await run();
    expect(posts()).toHaveLength(1);
    ctx.clock.set(r.instance.expires_at - 14 * DAY_MS + HOUR);
    await run();
    expect(posts()).toHaveLength(2);
    expect(posts()[1].args.channel).toBe("C0ALERTS");
  });
});
