import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { balance } from "../../src/billing/account.js";
import type { BillingContext } from "../../src/billing/context.js";
import { getInstance } from "../../src/store/instances.js";
import { slackPoster } from "../../src/timer/poster.js";
import { sweep } from "../../src/timer/sweep.js";
import {
  billingContext,
  DAY_MS,
  fund,
  seedInstance,
  T0,
  type TestClock,
} from "../helpers/billing.js";
import { createTestDatabase, type TestDatabase } from "../helpers/databases.js";
import { type FakeSlack, startFakeSlack } from "../helpers/fake-slack.js";
import { emojiOf, MINUTE, NO_SLEEP, postsAbout, SETTINGS } from "./harness.js";

// Issue 11 ("Money and dates"): the timer's part, each test failing before its fix.

describe("expiry timer, issue 11", () => {
  let t: TestDatabase;
  let fake: FakeSlack;
  let ctx: BillingContext & { clock: TestClock };
  const run = () => sweep(ctx, SETTINGS, slackPoster(fake.botToken, fake.url), NO_SLEEP);
  const lastText = (id: string) => String(postsAbout(fake, id).at(-1)?.args.text ?? "");
  const lastBlocks = (id: string) => JSON.stringify(postsAbout(fake, id).at(-1)?.args.blocks);

  beforeEach(async () => {
    t = await createTestDatabase("sqlite");
    fake = await startFakeSlack();
    ctx = billingContext(t.db, T0);
  });
  afterEach(async () => {
    await fake.close();
    await t.destroy();
  });

  it("item 6: each warning shows the threshold it was sent for, and release is never 'in 0 days'", async () => {
    const expires = T0 + 30 * DAY_MS;
    await seedInstance(t.db, { id: "kst-d", expires_at: expires });
    ctx.clock.set(expires - 30 * DAY_MS + MINUTE);
    await run();
    expect(lastText("kst-d")).toContain("30 days left");
    ctx.clock.set(expires - DAY_MS + MINUTE);
    await run();
    expect(lastText("kst-d")).toContain("1 day left");
    ctx.clock.set(expires + 14 * DAY_MS + MINUTE);
    await run();
    expect(lastText("kst-d")).toContain("(in 1 day)");
    expect(lastBlocks("kst-d")).toContain("expired 14 days ago, released in 1 day");
  });

  it("item 3: an auto-renewal short of money at every slot renews on the first sweep after a top-up", async () => {
    const expires = T0 + 10 * DAY_MS;
    await seedInstance(t.db, { id: "kst-r", expires_at: expires, auto_renew_months: 1 });
    await fund(ctx, 100_000);
    for (const at of [expires - 3 * DAY_MS, expires - DAY_MS, expires + MINUTE]) {
      ctx.clock.set(at + MINUTE);
      expect((await run()).renewed).toBe(0);
    }
    ctx.clock.set(expires + 2 * DAY_MS);
    await fund(ctx, 100_000);
    ctx.clock.set(expires + 2 * DAY_MS + 5 * MINUTE);
    expect((await run()).renewed).toBe(1);
    const renewed = await getInstance({ tx: t.db }, "kst-r");
    expect(renewed?.expires_at).toBeGreaterThan(ctx.clock());
    expect(await balance(ctx)).toBe(200_000 - 179_900);
    // Three failure notices at most (one per slot), however many sweeps retried.
    expect(postsAbout(fake, "kst-r").filter((c) => emojiOf(c) === ":no_entry:")).toHaveLength(3);
  });
});
