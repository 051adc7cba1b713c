import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { App, isValidSlackRequest, type types, verifySlackRequest } from "@slack/bolt";
import {
  ErrorCode,
  type Logger,
  LogLevel,
  WebClient,
  WebClientEvent,
  type WebClientOptions,
} from "@slack/web-api";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  checkMessage,
  checkView,
  type FakeSlack,
  type JsonObject,
  startFakeSlack,
} from "./helpers/fake-slack.js";
import {
  blockAction,
  eventCallback,
  postToApp,
  SLACK_TEST_IDS,
  signRequest,
  slashCommand,
  sslCheck,
  urlVerification,
  viewSubmission,
} from "./helpers/slack-requests.js";

const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  setLevel() {},
  getLevel: () => LogLevel.ERROR,
  setName() {},
};

const FAST_RETRY = { retries: 2, factor: 1, minTimeout: 10, maxTimeout: 50 };

const section = (text: string, blockId?: string) => ({
  type: "section" as const,
  ...(blockId ? { block_id: blockId } : {}),
  text: { type: "mrkdwn" as const, text },
});
const plain = (text: string) => ({ type: "plain_text" as const, text });
const button = (actionId: string, text = "Go", value = "v") => ({
  type: "button" as const,
  action_id: actionId,
  text: plain(text),
  value,
});
const option = (text: string, value: string) => ({ text: plain(text), value });
/** A small valid modal; overrides may break it on purpose (hence the cast). */
const modal = (overrides: JsonObject = {}) =>
  ({
    type: "modal",
    callback_id: "renew",
    title: plain("Renew instance"),
    close: plain("Cancel"),
    blocks: [section("Renew *kst-1*?")],
    ...overrides,
  }) as unknown as types.ModalView;

/** The Slack error code a rejected WebClient call carries (platform errors), else the error code. */
async function slackError(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    const { code, data } = error as { code?: string; data?: { error?: string } };
    return code === ErrorCode.PlatformError ? String(data?.error) : String(code);
  }
  throw new Error("expected the call to fail");
}

describe("fake Slack Web API through WebClient", () => {
  let fake: FakeSlack;
  const client = (options: WebClientOptions = {}, token?: string) =>
    new WebClient(token ?? fake.botToken, {
      slackApiUrl: fake.url,
      logger: silentLogger,
      retryConfig: FAST_RETRY,
      ...options,
    });

  beforeEach(async () => {
    fake = await startFakeSlack({
      channelsBotIsNotIn: ["C0PRIVATE1"],
      channelsThatRefuseJoin: { G0SECRET: "method_not_supported_for_channel_type" },
      archivedChannels: ["C0OLD"],
      missingChannels: [/^C0GONE/],
      users: { U0ADMIN: { tz: "Asia/Shanghai", is_admin: true } },
    });
  });
  afterEach(async () => {
    await fake.close();
  });

  it("serves the Web API under /api/ on 127.0.0.1", () => {
    expect(fake.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/$/);
  });

  it("answers auth.test like Slack", async () => {
    const result = await client().auth.test();
    expect(result).toMatchObject({
      ok: true,
      user_id: fake.botUserId,
      bot_id: fake.botId,
      team_id: fake.teamId,
      team: expect.any(String),
      user: expect.any(String),
    });
  });

  it("posts a message and records the call with form-encoded JSON fields decoded", async () => {
    const blocks = [section("Instance *kst-1* expires in 3 days", "warning"), { type: "divider" }];
    const result = await client().chat.postMessage({ channel: "C0GENERAL", text: "hi", blocks });
    expect(result.ok).toBe(true);
    expect(result.channel).toBe("C0GENERAL");
    expect(result.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(result.message).toMatchObject({ text: "hi", bot_id: fake.botId, blocks });
    const [call] = fake.callsTo("chat.postMessage");
    expect(call?.args.blocks).toEqual(blocks);
    expect(call?.args.channel).toBe("C0GENERAL");
    expect(call?.token).toBe(fake.botToken);
    expect(call?.response).toMatchObject({ ok: true, ts: result.ts });
    expect(fake.messages).toMatchObject([{ channel: "C0GENERAL", ts: result.ts, text: "hi" }]);
    fake.assertNoViolations();
  });

  it("accepts application/json bodies too", async () => {
    const response = await fetch(`${fake.url}chat.postMessage`, {
      method: "POST",
      headers: { authorization: `Bearer ${fake.botToken}`, "content-type": "application/json" },
      body: JSON.stringify({ channel: "C0GENERAL", blocks: [section("json")] }),
    });
    expect(await response.json()).toMatchObject({ ok: true, channel: "C0GENERAL" });
    expect(fake.callsTo("chat.postMessage")[0]?.args.blocks).toEqual([section("json")]);
  });

  it("rejects missing and unknown tokens, and unknown methods", async () => {
    expect(await slackError(new WebClient(undefined, { slackApiUrl: fake.url }).auth.test())).toBe(
      "not_authed",
    );
    expect(await slackError(client({}, "xoxb-someone-else").auth.test())).toBe("invalid_auth");
    expect(await slackError(client().apiCall("kms.explode"))).toBe("unknown_method");
    expect(fake.calls.map((call) => call.method)).toEqual([
      "auth.test",
      "auth.test",
      "kms.explode",
    ]);
  });

  it("answers a queued 429 with Retry-After, which WebClient waits out and retries", async () => {
    fake.failNext("chat.postMessage", { status: 429, retryAfter: 1 });
    const web = client();
    const rateLimited: number[] = [];
    web.on(WebClientEvent.RATE_LIMITED, (seconds: number) => rateLimited.push(seconds));
    const started = Date.now();
    const result = await web.chat.postMessage({ channel: "C0GENERAL", text: "after the limit" });
    expect(result.ok).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(rateLimited).toEqual([1]);
    const calls = fake.callsTo("chat.postMessage");
    expect(calls).toHaveLength(2);
    expect(calls[0]).toMatchObject({ status: 429, response: { ok: false, error: "ratelimited" } });
    expect(calls[1]).toMatchObject({ status: 200, response: { ok: true } });
  });

  it("lets rejectRateLimitedCalls clients see the 429 at once", async () => {
    fake.failNext("chat.postMessage", { status: 429, retryAfter: 30 });
    const web = client({ rejectRateLimitedCalls: true });
    await expect(web.chat.postMessage({ channel: "C0GENERAL", text: "x" })).rejects.toMatchObject({
      code: ErrorCode.RateLimitedError,
      retryAfter: 30,
    });
    expect(fake.callsTo("chat.postMessage")).toHaveLength(1);
  });

  it("surfaces queued ok:false errors as platform errors, consuming them in order", async () => {
    fake.failNext("chat.postMessage", { error: "channel_not_found" });
    fake.failNext("chat.postMessage", { error: "msg_too_long", times: 2 });
    const web = client();
    const post = () => web.chat.postMessage({ channel: "C0GENERAL", text: "x" });
    await expect(post()).rejects.toMatchObject({
      code: ErrorCode.PlatformError,
      data: { ok: false, error: "channel_not_found" },
    });
    expect(await slackError(post())).toBe("msg_too_long");
    expect(await slackError(post())).toBe("msg_too_long");
    expect((await post()).ok).toBe(true);
    expect(fake.callsTo("chat.postMessage")).toHaveLength(4);
  });

  it("answers 503 when told to; WebClient retries HTTP errors per its retryConfig", async () => {
    fake.failNext("auth.test", { status: 503, times: 2 });
    expect((await client().auth.test()).ok).toBe(true);
    expect(fake.callsTo("auth.test").map((call) => call.status)).toEqual([503, 503, 200]);

    fake.reset();
    fake.down(true);
    await expect(client().auth.test()).rejects.toMatchObject({
      code: ErrorCode.HTTPError,
      statusCode: 503,
    });
    expect(fake.callsTo("auth.test")).toHaveLength(FAST_RETRY.retries + 1);
    fake.down(false);
    expect((await client().auth.test()).ok).toBe(true);
  });

  it("delays answers (timeouts) and then answers normally when no error is given", async () => {
    fake.failNext("auth.test", { delayMs: 1000 });
    await expect(
      client({ timeout: 50, retryConfig: { retries: 0 } }).auth.test(),
    ).rejects.toMatchObject({ code: ErrorCode.RequestError });
    fake.failNext("auth.test", { delayMs: 60 });
    const started = Date.now();
    expect((await client().auth.test()).ok).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
  });

  it("rejects a 51-block message and records the violation; 50 blocks are fine", async () => {
    const blocks = (n: number) => Array.from({ length: n }, (_, i) => section(`line ${i}`));
    const web = client();
    expect(
      (await web.chat.postMessage({ channel: "C0GENERAL", text: "50", blocks: blocks(50) })).ok,
    ).toBe(true);
    fake.assertNoViolations();

    const rejected = web.chat.postMessage({ channel: "C0GENERAL", text: "51", blocks: blocks(51) });
    await expect(rejected).rejects.toMatchObject({ data: { error: "invalid_blocks" } });
    expect(fake.violations).toEqual([
      "chat.postMessage: blocks: must have at most 50 items (got 51)",
    ]);
    expect(() => fake.assertNoViolations()).toThrow(/1 violation.*\n.*at most 50 items/);
    expect(fake.messages).toHaveLength(1);
  });

  it("checks blocks on postEphemeral and chat.update too", async () => {
    const web = client();
    const tooLong = [section("x".repeat(3001))];
    expect(
      await slackError(
        web.chat.postEphemeral({
          channel: "C0GENERAL",
          user: "U0MEMBER1",
          text: "x",
          blocks: tooLong,
        }),
      ),
    ).toBe("invalid_blocks");
    const { ts } = await web.chat.postMessage({ channel: "C0GENERAL", text: "v1" });
    expect(
      await slackError(
        web.chat.update({ channel: "C0GENERAL", ts: String(ts), text: "v2", blocks: tooLong }),
      ),
    ).toBe("invalid_blocks");
    expect(fake.violations).toEqual([
      "chat.postEphemeral: blocks[0].text.text: must be at most 3000 characters (got 3001)",
      "chat.update: blocks[0].text.text: must be at most 3000 characters (got 3001)",
    ]);
  });

  it("rejects a modal whose title has 25 characters; 24 are fine", async () => {
    const web = client();
    const rejected = web.views.open({
      trigger_id: fake.newTriggerId(),
      view: modal({ title: plain("x".repeat(25)) }),
    });
    await expect(rejected).rejects.toMatchObject({ data: { error: "invalid_arguments" } });
    expect(fake.violations).toEqual([
      "views.open: view.title.text: must be at most 24 characters (got 25)",
    ]);
    fake.reset();
    const opened = await web.views.open({
      trigger_id: fake.newTriggerId(),
      view: modal({ title: plain("x".repeat(24)) }),
    });
    expect(opened.view).toMatchObject({
      id: expect.stringMatching(/^V/),
      type: "modal",
      callback_id: "renew",
    });
    expect(fake.findView("renew")?.id).toBe(opened.view?.id);
    fake.assertNoViolations();
  });

  it("accepts only trigger ids it issued, once, within 3 seconds", async () => {
    const web = client();
    const open = (trigger_id: string) => web.views.open({ trigger_id, view: modal() });
    expect(await slackError(open("12345.98765.abcd2358fdea"))).toBe("invalid_trigger_id");
    expect(await slackError(open(fake.newTriggerId({ ageMs: 3100 })))).toBe("expired_trigger_id");
    const trigger = fake.newTriggerId({ ageMs: 2500 });
    expect((await open(trigger)).ok).toBe(true);
    expect(await slackError(open(trigger))).toBe("expired_trigger_id");
    expect(await slackError(web.apiCall("views.open", { view: modal() }))).toBe(
      "invalid_arguments",
    );
  });

  it("updates views by id with hash checks, pushes, and publishes home tabs", async () => {
    const web = client();
    const opened = await web.views.open({ trigger_id: fake.newTriggerId(), view: modal() });
    const id = String(opened.view?.id);
    const hash = String(opened.view?.hash);
    const updated = await web.views.update({
      view_id: id,
      hash,
      view: modal({ private_metadata: "kst-1" }),
    });
    expect(updated.view).toMatchObject({ id, private_metadata: "kst-1" });
    expect(updated.view?.hash).not.toBe(hash);
    expect(await slackError(web.views.update({ view_id: id, hash, view: modal() }))).toBe(
      "hash_conflict",
    );
    expect(await slackError(web.views.update({ view_id: "V0NOPE", view: modal() }))).toBe(
      "not_found",
    );
    const pushed = await web.views.push({
      trigger_id: fake.newTriggerId(),
      view: modal({ callback_id: "confirm" }),
    });
    expect(pushed.view?.callback_id).toBe("confirm");

    const home: types.HomeView = { type: "home", blocks: [section("Your instances")] };
    const published = await web.views.publish({ user_id: "U0MEMBER1", view: home });
    expect(published.view).toMatchObject({ type: "home", id: expect.stringMatching(/^V/) });
    expect(await slackError(web.views.publish({ user_id: "U0MEMBER1", view: modal() }))).toBe(
      "invalid_arguments",
    );
    expect(fake.violations).toEqual(['views.publish: view.type: must be "home" for views.publish']);
  });

  it("answers not_in_channel until conversations.join succeeds", async () => {
    const web = client();
    const post = (channel: string) => web.chat.postMessage({ channel, text: "expiry warning" });
    expect(fake.isMember("C0PRIVATE1")).toBe(false);
    expect(await slackError(post("C0PRIVATE1"))).toBe("not_in_channel");
    const joined = await web.conversations.join({ channel: "C0PRIVATE1" });
    expect(joined.channel).toMatchObject({ id: "C0PRIVATE1", is_member: true });
    expect(joined.warning).toBeUndefined();
    expect((await post("C0PRIVATE1")).ok).toBe(true);
    expect((await web.conversations.join({ channel: "C0PRIVATE1" })).warning).toBe(
      "already_in_channel",
    );

    expect(await slackError(post("G0SECRET"))).toBe("not_in_channel");
    expect(await slackError(web.conversations.join({ channel: "G0SECRET" }))).toBe(
      "method_not_supported_for_channel_type",
    );
    expect(await slackError(post("C0OLD"))).toBe("is_archived");
    expect(await slackError(web.conversations.join({ channel: "C0OLD" }))).toBe("is_archived");
    expect(await slackError(post("C0GONE42"))).toBe("channel_not_found");
    expect(await slackError(web.conversations.join({ channel: "C0GONE42" }))).toBe(
      "channel_not_found",
    );
  });

  it("opens DMs, answers users.info, updates and deletes the bot's messages", async () => {
    const web = client();
    const dm = await web.conversations.open({ users: "U0ADMIN" });
    expect(dm.channel?.id).toBe("D0ADMIN");
    const posted = await web.chat.postMessage({ channel: String(dm.channel?.id), text: "hello" });
    expect(posted.channel).toBe("D0ADMIN");
    const info = await web.users.info({ user: "U0ADMIN" });
    expect(info.user).toMatchObject({
      id: "U0ADMIN",
      tz: "Asia/Shanghai",
      is_admin: true,
      deleted: false,
    });
    expect((await web.users.info({ user: "U0MEMBER1" })).user).toMatchObject({
      tz: "UTC",
      is_admin: false,
    });

    const ts = String(posted.ts);
    const updated = await web.chat.update({ channel: "D0ADMIN", ts, text: "hello again" });
    expect(updated).toMatchObject({ ok: true, channel: "D0ADMIN", ts, text: "hello again" });
    expect(fake.messages[0]?.text).toBe("hello again");
    expect(
      await slackError(web.chat.update({ channel: "D0ADMIN", ts: "1.000001", text: "x" })),
    ).toBe("message_not_found");
    const userTs = fake.addMessage({ channel: "C0GENERAL", text: "mine", user: "U0MEMBER1" });
    expect(await slackError(web.chat.update({ channel: "C0GENERAL", ts: userTs, text: "x" }))).toBe(
      "cant_update_message",
    );
    expect(await web.chat.delete({ channel: "D0ADMIN", ts })).toMatchObject({ ok: true, ts });
    expect(fake.messages.map((message) => message.ts)).toEqual([userTs]);

    const ephemeral = await web.chat.postEphemeral({
      channel: "C0GENERAL",
      user: "U0MEMBER1",
      text: "psst",
    });
    expect(ephemeral.message_ts).toMatch(/^\d+\.\d{6}$/);
  });

  it("stores files uploaded with files.uploadV2 byte for byte", async () => {
    const web = client();
    const csv = "instance,amount\nkst-1,¥1,200.00\n";
    const result = await web.files.uploadV2({
      channel_id: "C0GENERAL",
      content: csv,
      filename: "bill-2026-01.csv",
      title: "January bill",
      initial_comment: "Your bill",
    });
    expect(result.ok).toBe(true);
    const binary = Buffer.from([0, 255, 1, 254, 0x89, 0x50, 0x4e, 0x47, 10, 13]);
    await web.files.uploadV2({ channel_id: "C0GENERAL", file: binary, filename: "raw.bin" });

    expect(fake.uploadedFiles).toHaveLength(2);
    expect(fake.uploadedFiles[0]).toMatchObject({
      filename: "bill-2026-01.csv",
      title: "January bill",
      channelId: "C0GENERAL",
      initialComment: "Your bill",
      fileId: expect.stringMatching(/^F/),
    });
    expect(fake.uploadedFiles[0]?.content.toString("utf8")).toBe(csv);
    expect(fake.uploadedFiles[1]?.content.equals(binary)).toBe(true);
    expect(fake.callsTo("files.getUploadURLExternal")[0]?.args).toMatchObject({
      filename: "bill-2026-01.csv",
      length: String(Buffer.byteLength(csv)),
    });
    expect(fake.callsTo("files.completeUploadExternal")[0]?.args.files).toEqual([
      { id: fake.uploadedFiles[0]?.fileId, title: "January bill" },
    ]);

    const refused = web.files.uploadV2({
      channel_id: "C0PRIVATE1",
      content: "x",
      filename: "x.txt",
    });
    expect(await slackError(refused)).toBe("not_in_channel");
    expect(fake.uploadedFiles).toHaveLength(2);
  });

  it("records response_url posts and checks them against the message limits", async () => {
    const url = fake.newResponseUrl();
    expect(url.startsWith(`${fake.origin}/response/`)).toBe(true);
    const respond = (body: JsonObject, to = url) =>
      fetch(to, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });

    const waiting = fake.waitForResponse((response) => response.body.text === "renewed");
    expect((await respond({ text: "renewed", replace_original: true })).status).toBe(200);
    expect((await waiting).url).toBe(url);

    const many = Array.from({ length: 51 }, () => ({ type: "divider" }));
    const rejected = await respond({ text: "too many", blocks: many });
    expect(rejected.status).toBe(400);
    expect(await rejected.json()).toEqual({ ok: false, error: "invalid_blocks" });
    expect(fake.violations).toEqual(["response_url: blocks: must have at most 50 items (got 51)"]);
    expect((await respond({ text: "x" }, `${fake.origin}/response/nope`)).status).toBe(404);

    for (let i = 0; i < 4; i++) expect((await respond({ text: `use ${i + 2}` })).status).toBe(200);
    expect(await (await respond({ text: "sixth" })).json()).toEqual({
      ok: false,
      error: "used_url",
    });
    expect(fake.responses.filter((response) => response.status === 200)).toHaveLength(5);
  });

  it("waitFor resolves on a later call and times out naming the recorded methods", async () => {
    const web = client();
    const waiting = fake.waitFor("chat.postMessage", (call) => call.args.text === "second");
    await web.auth.test();
    await web.chat.postMessage({ channel: "C0GENERAL", text: "first" });
    await web.chat.postMessage({ channel: "C0GENERAL", text: "second" });
    expect((await waiting).args.text).toBe("second");
    await expect(fake.waitFor("views.open", undefined, 30)).rejects.toThrow(
      /no views\.open call within 30 ms.*auth\.test, chat\.postMessage ×2/,
    );
    fake.reset();
    expect(fake.calls).toHaveLength(0);
    expect(fake.messages).toHaveLength(0);
    expect(fake.isMember("C0PRIVATE1")).toBe(false);
  });
});

describe("Block Kit validator", () => {
  const options = (n: number) => Array.from({ length: n }, (_, i) => option(`o${i}`, `v${i}`));
  const input = (element: JsonObject, extra: JsonObject = {}) => ({
    type: "input",
    block_id: "in",
    label: plain("Amount"),
    element,
    ...extra,
  });
  const x = (n: number) => "x".repeat(n);

  it("accepts a message using every kind of block at its limits", () => {
    const message = {
      text: x(40_000),
      blocks: [
        { type: "header", text: plain(x(150)) },
        section(x(3000), x(255)),
        { type: "section", fields: Array.from({ length: 10 }, () => plain(x(2000))) },
        {
          type: "context",
          elements: Array.from({ length: 10 }, () => ({ type: "mrkdwn", text: "c" })),
        },
        {
          type: "actions",
          elements: [
            { ...button(x(255), x(75), x(2000)), url: `https://example.com/${x(2980)}` },
            {
              type: "static_select",
              action_id: "pick",
              options: [option(x(75), x(150)), ...options(99)],
            },
            { type: "overflow", action_id: "more", options: options(5) },
          ],
        },
        input({
          type: "plain_text_input",
          action_id: "a",
          placeholder: plain(x(150)),
          initial_value: x(3000),
        }),
        { type: "image", image_url: "https://example.com/a.png", alt_text: "chart" },
        { type: "rich_text", elements: [] },
        { type: "divider" },
        input({ type: "checkboxes", action_id: "c", options: options(10) }, { block_id: "in2" }),
      ],
    };
    expect(checkMessage(message)).toEqual([]);
  });

  // biome-ignore format: one case per line reads better as a table
  it.each([
    ["message text", { text: x(40_001) }, "text"],
    ["non-array blocks", { blocks: "[not json" }, "blocks"],
    ["unknown block type", { blocks: [{ type: "table" }] }, "blocks[0].type"],
    ["section text", { blocks: [section(x(3001))] }, "blocks[0].text.text"],
    ["empty text", { blocks: [section("")] }, "blocks[0].text.text"],
    ["wrong text type", { blocks: [{ type: "section", text: { type: "markdown", text: "a" } }] }, "blocks[0].text.type"],
    ["section without text", { blocks: [{ type: "section" }] }, "blocks[0]"],
    ["11 fields", { blocks: [{ type: "section", fields: Array.from({ length: 11 }, () => plain("f")) }] }, "blocks[0].fields"],
    ["field length", { blocks: [{ type: "section", fields: [plain(x(2001))] }] }, "blocks[0].fields[0].text"],
    ["header length", { blocks: [{ type: "header", text: plain(x(151)) }] }, "blocks[0].text.text"],
    ["mrkdwn header", { blocks: [{ type: "header", text: { type: "mrkdwn", text: "h" } }] }, "blocks[0].text.type"],
    ["11 context elements", { blocks: [{ type: "context", elements: Array.from({ length: 11 }, () => plain("c")) }] }, "blocks[0].elements"],
    ["26 actions", { blocks: [{ type: "actions", elements: Array.from({ length: 26 }, (_, i) => button(`b${i}`)) }] }, "blocks[0].elements"],
    ["button text", { blocks: [{ type: "actions", elements: [button("b", x(76))] }] }, "blocks[0].elements[0].text.text"],
    ["button value", { blocks: [{ type: "actions", elements: [button("b", "ok", x(2001))] }] }, "blocks[0].elements[0].value"],
    ["button url", { blocks: [{ type: "actions", elements: [{ ...button("b"), url: x(3001) }] }] }, "blocks[0].elements[0].url"],
    ["action_id length", { blocks: [{ type: "actions", elements: [button(x(256))] }] }, "blocks[0].elements[0].action_id"],
    ["block_id length", { blocks: [section("a", x(256))] }, "blocks[0].block_id"],
    ["duplicate block_id", { blocks: [section("a", "same"), section("b", "same")] }, "blocks[1].block_id"],
    ["duplicate action_id", { blocks: [{ type: "actions", elements: [button("b"), button("b")] }] }, "blocks[0].elements[1].action_id"],
    ["option text", { blocks: [{ type: "actions", elements: [{ type: "static_select", action_id: "s", options: [option(x(76), "v")] }] }] }, "blocks[0].elements[0].options[0].text.text"],
    ["option value", { blocks: [{ type: "actions", elements: [{ type: "static_select", action_id: "s", options: [option("t", x(151))] }] }] }, "blocks[0].elements[0].options[0].value"],
    ["101 select options", { blocks: [{ type: "actions", elements: [{ type: "multi_static_select", action_id: "s", options: options(101) }] }] }, "blocks[0].elements[0].options"],
    ["101 option groups", { blocks: [{ type: "actions", elements: [{ type: "static_select", action_id: "s", option_groups: Array.from({ length: 101 }, () => ({ label: plain("g"), options: options(1) })) }] }] }, "blocks[0].elements[0].option_groups"],
    ["11 checkboxes", { blocks: [input({ type: "checkboxes", action_id: "c", options: options(11) })] }, "blocks[0].element.options"],
    ["11 radio buttons", { blocks: [input({ type: "radio_buttons", action_id: "r", options: options(11) })] }, "blocks[0].element.options"],
    ["input label", { blocks: [input({ type: "plain_text_input", action_id: "a" }, { label: plain(x(2001)) })] }, "blocks[0].label.text"],
    ["input hint", { blocks: [input({ type: "plain_text_input", action_id: "a" }, { hint: plain(x(2001)) })] }, "blocks[0].hint.text"],
    ["placeholder", { blocks: [input({ type: "plain_text_input", action_id: "a", placeholder: plain(x(151)) })] }, "blocks[0].element.placeholder.text"],
    ["initial_value", { blocks: [input({ type: "plain_text_input", action_id: "a", initial_value: x(3001) })] }, "blocks[0].element.initial_value"],
    ["unknown element", { blocks: [input({ type: "slider", action_id: "a" })] }, "blocks[0].element.type"],
    ["image alt_text", { blocks: [{ type: "image", image_url: "https://example.com/a.png" }] }, "blocks[0].alt_text"],
  ])("flags %s", (_name, message, path) => {
    const issues = checkMessage(message as JsonObject);
    expect(issues.map((issue) => issue.path)).toContain(path);
  });

  // biome-ignore format: one case per line reads better as a table
  it.each([
    ["title length", modal({ title: plain(x(25)) }), "view.title.text"],
    ["missing title", modal({ title: undefined }), "view.title"],
    ["submit length", modal({ submit: plain(x(25)) }), "view.submit.text"],
    ["close length", modal({ close: plain(x(25)) }), "view.close.text"],
    ["private_metadata", modal({ private_metadata: x(3001) }), "view.private_metadata"],
    ["callback_id", modal({ callback_id: x(256) }), "view.callback_id"],
    ["101 blocks", modal({ blocks: Array.from({ length: 101 }, () => ({ type: "divider" })) }), "view.blocks"],
    ["type", modal({ type: "dialog" }), "view.type"],
    ["input without submit", modal({ blocks: [input({ type: "plain_text_input", action_id: "a" })] }), "view.submit"],
    ["home with 101 blocks", { type: "home", blocks: Array.from({ length: 101 }, () => ({ type: "divider" })) }, "view.blocks"],
  ])("flags view %s", (_name, view, path) => {
    expect(checkView(view).map((issue) => issue.path)).toContain(path);
  });

  it("accepts views at their limits", () => {
    const blocks = Array.from({ length: 100 }, () => ({ type: "divider" }));
    expect(checkView({ type: "home", blocks })).toEqual([]);
    const full = modal({
      title: plain(x(24)),
      submit: plain(x(24)),
      close: plain(x(24)),
      private_metadata: x(3000),
      callback_id: x(255),
      blocks: [...blocks.slice(1), input({ type: "plain_text_input", action_id: "a" })],
    });
    expect(checkView(full)).toEqual([]);
  });
});

describe("signed Slack requests", () => {
  const secret = "8f742231b10e8888abcd99yyyzzz85a5";

  it("signs exactly as Slack does, so Bolt's verifier accepts it and rejects tampering", () => {
    const { body } = slashCommand({ text: "status kst-1" });
    const headers = signRequest(body, secret);
    const verify = (payload: string, signed = headers, signingSecret = secret) =>
      verifySlackRequest({
        signingSecret,
        body: payload,
        headers: {
          "x-slack-signature": signed["x-slack-signature"],
          "x-slack-request-timestamp": Number(signed["x-slack-request-timestamp"]),
        },
      });
    expect(() => verify(body)).not.toThrow();
    expect(() => verify(body.replace("kst-1", "kst-2"))).toThrow(/signature mismatch/);
    expect(() => verify(body, headers, "another-secret")).toThrow(/signature mismatch/);
    const stale = signRequest(body, secret, Math.floor(Date.now() / 1000) - 6 * 60);
    expect(() => verify(body, stale)).toThrow(/stale/);
    expect(
      isValidSlackRequest({
        signingSecret: secret,
        body: `${body}&x=1`,
        headers: {
          ...headers,
          "x-slack-request-timestamp": Number(headers["x-slack-request-timestamp"]),
        },
      }),
    ).toBe(false);
  });

  it("matches Slack's documented signature example", () => {
    // https://api.slack.com/authentication/verifying-requests-from-slack
    const body =
      "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    expect(signRequest(body, secret, 1531420618)).toEqual({
      "x-slack-request-timestamp": "1531420618",
      "x-slack-signature": "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
    });
  });

  it("builds payloads shaped like Slack's", () => {
    const command = new URLSearchParams(
      slashCommand({ text: "renew kst-1", triggerId: "t.1" }).body,
    );
    expect(Object.fromEntries(command)).toMatchObject({
      team_id: "T0TEST",
      api_app_id: "A0TEST",
      user_id: "U0MEMBER1",
      channel_id: "C0GENERAL",
      command: "/kms",
      text: "renew kst-1",
      is_enterprise_install: "false",
      trigger_id: "t.1",
    });

    const message = {
      type: "message",
      ts: "1700000000.000100",
      blocks: [
        { type: "actions", block_id: "renew_kst-1", elements: [button("renew", "Renew", "kst-1")] },
        {
          type: "section",
          block_id: "period",
          text: plain("Period"),
          accessory: {
            type: "static_select",
            action_id: "months",
            options: [option("3 months", "3")],
          },
        },
      ],
    };
    const payloadOf = (request: { body: string; contentType: string }) => {
      expect(request.contentType).toBe("application/x-www-form-urlencoded");
      return JSON.parse(new URLSearchParams(request.body).get("payload") ?? "null");
    };
    expect(payloadOf(blockAction({ actionId: "renew", message }))).toMatchObject({
      type: "block_actions",
      user: { id: "U0MEMBER1", team_id: "T0TEST" },
      container: { type: "message", message_ts: "1700000000.000100", channel_id: "C0GENERAL" },
      channel: { id: "C0GENERAL" },
      message,
      actions: [{ type: "button", action_id: "renew", block_id: "renew_kst-1", value: "kst-1" }],
    });
    expect(
      payloadOf(blockAction({ actionId: "months", message, selectedOption: { value: "3" } }))
        .actions,
    ).toMatchObject([
      { type: "static_select", block_id: "period", selected_option: option("3 months", "3") },
    ]);
    const view = { id: "V0123", hash: "h1", callback_id: "renew", blocks: message.blocks };
    const inView = payloadOf(blockAction({ actionId: "renew", view }));
    expect(inView.container).toEqual({ type: "view", view_id: "V0123" });
    expect(inView.response_url).toBeUndefined();

    const values = { amount: { amount: { type: "plain_text_input", value: "3" } } };
    expect(payloadOf(viewSubmission({ view, values, privateMetadata: "kst-1" }))).toMatchObject({
      type: "view_submission",
      view: {
        id: "V0123",
        hash: "h1",
        callback_id: "renew",
        private_metadata: "kst-1",
        state: { values },
      },
    });

    const event = eventCallback({
      event: { type: "app_home_opened", user: "U0MEMBER1", tab: "home" },
    });
    expect(event.contentType).toBe("application/json");
    expect(JSON.parse(event.body)).toMatchObject({
      type: "event_callback",
      team_id: "T0TEST",
      api_app_id: "A0TEST",
      event_id: expect.stringMatching(/^Ev/),
      event_time: expect.any(Number),
      event: { type: "app_home_opened", event_ts: expect.any(String) },
      authorizations: [{ team_id: "T0TEST", user_id: SLACK_TEST_IDS.botUserId, is_bot: true }],
    });
  });
});

describe("a real Bolt app against the fake", () => {
  const signingSecret = "bolt-test-signing-secret";
  let fake: FakeSlack;
  let app: App;
  let baseUrl: string;

  beforeEach(async () => {
    fake = await startFakeSlack();
    app = new App({
      token: fake.botToken,
      signingSecret,
      logger: silentLogger,
      clientOptions: { slackApiUrl: fake.url, retryConfig: { retries: 0 } },
    });
    app.command("/kms", async ({ ack, command, client, respond }) => {
      await ack();
      await client.chat.postMessage({
        channel: command.channel_id,
        text: `status of ${command.text}`,
        blocks: [
          section(`status of *${command.text}*`),
          { type: "actions", block_id: "act", elements: [button("renew", "Renew", command.text)] },
        ],
      });
      await respond({ text: "posted", response_type: "ephemeral" });
    });
    app.action("renew", async ({ ack, body, client }) => {
      await ack();
      if (body.type !== "block_actions") return;
      await client.views.open({
        trigger_id: body.trigger_id,
        view: modal({ private_metadata: JSON.stringify(body.actions[0]) }),
      });
    });
    app.view("renew", async ({ ack, view }) => {
      await ack({ response_action: "errors", errors: { amount: `bad ${view.private_metadata}` } });
    });
    const server = (await app.start(0)) as Server;
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    await app.stop();
    await fake.close();
  });

  it("drives a command, a button and a view submission over HTTP", async () => {
    const responseUrl = fake.newResponseUrl();
    const command = slashCommand({ text: "kst-1", responseUrl, triggerId: fake.newTriggerId() });
    expect((await postToApp(baseUrl, command, { signingSecret })).status).toBe(200);
    const posted = await fake.waitFor("chat.postMessage");
    expect(posted.args).toMatchObject({ channel: "C0GENERAL", text: "status of kst-1" });
    expect((await fake.waitForResponse()).body).toEqual({
      text: "posted",
      response_type: "ephemeral",
    });
    expect(fake.callsTo("auth.test")).toHaveLength(1);

    const message = posted.response?.message as JsonObject;
    const click = blockAction({ actionId: "renew", message, triggerId: fake.newTriggerId() });
    expect((await postToApp(baseUrl, click, { signingSecret })).status).toBe(200);
    const opened = await fake.waitFor("views.open", (call) => call.response?.ok === true);
    expect(JSON.parse(String((opened.args.view as JsonObject).private_metadata))).toMatchObject({
      action_id: "renew",
      block_id: "act",
      value: "kst-1",
    });

    const submitted = await postToApp(baseUrl, viewSubmission({ view: fake.findView("renew") }), {
      signingSecret,
    });
    expect(submitted.status).toBe(200);
    expect(submitted.json).toMatchObject({
      response_action: "errors",
      errors: { amount: /bad .*renew/ },
    });
    fake.assertNoViolations();
  });

  it("answers url_verification and ssl_check, and refuses bad or stale signatures", async () => {
    const challenge = await postToApp(baseUrl, urlVerification("c-123"), { signingSecret });
    expect(challenge.json).toEqual({ challenge: "c-123" });
    expect((await postToApp(baseUrl, sslCheck(), { signingSecret })).status).toBe(200);

    const event = eventCallback({
      event: { type: "app_home_opened", user: "U0MEMBER1", tab: "home" },
    });
    const forged = await postToApp(baseUrl, event, { signingSecret, signature: "v0=deadbeef" });
    expect(forged.status).toBe(401);
    const stale = await postToApp(baseUrl, event, {
      signingSecret,
      timestamp: Math.floor(Date.now() / 1000) - 600,
    });
    expect(stale.status).toBe(401);
    const retried = await postToApp(baseUrl, event, {
      signingSecret,
      headers: { "x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout" },
    });
    expect(retried.status).toBe(200);
  });
});
