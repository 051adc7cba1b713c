// The one table of buttons, modal submissions and events (src/slack/interactions.ts): ids are
// unique, a click nothing handles is acknowledged at once (Bolt would answer 404 after 3 s, and
// Slack would show the person an error), and the bot never answers its own messages (Bolt's
// ignoreSelf is off; the check where events are dispatched is the only guard).
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RENEW_VIEW } from "../../src/slack/features/renew/blocks.js";
import { Interactions } from "../../src/slack/interactions.js";
import { OPEN_RENEW } from "../../src/slack/kit/buttons.js";
import type { ActionArgs, SubmitArgs } from "../../src/slack/kit/deps.js";
import { MEMBER_ID, startTestBot, type TestBot } from "../helpers/app.js";
import type { RecordedCall } from "../helpers/fake-slack.js";
import { countRows } from "../helpers/rows.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Bolt's own answer to a request no listener acknowledged comes after 3001 ms (a 404). */
const PROMPT_MS = 2_000;

describe("registering handlers", () => {
  const action = async (_: ActionArgs) => undefined;
  const submit = async (_: SubmitArgs) => undefined;

  it("refuses a second handler for the same action id, naming it", () => {
    const table = new Interactions();
    table.action(OPEN_RENEW, action);
    table.action("another_button", action);
    expect(() => table.action(OPEN_RENEW, action)).toThrow(
      `two handlers for the action "${OPEN_RENEW}"`,
    );
  });

  it("refuses a second handler for the same view callback id, naming it", () => {
    const table = new Interactions();
    table.view(RENEW_VIEW, submit);
    // An action with the same id is another table: allowed.
    table.action(RENEW_VIEW, action);
    expect(() => table.view(RENEW_VIEW, submit)).toThrow(
      `two handlers for the view "${RENEW_VIEW}"`,
    );
  });
});

describe("requests no feature handles", () => {
  let s: TestBot;
  beforeEach(async () => {
    s = await startTestBot();
  });
  afterEach(async () => {
    s.fake.assertNoViolations();
    await s.close();
  });

  /** Slack Web API calls and response_url posts made after `since` calls, and audit rows. */
  const sideEffects = async (since: number) => ({
    calls: s.fake.calls.slice(since).map((c: RecordedCall) => c.method),
    responses: s.fake.responses.length,
    audit: await countRows(s.db, "audit_log"),
  });

  it("a link button's click is acknowledged with 200 at once, and nothing else happens", async () => {
    const before = s.fake.calls.length;
    const audit = await countRows(s.db, "audit_log");
    const started = performance.now();
    const res = await s.click({
      actionId: "docs_link",
      action: { url: "https://www.alibabacloud.com/help/en/kms/" },
    });
    const ms = performance.now() - started;
    expect(res.status).toBe(200);
    expect(res.text).toBe("");
    expect(ms, "acknowledged well before Bolt's 3 s fallback").toBeLessThan(PROMPT_MS);
    await sleep(300);
    expect(await sideEffects(before)).toEqual({ calls: [], responses: 0, audit });
  });

  it("a submission of a modal no feature owns is answered with an out-of-date notice in its place, nothing done", async () => {
    const before = s.fake.calls.length;
    const audit = await countRows(s.db, "audit_log");
    const started = performance.now();
    const res = await s.submit({ callbackId: "kms_retired_modal", privateMetadata: "" });
    expect(res.status).toBe(200);
    // The form is replaced by a notice (an empty acknowledgement would close it as if done).
    const answer = JSON.parse(res.text) as { response_action?: string; view?: unknown };
    expect(answer.response_action).toBe("update");
    expect(JSON.stringify(answer.view)).toContain("older version of kms-bot");
    expect(JSON.stringify(answer.view)).toContain("nothing was done");
    expect(performance.now() - started).toBeLessThan(PROMPT_MS);
    await sleep(300);
    expect(await sideEffects(before)).toEqual({ calls: [], responses: 0, audit });
  });
});

describe("events from the bot itself are not answered", () => {
  let s: TestBot;
  afterEach(async () => {
    s.fake.assertNoViolations();
    await s.close();
  });

  let seq = 0;
  const ts = () => `1767000000.${String(++seq).padStart(6, "0")}`;
  const question = "do you offer free trials";

  /** A person's @mention in #general: answered in its thread with the FAQ answer. */
  async function personAsks(): Promise<RecordedCall> {
    const at = ts();
    const res = await s.event({
      type: "app_mention",
      user: MEMBER_ID,
      channel: "C0GENERAL",
      ts: at,
      text: `<@${s.fake.botUserId}> ${question}`,
    });
    expect(res.status).toBe(200);
    return s.fake.waitFor(
      "chat.postMessage",
      (c) => c.args.channel === "C0GENERAL" && c.args.thread_ts === at && c.response?.ok === true,
    );
  }

  /**
   * Sends `event` (to channel `channel`), then a person's question, and waits for the person's
   * answer (and a little more): the event was handled by then, had it been answered.
   */
  async function postsAfter(event: Record<string, unknown>): Promise<RecordedCall[]> {
    const res = await s.event({ ts: ts(), text: `<@${s.fake.botUserId}> ${question}`, ...event });
    expect(res.status).toBe(200);
    const answer = await personAsks();
    expect(String(answer.args.text)).toContain("does not support free trials");
    await sleep(300);
    return s.fake.callsTo("chat.postMessage").filter((c) => c.args.channel === event.channel);
  }

  describe("with the fake Slack's usual bot ids", () => {
    beforeEach(async () => {
      s = await startTestBot();
    });

    it("an @mention whose user is the bot user (from auth.test) gets no answer", async () => {
      const own = { type: "app_mention", user: s.fake.botUserId, channel: "C0SELF" };
      expect(await postsAfter(own)).toEqual([]);
    });

    it("an @mention carrying the bot's bot_id (no user) gets no answer", async () => {
      const own = { type: "app_mention", bot_id: s.fake.botId, channel: "C0SELF" };
      expect(await postsAfter(own)).toEqual([]);
    });

    it("a DM message from the bot user without a bot_id gets no answer", async () => {
      const own = {
        type: "message",
        channel_type: "im",
        user: s.fake.botUserId,
        channel: "D0SELF",
      };
      expect(await postsAfter(own)).toEqual([]);
    });

    it("the same DM from a person is answered, and another app's mention too", async () => {
      const dm = { type: "message", channel_type: "im", user: MEMBER_ID, channel: "D0MEMBER1" };
      const posts = await postsAfter(dm);
      expect(posts).toHaveLength(1);
      expect(String(posts[0].args.text)).toContain("does not support free trials");
      const otherApp = {
        type: "app_mention",
        user: "U0OTHERAPP",
        bot_id: "B0OTHER",
        channel: "C0APPS",
      };
      expect(await postsAfter(otherApp)).toHaveLength(1);
    });
  });

  it("compares with the ids auth.test answers, not fixed ones", async () => {
    s = await startTestBot({ slack: { botUserId: "U0RENAMED", botId: "B0RENAMED" } });
    const own = { type: "app_mention", user: "U0RENAMED", channel: "C0SELF" };
    expect(await postsAfter(own)).toEqual([]);
    const ownBot = { type: "app_mention", bot_id: "B0RENAMED", channel: "C0SELF2" };
    expect(await postsAfter(ownBot)).toEqual([]);
    // U0KMSBOT is just someone else for this bot.
    const someone = { type: "app_mention", user: "U0KMSBOT", channel: "C0SOMEONE" };
    expect(await postsAfter(someone)).toHaveLength(1);
  });
});
