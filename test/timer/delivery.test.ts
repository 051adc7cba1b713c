import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { BillingContext } from "../../src/billing/context.js";
import { slackPoster } from "../../src/timer/poster.js";
import { type Poster, type SweepOptions, sweep } from "../../src/timer/sweep.js";
import { billingContext, DAY_MS, seedInstance, T0, type TestClock } from "../helpers/billing.js";
import { createTestDatabase, type TestDatabase } from "../helpers/databases.js";
import { type FakeSlack, startFakeSlack } from "../helpers/fake-slack.js";
import {
  ALERTS,
  emojiOf,
  HOUR,
  MINUTE,
  NO_SLEEP,
  OWNER,
  okPosts,
  postsAbout,
  SETTINGS,
  taggedWarningId,
  warningOf,
  warnings,
} from "./harness.js";

describe("expiry timer: delivery to Slack", () => {
  let t: TestDatabase;
  let fake: FakeSlack;
  let ctx: BillingContext & { clock: TestClock };
  const poster = () => slackPoster(fake.botToken, fake.url);
  const run = (options: SweepOptions = NO_SLEEP, p: Poster = poster()) =>
    sweep(ctx, SETTINGS, p, options);
  const attempts = () => fake.callsTo("chat.postMessage").length;

  beforeEach(async () => {
    t = await createTestDatabase("sqlite");
    fake = await startFakeSlack({
      channelsBotIsNotIn: ["C0NOTIN"],
      channelsThatRefuseJoin: ["C0LOCKED"],
      missingChannels: ["C0GONE"],
    });
    ctx = billingContext(t.db, T0);
  });
  afterEach(async () => {
    fake.assertNoViolations();
    await fake.close();
    await t.destroy();
  });

  it("429 then two 503s then success: one attempt per sweep, backoff and Retry-After honoured, exactly one post", async () => {
    await seedInstance(t.db, { id: "kst-a", expires_at: T0 + 10 * DAY_MS, channel: "C0TEAM" });
    fake.failNext("chat.postMessage", { status: 429, retryAfter: 1 });
    fake.failNext("chat.postMessage", { status: 503, times: 2 });

    // 1st sweep: 429. One attempt only, the warning stays due with a retry time.
    let s = await run();
    expect(attempts()).toBe(1);
    expect(s).toMatchObject({ posted: 0, failed: 1 });
    let w = await warningOf(t.db, "kst-a", "pre_expiry");
    expect(w).toMatchObject({ status: "pending", attempts: 1, last_error: "ratelimited" });
    const retry1 = w.next_attempt_at ?? 0;
    expect(retry1).toBeGreaterThanOrEqual(T0 + 1_000); // Retry-After: 1 s at the least
    const gaps = [retry1 - T0];

    // Not before the retry time, however often the timer runs.
    for (const at of [T0, T0 + 500, T0 + 999, retry1 - 1]) {
      ctx.clock.set(at);
      expect((await run()).failed).toBe(0);
      expect(attempts(), `no retry at +${at - T0} ms`).toBe(1);
    }

    // 2nd and 3rd attempts: 503, each in its own sweep, with a growing backoff.
    let due = retry1;
    for (const n of [2, 3]) {
      ctx.clock.set(due);
      s = await run();
      expect(attempts(), `attempt ${n}`).toBe(n);
      expect(s).toMatchObject({ posted: 0, failed: 1 });
      w = await warningOf(t.db, "kst-a", "pre_expiry");
      expect(w).toMatchObject({ status: "pending", attempts: n, last_error: "http_503" });
      const next = w.next_attempt_at ?? 0;
      gaps.push(next - due);
      ctx.clock.set(next - 1);
      await run();
      expect(attempts(), `no attempt before retry ${n}`).toBe(n);
      due = next;
    }
    expect(gaps[1]).toBeGreaterThan(gaps[0] ?? 0);
    expect(gaps[2]).toBeGreaterThan(gaps[1] ?? 0);

    // 4th: Slack answers ok.
    ctx.clock.set(due);
    s = await run();
    expect(attempts()).toBe(4);
    expect(s).toMatchObject({ posted: 1, failed: 0 });
    ctx.clock.set(due + HOUR);
    await run();
    await run();
    expect(attempts()).toBe(4);
    expect(okPosts(fake)).toHaveLength(1);
    w = await warningOf(t.db, "kst-a", "pre_expiry");
    expect(w.status).toBe("sent");
    expect(w.posted_channel).toBe("C0TEAM");
    expect(w.message_ts).toBe(okPosts(fake)[0]?.response?.ts);
    expect(await warnings(t.db)).toHaveLength(1);
  });

  it("honours a Retry-After longer than its own backoff", async () => {
    await seedInstance(t.db, { id: "kst-a", expires_at: T0 + 10 * DAY_MS });
    fake.failNext("chat.postMessage", { status: 429, retryAfter: 600 });
    await run();
    expect(attempts()).toBe(1);
    for (const after of [MINUTE, 5 * MINUTE, 10 * MINUTE - 1_000]) {
      ctx.clock.set(T0 + after);
      await run();
      expect(attempts(), `retried ${after / 1000} s after a Retry-After of 600 s`).toBe(1);
    }
    ctx.clock.set(T0 + 10 * MINUTE);
    expect((await run()).posted).toBe(1);
    expect(okPosts(fake)).toHaveLength(1);
  });

  it("keeps a warning through an outage and a network error, then posts it once", async () => {
    await seedInstance(t.db, { id: "kst-a", expires_at: T0 + 10 * DAY_MS });
    const unreachable = slackPoster(fake.botToken, "http://127.0.0.1:1/api/");
    expect((await run(NO_SLEEP, unreachable)).failed).toBe(1);
    ctx.clock.advance(HOUR);
    fake.down();
    expect((await run()).failed).toBe(1);
    fake.down(false);
    ctx.clock.advance(HOUR);
    expect((await run()).posted).toBe(1);
    ctx.clock.advance(HOUR);
    await run();
    expect(okPosts(fake)).toHaveLength(1);
    expect(await warningOf(t.db, "kst-a")).toMatchObject({ status: "sent", attempts: 2 });
  });

  it("not_in_channel: joins the channel and posts there", async () => {
    await seedInstance(t.db, {
      id: "kst-a",
      expires_at: T0 + 10 * DAY_MS,
      channel: "C0NOTIN",
      owner: OWNER,
    });
    const s = await run();
    expect(s.posted).toBe(1);
    expect(
      fake.callsTo("chat.postMessage").map((c) => [c.args.channel, c.response?.error]),
    ).toEqual([
      ["C0NOTIN", "not_in_channel"],
      ["C0NOTIN", undefined],
    ]);
    expect(fake.callsTo("conversations.join").map((c) => c.args.channel)).toEqual(["C0NOTIN"]);
    expect(okPosts(fake)[0]?.args.channel).toBe("C0NOTIN");
    expect(JSON.stringify(okPosts(fake)[0]?.args.blocks)).toContain(`<@${OWNER}>`);
    expect(await warningOf(t.db, "kst-a")).toMatchObject({
      status: "sent",
      posted_channel: "C0NOTIN",
    });
    ctx.clock.advance(HOUR);
    await run();
    expect(okPosts(fake)).toHaveLength(1);
  });

  it("a channel that refuses the bot: posts in the alert channel naming where it could not post", async () => {
    await seedInstance(t.db, {
      id: "kst-a",
      expires_at: T0 + 10 * DAY_MS,
      channel: "C0LOCKED",
      owner: OWNER,
    });
    await seedInstance(t.db, { id: "kst-b", expires_at: T0 + 10 * DAY_MS, channel: "C0GONE" });
    const s = await run();
    expect(s).toMatchObject({ posted: 2, failed: 0 });
    expect(fake.callsTo("conversations.join").map((c) => c.args.channel)).toContain("C0LOCKED");
    for (const [id, channel] of [
      ["kst-a", "C0LOCKED"],
      ["kst-b", "C0GONE"],
    ] as const) {
      const posts = postsAbout(fake, id);
      expect(posts, id).toHaveLength(1);
      expect(posts[0]?.args.channel).toBe(ALERTS);
      expect(JSON.stringify(posts[0]?.args.blocks)).toContain(`could not post in <#${channel}>`);
      expect(await warningOf(t.db, id)).toMatchObject({ status: "sent", posted_channel: ALERTS });
    }
    expect(JSON.stringify(postsAbout(fake, "kst-a")[0]?.args.blocks)).toContain(`<@${OWNER}>`);
    ctx.clock.advance(HOUR);
    await run();
    expect(okPosts(fake)).toHaveLength(2);
  });

  it("paces posts to one channel at least a second apart, and does not delay other channels", async () => {
    const layout: Array<[string, string | null]> = [
      ["kst-a1", "C0ONE"],
      ["kst-b1", "C0TWO"],
      ["kst-a2", "C0ONE"],
      ["kst-a3", "C0ONE"],
      ["kst-b2", "C0TWO"],
      ["kst-c1", null],
      ["kst-b3", "C0TWO"],
    ];
    for (const [i, [id, channel]] of layout.entries()) {
      await seedInstance(t.db, { id, expires_at: T0 + 10 * DAY_MS + i * MINUTE, channel });
    }
    let wall = Date.now();
    type Event =
      | { type: "sleep"; ms: number; from: number }
      | { type: "post"; channel: string; at: number };
    const events: Event[] = [];
    const inner = poster();
    const recording: Poster = {
      ...inner,
      post: (channel, message, id) => {
        events.push({ type: "post", channel, at: wall });
        return inner.post(channel, message, id);
      },
    };
    const s = await run(
      {
        sleep: async (ms) => {
          events.push({ type: "sleep", ms, from: wall });
          wall += ms;
        },
        wallClock: () => wall,
      },
      recording,
    );
    expect(s.posted).toBe(7);
    const posts = events.filter((e) => e.type === "post");
    expect(posts).toHaveLength(7);
    const byChannel = new Map<string, number[]>();
    for (const p of posts) byChannel.set(p.channel, [...(byChannel.get(p.channel) ?? []), p.at]);
    expect([...byChannel.keys()].sort()).toEqual([ALERTS, "C0ONE", "C0TWO"]);
    for (const [channel, times] of byChannel) {
      for (let i = 1; i < times.length; i++) {
        expect(
          (times[i] ?? 0) - (times[i - 1] ?? 0),
          `${channel}: posts ${i - 1} and ${i}`,
        ).toBeGreaterThanOrEqual(1_000);
      }
    }
    // Every wait is for the channel posted to next, which had a post less than a second and
    // a bit earlier; the first post to a channel never waits.
    const lastIn = new Map<string, number>();
    for (const [i, e] of events.entries()) {
      if (e.type === "post") {
        lastIn.set(e.channel, e.at);
        continue;
      }
      const next = events.slice(i + 1).find((x) => x.type === "post");
      expect(next, "a sleep is followed by a post").toBeDefined();
      if (next?.type !== "post") continue;
      const previous = lastIn.get(next.channel);
      expect(previous, `waited before the first post to ${next.channel}`).toBeDefined();
      expect(
        e.from - (previous ?? 0),
        `needless wait before a post to ${next.channel}`,
      ).toBeLessThan(1_100);
      expect(e.ms).toBeLessThanOrEqual(1_100);
    }
    // Interleaved channels: far less waiting than one message per second overall.
    const slept = events.reduce((sum, e) => sum + (e.type === "sleep" ? e.ms : 0), 0);
    expect(slept).toBeLessThan(6 * 1_000);
  });

  it("tags each posted warning with its id in message metadata, so a cut-off post can be found again", async () => {
    await seedInstance(t.db, { id: "kst-a", expires_at: T0 + 10 * DAY_MS, channel: "C0TEAM" });
    await run();
    const w = await warningOf(t.db, "kst-a");
    const stored = fake.messages.find((m) => m.ts === w.message_ts);
    expect(stored?.channel).toBe("C0TEAM");
    expect(taggedWarningId(stored?.metadata)).toBe(String(w.id));
    expect(emojiOf(okPosts(fake)[0] ?? { method: "", args: {}, at: 0 })).toBe(
      ":hourglass_flowing_sand:",
    );
  });
});
