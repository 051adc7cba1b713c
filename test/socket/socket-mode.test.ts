import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { balance } from "../../src/billing/account.js";
import { MEMBER_ID, shown, socketCommand, startTestBot, type TestBot } from "../helpers/app.js";
import { ADMIN, DAY_MS, fund, seedInstance, T0 } from "../helpers/billing.js";
import type { JsonObject } from "../helpers/fake-slack.js";
import type { FakeSocket } from "../helpers/fake-socket.js";
import {
  blockAction,
  eventCallback,
  type SlackRequest,
  slashCommand,
} from "../helpers/slack-requests.js";
import { renewSubmission } from "../reliability/bot-process.js";

/** The first button in a reply whose label contains `label`. */
function buttonLabelled(reply: unknown, label: string): JsonObject | undefined {
  const found: JsonObject[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") {
      const o = v as JsonObject;
      const text = (o.text as { text?: unknown } | undefined)?.text;
      if (o.type === "button" && typeof text === "string" && text.includes(label)) found.push(o);
      Object.values(o).forEach(walk);
    }
  };
  walk(reply);
  return found[0];
}

describe("Socket Mode, end to end over a fake Slack socket", () => {
  let s: TestBot;
  let socket: FakeSocket;
  const command = (text: string, userId: string = MEMBER_ID): SlackRequest =>
    slashCommand({
      text,
      userId,
      triggerId: s.fake.newTriggerId(),
      responseUrl: s.fake.newResponseUrl(),
    });

  beforeEach(async () => {
    s = await startTestBot({ socket: true });
    socket = s.socket as FakeSocket;
    await socket.waitForConnection(1);
    await seedInstance(s.db, { id: "kst-a", name: "payments", expires_at: T0 + 10 * DAY_MS });
  });
  afterEach(async () => {
    s.fake.assertNoViolations();
    await s.close();
  });

  it("answers a slash command sent over the socket", async () => {
    await fund(s.billing, 123_456);
    expect(shown(await socketCommand(s, "balance"))).toContain("USD 1,234.56");
  });

  it("handles a button, a modal submission and an event", async () => {
    await fund(s.billing, 500_000);
    const status = await socketCommand(s, "status kst-a");
    const renew = buttonLabelled(status, "Renew");
    expect(renew, "a Renew button in /kms status kst-a").toBeDefined();
    await socket.deliver(
      blockAction({
        actionId: String(renew?.action_id),
        value: typeof renew?.value === "string" ? renew.value : undefined,
        triggerId: s.fake.newTriggerId(),
        responseUrl: s.fake.newResponseUrl(),
        message: { type: "message", ts: "1.000001", blocks: (status.blocks as unknown[]) ?? [] },
      }),
    );
    const opened = await s.fake.waitFor("views.open", (c) => c.response?.ok === true);
    expect(shown(opened.args.view)).toContain("kst-a");

    const submitted = await socket.deliver(renewSubmission("V0SOCKET1", "kst-a", 1, MEMBER_ID));
    expect(submitted.payload?.response_action).toBeUndefined();
    expect(await balance(s.billing)).toBe(500_000 - 179_900);

    await socket.deliver(
      eventCallback({ event: { type: "app_home_opened", user: MEMBER_ID, tab: "home" } }),
    );
    const published = await s.fake.waitFor("views.publish");
    expect(published.args.user_id).toBe(MEMBER_ID);
  });

  it("reconnects after disconnect/refresh_requested and after an abrupt TCP drop", async () => {
    socket.requestRefresh();
    await socket.waitForConnection(2);
    await fund(s.billing, 100);
    expect(shown(await socketCommand(s, "balance"))).toContain("USD 1.00");

    socket.drop();
    await socket.waitForConnection(3);
    expect(shown(await socketCommand(s, "balance"))).toContain("USD 1.00");
    expect(s.fake.callsTo("apps.connections.open")).toHaveLength(3);
  });

  it("handles an envelope delivered twice once", async () => {
    const topup = command("topup 100", ADMIN);
    await socket.deliver(topup, { envelopeId: "env-twice" });
    const again = await socket.deliver(topup, { envelopeId: "env-twice" });
    expect(shown(again.payload)).toContain("already handled");
    expect(await balance(s.billing)).toBe(10_000);
  });
});
