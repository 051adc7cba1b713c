// Slack's Web API failing while a person waits: the app retries what it can (retries: 2,
// so 3 attempts; a 429's Retry-After is waited out), tells the person what it can't, and
// never charges twice or charges for something that didn't happen.

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { balance, topup } from "../../src/billing/account.js";
import { cliActor } from "../../src/billing/context.js";
import { RENEW_VIEW } from "../../src/slack/features/renew/blocks.js";
import { listOrders } from "../../src/store/orders.js";
import { MEMBER_ID, startTestBot, type TestBot } from "../helpers/app.js";
import { DAY_MS, seedInstance, T0 } from "../helpers/billing.js";
import { renewValues, shownPrice } from "../helpers/forms.js";

const FUNDS = 1_000_000;
const PRICE = 179_900;
const EXPIRES = T0 + 10 * DAY_MS;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("Slack Web API faults while a person waits", () => {
  let s: TestBot;
  beforeEach(async () => {
    s = await startTestBot();
    await seedInstance(s.db, { id: "kst-a", name: "payments", expires_at: EXPIRES });
    await topup(s.billing, cliActor, FUNDS);
  });
  afterEach(async () => {
    s.fake.assertNoViolations();
    await s.close();
  });

  async function expectNothingCharged() {
    expect(await balance(s.billing)).toBe(FUNDS);
    expect(await listOrders({ tx: s.db }, "kst-a")).toEqual([]);
    expect(await s.db("ledger").select("kind")).toEqual([{ kind: "recharge" }]);
    expect((await s.db("instances").where({ id: "kst-a" }).first())?.expires_at).toBe(EXPIRES);
  }

  it("views.open answering 429 with Retry-After: 1 once: the client waits, retries once, and the modal opens", async () => {
    s.fake.failNext("views.open", { status: 429, retryAfter: 1 });
    const res = await s.command("renew kst-a");
    expect(res.status).toBe(200);
    const opened = await s.fake.waitFor("views.open", (c) => c.response?.ok === true, 5000);
    const calls = s.fake.callsTo("views.open");
    expect(calls).toHaveLength(2);
    expect(calls[0]?.status).toBe(429);
    expect(calls[0]?.response).toMatchObject({ ok: false, error: "ratelimited" });
    expect(calls[1]).toBe(opened);
    expect(calls[1]?.args.trigger_id).toBe(calls[0]?.args.trigger_id);
    expect(opened.at - (calls[0]?.at ?? 0)).toBeGreaterThanOrEqual(950);
    expect(s.fake.findView(RENEW_VIEW)).toBeDefined();
    // Nobody is told about a failure that was recovered from.
    await sleep(200);
    expect(s.fake.responses).toEqual([]);
  });

  it("views.open answering ok:false expired_trigger_id: the person is told via response_url to run the command again", async () => {
    s.fake.failNext("views.open", { error: "expired_trigger_id" });
    await s.command("renew kst-a");
    const told = await s.fake.waitForResponse(undefined, 5000);
    expect(told.status).toBe(200);
    expect(told.body.response_type).toBe("ephemeral");
    expect(String(told.body.text)).toMatch(/run the command again/i);
    // A platform error is not retried: the trigger id would be no better the second time.
    expect(s.fake.callsTo("views.open")).toHaveLength(1);
    expect(s.fake.findView(RENEW_VIEW)).toBeUndefined();
    await expectNothingCharged();
  });

  it("views.open answering 503 three times: three attempts, then one clear message via response_url, nothing charged", async () => {
    s.fake.failNext("views.open", { status: 503, times: 3 });
    await s.command("renew kst-a");
    const told = await s.fake.waitForResponse(undefined, 8000);
    const calls = s.fake.callsTo("views.open");
    expect(calls).toHaveLength(3);
    expect(calls.every((c) => c.status === 503)).toBe(true);
    expect(told.body.response_type).toBe("ephemeral");
    const text = String(told.body.text);
    expect(text).toMatch(/went wrong/i);
    expect(text).toMatch(/nothing was changed/i);
    expect(text).toMatch(/try again/i);
    expect(text).not.toMatch(/expired|took too long/i);
    await sleep(300);
    expect(s.fake.responses).toHaveLength(1);
    expect(s.fake.findView(RENEW_VIEW)).toBeUndefined();
    await expectNothingCharged();
  });

  it("/kms bills export with files.getUploadURLExternal answering ok:false: the person is told it failed", async () => {
    s.fake.failNext("files.getUploadURLExternal", { error: "internal_error" });
    const res = await s.command("bills export");
    expect(res.status).toBe(200);
    expect(res.reply.text).toMatch(/Preparing the CSV/);
    const told = await s.fake.waitForResponse(undefined, 5000);
    expect(told.body.response_type).toBe("ephemeral");
    const text = String(told.body.text);
    expect(text).not.toMatch(/Sent the CSV/);
    expect(text).toMatch(/went wrong|failed|could not|couldn't/i);
    expect(s.fake.callsTo("files.getUploadURLExternal")).toHaveLength(1);
    expect(s.fake.callsTo("files.completeUploadExternal")).toEqual([]);
    expect(s.fake.uploadedFiles).toEqual([]);
    await sleep(200);
    expect(s.fake.responses).toHaveLength(1);
  });

  it("/kms bills export whose file upload itself keeps failing: the person is told it failed", async () => {
    s.fake.failNext("upload", { status: 500, times: 5 });
    await s.command("bills export");
    const told = await s.fake.waitForResponse(undefined, 8000);
    const text = String(told.body.text);
    expect(text).not.toMatch(/Sent the CSV/);
    expect(text).toMatch(/went wrong|failed|could not|couldn't/i);
    expect(s.fake.uploadedFiles).toEqual([]);
  });

  it("the confirmation DM after a renew submission failing with 503s: renewal recorded exactly once, modal closed, App Home still refreshed", async () => {
    s.fake.failNext("chat.postMessage", { status: 503, times: 3 });
    const values = renewValues("kst-a", "1");
    const res = await s.submit({
      callbackId: RENEW_VIEW,
      viewId: "V-FAULT-RENEW",
      userId: MEMBER_ID,
      values,
      privateMetadata: shownPrice("kst-a"),
    });
    // An empty 200 closes the modal.
    expect(res.status).toBe(200);
    expect(res.text).toBe("");
    await s.fake.waitFor(
      "views.publish",
      (c) => c.args.user_id === MEMBER_ID && c.response?.ok === true,
      8000,
    );
    const dms = s.fake.callsTo("chat.postMessage");
    expect(dms).toHaveLength(3);
    expect(dms.every((c) => c.status === 503 && c.args.channel === MEMBER_ID)).toBe(true);
    // The same submission again (a retry) closes the modal and charges nothing more.
    const again = await s.submit({
      callbackId: RENEW_VIEW,
      viewId: "V-FAULT-RENEW",
      userId: MEMBER_ID,
      values,
      privateMetadata: shownPrice("kst-a"),
    });
    expect(again.status).toBe(200);
    expect(again.text).toBe("");
    const orders = await listOrders({ tx: s.db }, "kst-a");
    expect(orders).toHaveLength(1);
    expect(orders[0]).toMatchObject({ kind: "renewal", months: 1, amount_cents: PRICE });
    expect(await balance(s.billing)).toBe(FUNDS - PRICE);
    expect((await s.db("ledger").select("kind").orderBy("id")).map((r) => r.kind)).toEqual([
      "recharge",
      "renewal",
    ]);
    const renewed = await s.db("instances").where({ id: "kst-a" }).first();
    expect(Number(renewed?.expires_at)).toBe(orders[0]?.period_end);
    expect(Number(renewed?.expires_at)).toBeGreaterThan(EXPIRES);
  });
});
