import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { BillingContext } from "../../src/billing/context.js";
import { slackPoster } from "../../src/timer/poster.js";
import { sweep } from "../../src/timer/sweep.js";
import { billingContext, DAY_MS, seedInstance, T0, type TestClock } from "../helpers/billing.js";
import { createTestDatabase, type TestDatabase } from "../helpers/databases.js";
import { type FakeSlack, startFakeSlack } from "../helpers/fake-slack.js";
import {
  emojiOf,
  HOUR,
  NO_SLEEP,
  okPosts,
  postsAbout,
  SETTINGS,
  timerAudit,
  warnings,
} from "./harness.js";

describe("expiry timer: after downtime", () => {
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
    fake.assertNoViolations();
    await fake.close();
    await t.destroy();
  });

  it("20 days down: one warning per instance, the most urgent, and nothing more on later sweeps", async () => {
    const back = T0 + 20 * DAY_MS;
    // As of `back`: expires in 5 days; expired 3, 10 and 16 days ago.
    const instances = {
      "kst-soon": back + 5 * DAY_MS,
      "kst-expired": back - 3 * DAY_MS,
      "kst-releasing": back - 10 * DAY_MS,
      "kst-released": back - 16 * DAY_MS,
    };
    for (const [id, expires_at] of Object.entries(instances)) {
      await seedInstance(t.db, { id, expires_at, channel: "C0TEAM" });
    }
    // Before the downtime every instance got the warning due then.
    expect((await run()).posted).toBe(4);
    const before = okPosts(fake).length;

    ctx.clock.set(back);
    const s = await run();
    expect(s.posted).toBe(4);
    const posts = okPosts(fake).slice(before);
    expect(posts).toHaveLength(4);
    const kinds = Object.fromEntries(
      Object.keys(instances).map((id) => {
        const about = posts.filter((p) => String(p.args.text).includes(`*${id}*`));
        expect(about, id).toHaveLength(1);
        return [id, emojiOf(about[0] ?? { method: "", args: {}, at: 0 })];
      }),
    );
    expect(kinds).toEqual({
      "kst-soon": ":hourglass_flowing_sand:",
      "kst-expired": ":red_circle:",
      "kst-releasing": ":warning:",
      "kst-released": ":white_circle:",
    });
    // The most urgent threshold: 7 days before expiry (not 14), 7 days before release.
    const sent = (await warnings(t.db)).filter((w) => w.status === "sent" && w.sent_at === back);
    expect(sent.map((w) => `${w.instance_id} ${w.kind} ${w.slot}`).sort()).toEqual([
      "kst-expired expired 0",
      "kst-released released 0",
      "kst-releasing pre_release 7",
      "kst-soon pre_expiry 7",
    ]);
    expect(String(postsAbout(fake, "kst-releasing").at(-1)?.args.text)).toContain("*released* on");
    expect((await warnings(t.db)).filter((w) => w.status === "pending")).toEqual([]);
    expect(await t.db("instances").where({ id: "kst-released" }).first()).toMatchObject({
      released_at: instances["kst-released"] + 15 * DAY_MS,
    });
    const audit = await timerAudit(t.db);
    expect(audit).toContain("instance.expired kst-expired");
    expect(audit).toContain("instance.expired kst-releasing");
    expect(audit).toContain("instance.released kst-released");
    expect(new Set(audit).size).toBe(audit.length);

    for (const at of [back, back + 1, back + HOUR]) {
      ctx.clock.set(at);
      expect((await run()).posted).toBe(0);
    }
    expect(okPosts(fake)).toHaveLength(before + 4);
    expect(await timerAudit(t.db)).toEqual(audit);
  });

  it("a warning that kept failing is replaced by the more urgent one due now, not posted on top of it", async () => {
    const expires = T0 + 10 * DAY_MS;
    await seedInstance(t.db, { id: "kst-a", expires_at: expires });
    fake.down();
    await run(); // the 14-day warning fails and stays due
    ctx.clock.set(expires + HOUR);
    fake.down(false);
    expect((await run()).posted).toBe(1);
    expect(okPosts(fake).map(emojiOf)).toEqual([":red_circle:"]);
    ctx.clock.advance(HOUR);
    await run();
    expect(okPosts(fake)).toHaveLength(1);
  });
});
