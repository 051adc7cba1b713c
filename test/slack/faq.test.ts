import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FAQ_FIELDS, FAQ_VIEW } from "../../src/slack/features/faq/blocks.js";
import { listAudit } from "../../src/store/audit.js";
import { listFaq } from "../../src/store/faq.js";
import { MEMBER_ID, shown, startTestBot, type TestBot } from "../helpers/app.js";
import { ADMIN } from "../helpers/billing.js";
import { eventCallback } from "../helpers/slack-requests.js";

function faqValues(v: { question: string; phrasings?: string; answer: string; source: string }) {
  const input = (key: keyof typeof FAQ_FIELDS, value: string | undefined) => ({
    [FAQ_FIELDS[key].block]: {
      [FAQ_FIELDS[key].action]: { type: "plain_text_input", value: value ?? null },
    },
  });
  return {
    ...input("question", v.question),
    ...input("phrasings", v.phrasings),
    ...input("answer", v.answer),
    ...input("source", v.source),
  };
}

describe("FAQ in Slack", () => {
  let s: TestBot;
  beforeEach(async () => {
    s = await startTestBot();
  });
  afterEach(async () => {
    s.fake.assertNoViolations();
    await s.close();
  });

  const answered = (pred: (text: string) => boolean) =>
    s.fake
      .callsTo("chat.postMessage")
      .filter((c) => c.response?.ok === true && pred(String(c.args.text)));

  it("/kms faq <question> answers with the source, and /kms faq lists the questions", async () => {
    const res = await s.command("faq is there a free trial?");
    expect(res.reply.response_type).toBe("ephemeral");
    expect(shown(res.reply)).toContain("No. Dedicated KMS does not support free trials.");
    expect(shown(res.reply)).toContain(
      "Source: Alibaba Cloud, Billing of Dedicated KMS (last updated 2023-09-04)",
    );
    const list = await s.command("faq");
    expect(shown(list.reply)).toContain("Does Dedicated KMS support free trials?");
    expect(shown(list.reply)).toContain("How do I unsubscribe and get a refund?");
    const unknown = await s.command("faq what's the weather in Berlin");
    expect(shown(unknown.reply)).toContain("I don't know that one");
    expect(shown(unknown.reply)).toContain("/kms help");
  });

  it("answers an @mention in a thread and a DM in the DM", async () => {
    await s.event({
      type: "app_mention",
      user: MEMBER_ID,
      channel: "C0GENERAL",
      ts: "1767000000.000100",
      text: "<@U0KMSBOT> do you offer free trials",
    });
    const mention = await s.fake.waitFor("chat.postMessage", (c) => c.response?.ok === true);
    expect(mention.args).toMatchObject({ channel: "C0GENERAL", thread_ts: "1767000000.000100" });
    expect(String(mention.args.text)).toContain("does not support free trials");
    await s.event({
      type: "message",
      channel_type: "im",
      user: MEMBER_ID,
      channel: "D0MEMBER1",
      ts: "1767000000.000200",
      text: "can I get my money back?",
    });
    const dm = await s.fake.waitFor(
      "chat.postMessage",
      (c) => c.args.channel === "D0MEMBER1" && c.response?.ok === true,
    );
    expect(String(dm.args.text)).toContain("/kms unsubscribe");
    expect(dm.args.thread_ts).toBeUndefined();
  });

  it("answers an event retried three times (X-Slack-Retry-Num) once", async () => {
    const event = {
      type: "app_mention",
      user: MEMBER_ID,
      channel: "C0GENERAL",
      ts: "1767000000.000300",
      text: "<@U0KMSBOT> how much is it in China?",
    };
    const request = eventCallback({ event, eventId: "Ev0RETRY01" });
    await s.send(request);
    for (const n of [1, 2, 3]) {
      const res = await s.send(request, {
        headers: { "x-slack-retry-num": String(n), "x-slack-retry-reason": "http_timeout" },
      });
      expect(res.status).toBe(200);
    }
    await s.fake.waitFor("chat.postMessage", (c) => c.response?.ok === true);
    await new Promise((r) => setTimeout(r, 200));
    expect(answered((t) => t.includes("China site"))).toHaveLength(1);
  });

  it("ignores its own messages and message edits in DMs", async () => {
    await s.event({
      type: "message",
      channel_type: "im",
      user: "U0KMSBOT",
      bot_id: "B0KMSBOT",
      channel: "D0MEMBER1",
      ts: "1767000000.000400",
      text: "is there a free trial?",
    });
    await s.event({
      type: "message",
      subtype: "message_changed",
      channel_type: "im",
      channel: "D0MEMBER1",
      ts: "1767000000.000500",
      message: { text: "is there a free trial?" },
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(s.fake.callsTo("chat.postMessage")).toHaveLength(0);
  });

  it("lets admins add, edit and remove entries through a modal, at once and audited; members can't", async () => {
    const refused = await s.command("faq add");
    expect(refused.status).toBe(200);
    const r = await s.fake.waitForResponse((x) =>
      String(x.body.text).includes("Only a billing admin can change the FAQ"),
    );
    expect(String(r.body.text)).toContain(`<@${ADMIN}>`);
    expect(s.fake.callsTo("views.open")).toHaveLength(0);

    await s.command("faq add", ADMIN);
    const open = await s.fake.waitFor("views.open", (c) => c.response?.ok === true);
    expect((open.args.view as { callback_id: string }).callback_id).toBe(FAQ_VIEW);
    const add = await s.submit({
      callbackId: FAQ_VIEW,
      userId: ADMIN,
      privateMetadata: "new",
      values: faqValues({
        question: "Which regions support Dedicated KMS?",
        phrasings: "supported regions\nwhere is it available",
        answer: "Ask your account manager; `/kms status` shows your sites.",
        source: "Team wiki, 2026-11",
      }),
    });
    expect(add.text).toBe("");
    const entry = (await listFaq({ tx: s.db })).find((e) => e.question.startsWith("Which regions"));
    expect(entry).toBeDefined();
    expect(shown((await s.command("faq where is it available")).reply)).toContain(
      "Ask your account manager",
    );

    await s.submit({
      callbackId: FAQ_VIEW,
      userId: ADMIN,
      privateMetadata: String(entry?.id),
      values: faqValues({
        question: "Which regions support Dedicated KMS?",
        phrasings: "supported regions",
        answer: "All regions of your sites.",
        source: "Team wiki",
      }),
    });
    expect(shown((await s.command("faq supported regions")).reply)).toContain(
      "All regions of your sites.",
    );

    const member = await s.submit({
      callbackId: FAQ_VIEW,
      userId: MEMBER_ID,
      privateMetadata: String(entry?.id),
      values: faqValues({ question: "hijacked", answer: "hijacked", source: "x" }),
    });
    expect(JSON.stringify(member.json)).toContain("Only a billing admin");
    const empty = await s.submit({
      callbackId: FAQ_VIEW,
      userId: ADMIN,
      privateMetadata: "new",
      values: faqValues({ question: "", answer: "a", source: "b" }),
    });
    expect(empty.json).toMatchObject({
      response_action: "errors",
      errors: { [FAQ_FIELDS.question.block]: expect.stringContaining("required") },
    });

    expect(shown((await s.command(`faq remove ${entry?.id}`, ADMIN)).reply)).toContain(
      "Removed FAQ entry",
    );
    expect(shown((await s.command("faq supported regions")).reply)).toContain(
      "I don't know that one",
    );
    const actions = (await listAudit({ tx: s.db }))
      .map((a) => a.action)
      .filter((a) => a.startsWith("faq."));
    expect(actions.reverse()).toEqual(["faq.add", "faq.edit", "faq.remove"]);
  });
});
