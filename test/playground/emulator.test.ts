/**
 * What the emulator keeps for a person to see (the playground's page shows it): ephemeral
 * messages, response_url replies placed where Slack places them, and a person's modal stack
 * through views.open, views.push, views.update and a submission's response_action.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FakeSlack, startFakeSlack } from "../helpers/fake-slack.js";

const modal = (title: string, text = "body") => ({
  type: "modal",
  title: { type: "plain_text", text: title },
  blocks: [{ type: "section", text: { type: "mrkdwn", text } }],
});

describe("the emulator's workspace, as a person sees it", () => {
  let fake: FakeSlack;
  const call = async (method: string, args: Record<string, unknown>) => {
    const response = await fetch(`${fake.url}${method}`, {
      method: "POST",
      headers: { authorization: `Bearer ${fake.botToken}`, "content-type": "application/json" },
      body: JSON.stringify(args),
    });
    return (await response.json()) as Record<string, unknown>;
  };
  const respond = (url: string, body: Record<string, unknown>) =>
    fetch(url, { method: "POST", body: JSON.stringify(body) });

  beforeEach(async () => {
    fake = await startFakeSlack();
  });
  afterEach(async () => {
    await fake.close();
  });

  it("keeps ephemeral messages for the one person they were posted to", async () => {
    await call("chat.postEphemeral", { channel: "C0ONE", user: "U0ADA", text: "just you" });
    expect(fake.ephemerals).toMatchObject([{ channel: "C0ONE", user: "U0ADA", text: "just you" }]);
    expect(fake.messages).toEqual([]);
  });

  it("puts response_url replies where Slack does: a new ephemeral, in the channel, or over the original", async () => {
    const posted = await call("chat.postMessage", { channel: "C0ONE", text: "original" });
    const ts = String(posted.ts);
    const context = { channel: "C0ONE", user: "U0BEN", messageTs: ts };
    await respond(fake.newResponseUrl(context), { text: "only Ben" });
    expect(fake.ephemerals).toMatchObject([{ user: "U0BEN", text: "only Ben" }]);
    await respond(fake.newResponseUrl(context), { response_type: "in_channel", text: "everyone" });
    expect(fake.messages.map((m) => m.text)).toEqual(["original", "everyone"]);
    await respond(fake.newResponseUrl(context), { replace_original: true, text: "replaced" });
    expect(fake.messages.map((m) => m.text)).toEqual(["replaced", "everyone"]);
    await respond(fake.newResponseUrl(context), { delete_original: true });
    expect(fake.messages.map((m) => m.text)).toEqual(["everyone"]);
  });

  it("stacks a person's modals: open, push, update, a submission's update and push, close", async () => {
    const opened = await call("views.open", {
      trigger_id: fake.newTriggerId({ user: "U0ADA" }),
      view: modal("First"),
    });
    expect(opened.ok).toBe(true);
    await call("views.push", {
      trigger_id: fake.newTriggerId({ user: "U0ADA" }),
      view: modal("Second"),
    });
    const titles = () => fake.modalStack("U0ADA").map((v) => (v.title as { text: string }).text);
    expect(titles()).toEqual(["First", "Second"]);
    expect(fake.modalStack("U0BEN")).toEqual([]);
    const first = opened.view as { id: string; hash: string };
    await call("views.update", {
      view_id: first.id,
      hash: first.hash,
      view: modal("First, updated"),
    });
    expect(titles()).toEqual(["First, updated", "Second"]);
    fake.applyResponseAction("U0ADA", "update", modal("Second, updated"));
    fake.applyResponseAction("U0ADA", "push", modal("Third"));
    expect(titles()).toEqual(["First, updated", "Second, updated", "Third"]);
    expect(() =>
      fake.applyResponseAction("U0ADA", "push", modal("A title longer than Slack allows")),
    ).toThrow(/refused/);
    fake.closeModal("U0ADA");
    expect(titles()).toEqual(["First, updated", "Second, updated"]);
    fake.closeModal("U0ADA", true);
    expect(titles()).toEqual([]);
    // A new views.open starts a new stack.
    await call("views.open", {
      trigger_id: fake.newTriggerId({ user: "U0ADA" }),
      view: modal("Fresh"),
    });
    expect(titles()).toEqual(["Fresh"]);
  });
});
