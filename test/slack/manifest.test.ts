// manifest.yml is what a workspace installs: it must match what the app registers and uses.

import { readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { topup } from "../../src/billing/account.js";
import { cliActor } from "../../src/billing/context.js";
import { BOT_EVENTS } from "../../src/slack/features/faq/index.js";
import { KMS_COMMAND } from "../../src/slack/router.js";
import { MEMBER_ID, shown, startTestBot, type TestBot } from "../helpers/app.js";
import { DAY_MS, seedInstance, T0 } from "../helpers/billing.js";
import { renewForm } from "../helpers/forms.js";

type Json = Record<string, unknown>;

const manifest = parse(
  readFileSync(new URL("../../manifest.yml", import.meta.url), "utf8"),
) as Json;

const at = (path: string): unknown =>
  path.split(".").reduce<unknown>((v, k) => (v as Json | undefined)?.[k], manifest);

const EVENTS_PATH = "/slack/events";

/** The bot scopes each Web API method the app calls needs (none: no scope). */
const SCOPE_OF_METHOD: Record<string, string[]> = {
  "auth.test": [],
  "views.open": [],
  "views.update": [],
  "views.push": [],
  "views.publish": [],
  "chat.postMessage": ["chat:write"],
  "chat.postEphemeral": ["chat:write"],
  "chat.update": ["chat:write"],
  "conversations.open": ["im:write"],
  "conversations.join": ["channels:join"],
  // The timer reads public and private channels' history to find a warning whose post was cut off.
  "conversations.history": ["channels:history", "groups:history"],
  "files.getUploadURLExternal": ["files:write"],
  "files.completeUploadExternal": ["files:write"],
};

const BOT_SCOPES = [
  "app_mentions:read",
  "channels:history",
  "channels:join",
  "chat:write",
  "commands",
  "files:write",
  "groups:history",
  "im:history",
  "im:write",
];

/** What the running app must do when Slack delivers each bot event of the manifest. */
const EVENT_PROBES: Record<string, (s: TestBot) => Promise<void>> = {
  async app_home_opened(s) {
    const res = await s.event({
      type: "app_home_opened",
      user: MEMBER_ID,
      channel: "D0MEMBER1",
      tab: "home",
    });
    expect(res.status).toBe(200);
    const call = await s.fake.waitFor(
      "views.publish",
      (c) => c.args.user_id === MEMBER_ID && c.response?.ok === true,
      5000,
    );
    expect((call.args.view as Json).type).toBe("home");
  },
  async app_mention(s) {
    const res = await s.event({
      type: "app_mention",
      user: MEMBER_ID,
      channel: "C0GENERAL",
      ts: "1767000000.000100",
      text: "<@U0KMSBOT> is there a free trial?",
    });
    expect(res.status).toBe(200);
    const call = await s.fake.waitFor(
      "chat.postMessage",
      (c) => c.args.thread_ts === "1767000000.000100" && c.response?.ok === true,
      5000,
    );
    expect(String(call.args.text)).toContain("does not support free trials");
  },
  async "message.im"(s) {
    const res = await s.event({
      type: "message",
      channel_type: "im",
      user: MEMBER_ID,
      channel: "D0MEMBER1",
      ts: "1767000000.000200",
      text: "how much is it in China?",
    });
    expect(res.status).toBe(200);
    const call = await s.fake.waitFor(
      "chat.postMessage",
      (c) => c.args.channel === "D0MEMBER1" && c.response?.ok === true,
      5000,
    );
    expect(String(call.args.text)).toContain("USD 2,399.00");
  },
};

/** The bot scope each subscribed event needs. */
const SCOPE_OF_EVENT: Record<string, string[]> = {
  app_home_opened: [],
  app_mention: ["app_mentions:read"],
  "message.im": ["im:history"],
};

describe("manifest.yml", () => {
  it("declares exactly the slash commands the app registers, with a usage hint and the events URL", () => {
    const commands = at("features.slash_commands") as Json[];
    expect(commands.map((c) => c.command)).toEqual([KMS_COMMAND]);
    for (const command of commands) {
      expect(typeof command.usage_hint).toBe("string");
      expect(String(command.usage_hint).trim().length).toBeGreaterThan(0);
      expect(String(command.usage_hint)).toContain("status");
      expect(String(command.description ?? "").length).toBeGreaterThan(0);
      expect(String(command.url)).toMatch(/^https:\/\/.+\/slack\/events$/);
    }
  });

  it("subscribes to exactly the bot events the app handles (BOT_EVENTS)", () => {
    const events = at("settings.event_subscriptions.bot_events") as string[];
    expect([...events].sort()).toEqual([...BOT_EVENTS].sort());
    expect(new Set(events).size).toBe(events.length);
    expect(String(at("settings.event_subscriptions.request_url"))).toMatch(
      /^https:\/\/.+\/slack\/events$/,
    );
  });

  it("enables interactivity (modals, buttons) at the events URL, and the home tab", () => {
    expect(at("settings.interactivity.is_enabled")).toBe(true);
    expect(String(at("settings.interactivity.request_url"))).toMatch(
      /^https:\/\/.+\/slack\/events$/,
    );
    expect(at("features.app_home.home_tab_enabled")).toBe(true);
    // HTTP mode: the request URLs are what Slack calls.
    expect(at("settings.socket_mode_enabled")).toBe(false);
    // All three URLs point at the same app.
    const origins = new Set(
      [
        ...(at("features.slash_commands") as Json[]).map((c) => String(c.url)),
        String(at("settings.event_subscriptions.request_url")),
        String(at("settings.interactivity.request_url")),
      ].map((u) => new URL(u).origin),
    );
    expect(origins.size).toBe(1);
  });

  it(`asks for exactly the bot scopes ${BOT_SCOPES.join(", ")}`, () => {
    const scopes = at("oauth_config.scopes.bot") as string[];
    expect([...scopes].sort()).toEqual(BOT_SCOPES);
    expect(new Set(scopes).size).toBe(scopes.length);
    expect(at("oauth_config.scopes.user")).toBeUndefined();
  });
});

describe("manifest.yml against the running app", () => {
  let s: TestBot;
  beforeEach(async () => {
    s = await startTestBot({ slack: { channelsBotIsNotIn: ["C0NOTIN"] } });
    await seedInstance(s.db, { id: "kst-a", name: "payments", expires_at: T0 + 10 * DAY_MS });
  });
  afterEach(async () => {
    s.fake.assertNoViolations();
    await s.close();
  });

  it("handles every bot event the manifest subscribes to", async () => {
    const events = at("settings.event_subscriptions.bot_events") as string[];
    expect(events.length).toBeGreaterThan(0);
    for (const event of events) {
      const probe = EVENT_PROBES[event];
      expect(probe, `no probe for manifest event ${event}`).toBeDefined();
      await probe?.(s);
    }
  });

  it("answers the manifest's slash command at the manifest's request path with a reply", async () => {
    const [command] = at("features.slash_commands") as Json[];
    const path = new URL(String(command?.url)).pathname;
    expect(path).toBe(EVENTS_PATH);
    const res = await s.command("help");
    expect(res.status).toBe(200);
    expect(res.reply.response_type).toBe("ephemeral");
    expect(shown(res.reply)).toContain("/kms status");
    const balance = await s.command("balance");
    expect(balance.reply.text).toBe("Balance: USD 0.00");
  });

  it("needs every scope it asks for: the Web API methods the app calls map onto exactly the manifest's scopes", async () => {
    await topup(s.billing, cliActor, 1_000_000);
    // Every surface that calls Slack: command reply, modal, submission (DM + App Home),
    // App Home event, CSV export (DM + upload).
    await s.command("status");
    await s.command("renew kst-a");
    await s.fake.waitFor("views.open", (c) => c.response?.ok === true);
    await s.submit({ viewId: "V-MANIFEST-1", userId: MEMBER_ID, ...renewForm("kst-a") });
    await s.fake.waitFor("chat.postMessage", (c) => c.response?.ok === true);
    await s.fake.waitFor("views.publish", (c) => c.response?.ok === true);
    await EVENT_PROBES.app_home_opened?.(s);
    await s.command("bills export");
    await s.fake.waitFor("files.completeUploadExternal", (c) => c.response?.ok === true);
    await s.fake.waitForResponse((r) => String(r.body.text).includes("Sent the CSV"));
    // The expiry timer: a warning for a channel the bot must join, and one whose earlier
    // post was cut off (the timer looks for it in the channel's history first).
    await seedInstance(s.db, { id: "kst-soon", expires_at: T0 + DAY_MS / 2, channel: "C0NOTIN" });
    await seedInstance(s.db, { id: "kst-cut", expires_at: T0 + DAY_MS / 2 });
    await s.db("warnings").insert({
      instance_id: "kst-cut",
      kind: "pre_expiry",
      slot: 1,
      expires_at: T0 + DAY_MS / 2,
      due_at: T0,
      created_at: T0,
      claimed_by: "a-dead-sweeper",
      claimed_until: Date.now() - 1000,
    });
    await s.bot.sweep({ sleep: async () => {} });
    await s.fake.waitFor("conversations.join");
    await s.fake.waitFor("conversations.history");

    const methods = [...new Set(s.fake.calls.map((c) => c.method))].sort();
    const unknown = methods.filter((m) => !(m in SCOPE_OF_METHOD));
    expect(unknown, "methods missing from SCOPE_OF_METHOD").toEqual([]);
    const needed = new Set<string>(["commands"]); // the slash command itself
    for (const event of at("settings.event_subscriptions.bot_events") as string[]) {
      for (const scope of SCOPE_OF_EVENT[event] ?? []) needed.add(scope);
    }
    for (const m of methods) for (const scope of SCOPE_OF_METHOD[m] ?? []) needed.add(scope);
    const declared = at("oauth_config.scopes.bot") as string[];
    expect([...needed].sort()).toEqual([...declared].sort());
  });
});
