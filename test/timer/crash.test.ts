import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { BillingContext } from "../../src/billing/context.js";
import { slackPoster } from "../../src/timer/poster.js";
import { type Poster, sweep } from "../../src/timer/sweep.js";
import { billingContext, DAY_MS, seedInstance, T0 } from "../helpers/billing.js";
import { startCli } from "../helpers/cli-process.js";
import { createTestDatabase, DATABASES, type TestDatabase } from "../helpers/databases.js";
import { type FakeSlack, startFakeSlack } from "../helpers/fake-slack.js";
import {
  cliEnv,
  HOUR,
  iso,
  MINUTE,
  NO_SLEEP,
  okPosts,
  postsAbout,
  postsPerWarningId,
  SETTINGS,
  warnings,
} from "./harness.js";

const AT = T0 + HOUR;
const IDS = ["kst-1", "kst-2", "kst-3", "kst-4", "kst-5", "kst-6"];

describe.each(DATABASES)("expiry timer: a sweeper dies mid-sweep (%s)", (db) => {
  let t: TestDatabase;
  let fake: FakeSlack;
  let ctx: BillingContext;
  const poster = () => slackPoster(fake.botToken, fake.url);

  beforeEach(async () => {
    t = await createTestDatabase(db);
    fake = await startFakeSlack();
    ctx = billingContext(t.db, AT);
    for (const [i, id] of IDS.entries()) {
      await seedInstance(t.db, {
        id,
        expires_at: T0 + (5 + i) * DAY_MS,
        channel: i % 2 === 0 ? "C0TEAM" : "C0OTHER",
      });
    }
  });
  afterEach(async () => {
    fake.assertNoViolations();
    await fake.close();
    await t.destroy();
  });

  async function expectEachPostedOnce(): Promise<void> {
    const rows = await warnings(t.db);
    expect(rows.map((w) => `${w.instance_id} ${w.status}`)).toEqual(IDS.map((id) => `${id} sent`));
    expect(Object.fromEntries(IDS.map((id) => [id, postsAbout(fake, id).length]))).toEqual(
      Object.fromEntries(IDS.map((id) => [id, 1])),
    );
    expect(okPosts(fake)).toHaveLength(IDS.length);
    // Each row points at the one message Slack holds for it.
    for (const w of rows) {
      const m = fake.messages.filter((x) => String(x.text).includes(`*${w.instance_id}*`));
      expect(m.map((x) => [x.channel, x.ts])).toEqual([[w.posted_channel, w.message_ts]]);
    }
  }

  it("kill -9 while a post is in flight: the next sweep finds that message and posts the rest, each once", async () => {
    fake.failNext("chat.postMessage", { delayMs: 1_500 });
    const { child, done } = startCli(["sweep", "--at", iso(AT)], cliEnv(t, fake));
    const inFlight = await fake.waitFor("chat.postMessage", () => true, 15_000);
    child.kill("SIGKILL");
    const result = await done;
    expect(result.signal).toBe("SIGKILL");
    // Slack got the request before the process died, so the message is there.
    await fake.waitFor("chat.postMessage", (c) => c === inFlight && c.response?.ok === true, 5_000);
    expect(fake.callsTo("chat.postMessage")).toHaveLength(1);
    const before = await warnings(t.db);
    expect(before).toHaveLength(IDS.length);
    expect(before.filter((w) => w.status === "pending")).toHaveLength(IDS.length);
    expect(before.filter((w) => w.claimed_by !== null)).toHaveLength(1);

    // A later sweep, once the dead process's lease (5 minutes) and claim (2 minutes) have run out.
    const s = await sweep(ctx, SETTINGS, poster(), {
      ...NO_SLEEP,
      wallClock: () => Date.now() + 6 * MINUTE,
    });
    expect(s.skipped).toBeUndefined();
    await expectEachPostedOnce();
    expect(fake.callsTo("conversations.history").length).toBeGreaterThan(0);
    expect(s.actions.filter((a) => a.startsWith("found "))).toHaveLength(1);
    expect(s.posted).toBe(IDS.length - 1);
    // Once settled, nothing more.
    await sweep(ctx, SETTINGS, poster(), { ...NO_SLEEP, wallClock: () => Date.now() + 6 * MINUTE });
    expect(okPosts(fake)).toHaveLength(IDS.length);
  });

  /** A poster that dies (throws, as a killed process stops) on its first post, before or after Slack has it. */
  const dying = (when: "before" | "after"): Poster => {
    const inner = poster();
    let died = false;
    return {
      ...inner,
      async post(channel, message, id) {
        if (died) return inner.post(channel, message, id);
        died = true;
        if (when === "after") await inner.post(channel, message, id);
        throw new Error("killed");
      },
    };
  };

  it("dies right after Slack accepted a post: the next sweep records it instead of posting it again", async () => {
    await expect(sweep(ctx, SETTINGS, dying("after"), NO_SLEEP)).rejects.toThrow("killed");
    expect(okPosts(fake)).toHaveLength(1);
    const s = await sweep(ctx, SETTINGS, poster(), {
      ...NO_SLEEP,
      wallClock: () => Date.now() + 3 * MINUTE,
    });
    await expectEachPostedOnce();
    expect(s.posted).toBe(IDS.length - 1);
    expect([...postsPerWarningId(fake).values()]).toEqual(IDS.map(() => 1));
  });

  it("dies before Slack got the post: the next sweep posts it (nothing lost)", async () => {
    await expect(sweep(ctx, SETTINGS, dying("before"), NO_SLEEP)).rejects.toThrow("killed");
    expect(okPosts(fake)).toHaveLength(0);
    // Its claim still holds: a sweep now leaves that warning alone.
    const early = await sweep(ctx, SETTINGS, poster(), NO_SLEEP);
    expect(early.posted).toBe(IDS.length - 1);
    const s = await sweep(ctx, SETTINGS, poster(), {
      ...NO_SLEEP,
      wallClock: () => Date.now() + 3 * MINUTE,
    });
    expect(s.posted).toBe(1);
    await expectEachPostedOnce();
  });
});
