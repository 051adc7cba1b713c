import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { balance } from "../../src/billing/account.js";
import { addAdmin } from "../../src/billing/admins.js";
import { monthBill } from "../../src/billing/bills.js";
import { userActor } from "../../src/billing/context.js";
import { disableInstance, instanceView, setAutoRenew } from "../../src/billing/instances.js";
import { formatUsd } from "../../src/billing/money.js";
import { purchase, renew } from "../../src/billing/orders.js";
import {
  APPROVE_TICKET,
  REJECT_REASON,
  REJECT_TICKET,
  REJECT_VIEW,
  WITHDRAW_TICKET,
} from "../../src/slack/features/tickets/blocks.js";
import {
  UNSUB_INSTANCE,
  UNSUB_REASON,
  UNSUB_VIEW,
} from "../../src/slack/features/unsubscribe/blocks.js";
import { ANY_INSTANCE, OPEN_UNSUBSCRIBE } from "../../src/slack/kit/buttons.js";
import { ledgerSum } from "../../src/store/ledger.js";
import { listOrders } from "../../src/store/orders.js";
import { getTicket } from "../../src/store/tickets.js";
import {
  ALERT_CHANNEL,
  elementsWith,
  MEMBER_ID,
  shown,
  startTestBot,
  type TestBot,
} from "../helpers/app.js";
import { ADMIN, DAY_MS, fund, seedInstance, T0 } from "../helpers/billing.js";
import type { JsonObject, RecordedCall, StoredMessage } from "../helpers/fake-slack.js";

const INTL = 179_900;
const FUNDS = 10_000_000;
const OTHER_ID = "U0OTHER01";
const ADMIN2 = "UADMIN002";
const admin = userActor(ADMIN);
const REASON = "We are moving to another region";

/** `view.state.values` of the unsubscribe modal as Slack sends them. */
function unsubValues(instanceId: string | null, reason: string | null) {
  return {
    [UNSUB_INSTANCE.block]: {
      [UNSUB_INSTANCE.action]: {
        type: "static_select",
        selected_option: instanceId ? { value: instanceId } : null,
      },
    },
    [UNSUB_REASON.block]: {
      [UNSUB_REASON.action]: { type: "plain_text_input", value: reason },
    },
  };
}

function rejectValues(reason: string | null) {
  return {
    [REJECT_REASON.block]: { [REJECT_REASON.action]: { type: "plain_text_input", value: reason } },
  };
}

/** The amount in the modal's "*Refund estimate: USD ...*" line, or "USD 0.00" when it says nothing is refundable. */
function estimateIn(view: unknown): string {
  const text = shown(view);
  const match = /\*Refund estimate: (USD [\d,]+\.\d\d)\*/.exec(text);
  if (match) return match[1];
  expect(text).toContain("Nothing is refundable.");
  return formatUsd(0);
}

function dateToken(at: number): string {
  return `<!date^${Math.floor(at / 1000)}^`;
}

/** A stored bot message as Slack sends it back with a click on one of its buttons. */
function asClicked(m: StoredMessage): JsonObject {
  return {
    type: "message",
    user: "U0KMSBOT",
    bot_id: "B0KMSBOT",
    text: m.text,
    ts: m.ts,
    blocks: m.blocks,
  };
}

function replyMessage(reply: JsonObject): JsonObject {
  return {
    type: "message",
    user: "U0KMSBOT",
    bot_id: "B0KMSBOT",
    text: reply.text,
    ts: "1768046400.000100",
    blocks: reply.blocks,
  };
}

describe("unsubscribe tickets", () => {
  let s: TestBot;
  beforeEach(async () => {
    s = await startTestBot();
  });
  afterEach(async () => {
    s.fake.assertNoViolations();
    await s.close();
  });

  /** Waits for a call made after `mark` (an index into the recorded calls) and answered ok. */
  function nextCall(mark: number, method: string, pred: (c: RecordedCall) => boolean = () => true) {
    return s.fake.waitFor(
      method,
      (c) => s.fake.calls.indexOf(c) >= mark && c.response?.ok === true && pred(c),
    );
  }

  /** `/kms unsubscribe [<id>]`: the modal as Slack stored it (with id and hash). */
  async function openModal(instanceId?: string, user: string = MEMBER_ID): Promise<JsonObject> {
    const mark = s.fake.calls.length;
    const res = await s.command(instanceId ? `unsubscribe ${instanceId}` : "unsubscribe", user);
    expect(res.status).toBe(200);
    const call = await nextCall(mark, "views.open");
    const view = call.response?.view as JsonObject;
    expect(view.callback_id).toBe(UNSUB_VIEW);
    return view;
  }

  /**
   * Opens the modal for `instanceId` and submits it with `reason`; waits for the support-channel
   * post and the requester's confirmation DM.
   */
  async function file(instanceId: string, reason = REASON, user: string = MEMBER_ID) {
    const view = await openModal(instanceId, user);
    const mark = s.fake.calls.length;
    const res = await s.submit({ view, values: unsubValues(instanceId, reason), userId: user });
    expect(res.status).toBe(200);
    expect(res.text).toBe("");
    const post = await nextCall(mark, "chat.postMessage", (c) => c.args.channel === ALERT_CHANNEL);
    const dm = await nextCall(mark, "chat.postMessage", (c) => c.args.channel === user);
    const home = await nextCall(mark, "views.publish", (c) => c.args.user_id === user);
    return { view, post, dm, home, ts: String(post.response?.ts) };
  }

  function supportMessage(ts: string): StoredMessage {
    const m = s.fake.messages.find((x) => x.channel === ALERT_CHANNEL && x.ts === ts);
    if (!m) throw new Error(`no support message ${ts}`);
    return m;
  }

  /** Clicks a button of the support message as `user`; returns the click's response_url. */
  async function clickOnSupport(
    actionId: string,
    ts: string,
    user: string = ADMIN,
    message: JsonObject = asClicked(supportMessage(ts)),
  ): Promise<string> {
    const url = s.fake.newResponseUrl();
    const res = await s.click({
      actionId,
      message,
      channelId: ALERT_CHANNEL,
      userId: user,
      responseUrl: url,
    });
    expect(res.status).toBe(200);
    return url;
  }

  /** Approves as `user` and waits for the requester's DM, the support message update and App Home. */
  async function approve(ts: string, requester: string = MEMBER_ID, user: string = ADMIN) {
    const mark = s.fake.calls.length;
    await clickOnSupport(APPROVE_TICKET, ts, user);
    const update = await nextCall(mark, "chat.update", (c) => c.args.ts === ts);
    const dm = await nextCall(
      mark,
      "chat.postMessage",
      (c) => c.args.channel === requester && String(c.args.text).includes("approved"),
    );
    await nextCall(mark, "views.publish", (c) => c.args.user_id === user);
    return { update, dm };
  }

  async function refundLines() {
    return (await monthBill(s.billing, "2026-01")).lines
      .filter((l) => l.item === "Refund")
      .map((l) => [l.orderId, l.amountCents]);
  }

  describe("the estimate in the modal is the refund executed on approval", () => {
    it("(a) active with pending renewals: refunded in full, expiry rolled back, still active, auto-renew off", async () => {
      await fund(s.billing, FUNDS);
      const expiry = T0 + 10 * DAY_MS;
      await seedInstance(s.db, { id: "kst-a", name: "payments", expires_at: expiry });
      await setAutoRenew(s.billing, admin, "kst-a", 1);
      const r2 = await renew(s.billing, admin, { instanceId: "kst-a", months: 2 });
      const r1 = await renew(s.billing, admin, { instanceId: "kst-a", months: 1 });
      const before = await balance(s.billing);

      const view = await openModal("kst-a");
      const text = shown(view);
      expect(estimateIn(view)).toBe("USD 5,397.00");
      expect(text).toContain("pending renewal");
      expect(text).toContain("USD 3,598.00 of USD 3,598.00");
      expect(text).toContain("USD 1,799.00 of USD 1,799.00");
      expect(text).toContain(`keeps running until ${dateToken(expiry)}`);
      expect(text).toContain("stops auto-renewing");
      expect((view.submit as JsonObject).text).toBe("File ticket");
      expect(elementsWith(view, UNSUB_INSTANCE.action)[0]?.initial_option).toMatchObject({
        value: "kst-a",
      });

      const filed = await file("kst-a");
      expect(shown(filed.post.args.blocks)).toContain("*Refund estimate: USD 5,397.00*");
      const { update, dm } = await approve(filed.ts);
      expect(shown(update.args.blocks)).toContain("refunded *USD 5,397.00*");
      expect(String(dm.args.text)).toContain("USD 5,397.00 refunded");
      expect(String(dm.args.text)).toContain(`keeps running until ${dateToken(expiry)}`);

      expect(await balance(s.billing)).toBe(before + 3 * INTL);
      expect(await ledgerSum({ tx: s.db })).toBe(before + 3 * INTL);
      expect(await refundLines()).toEqual([
        [r2.order.id, 2 * INTL],
        [r1.order.id, INTL],
      ]);
      const orders = await listOrders({ tx: s.db }, "kst-a");
      expect(orders.map((o) => o.refunded_cents)).toEqual([2 * INTL, INTL]);
      const final = await instanceView(s.billing, "kst-a");
      expect(final.lifecycle.state).toBe("active");
      expect(final.instance.expires_at).toBe(expiry);
      expect(final.instance.auto_renew_months).toBeNull();
      expect(await getTicket({ tx: s.db }, 1)).toMatchObject({
        status: "approved",
        estimate_cents: 3 * INTL,
        refunded_cents: 3 * INTL,
        decided_by: ADMIN,
      });
    });

    it("(b) admin-disabled with unused paid time: pro rata by the second, rounded down; released", async () => {
      await fund(s.billing, FUNDS);
      const bought = await purchase(s.billing, admin, {
        name: "hsm",
        site: "international",
        months: 1,
      });
      const id = bought.instance.id;
      // One month from 10 Jan 12:00 is 2,678,400 s; 10 days and 11.001 s later 1,814,388 whole
      // seconds are left: 179,900 x 1,814,388 / 2,678,400 = 121,866.94 -> USD 1,218.66 (a
      // partial second counted, or rounding to the nearest cent, would give USD 1,218.67).
      s.clock.advance(10 * DAY_MS + 11_001);
      await disableInstance(s.billing, admin, id);
      const before = await balance(s.billing);

      const view = await openModal(id);
      expect(estimateIn(view)).toBe("USD 1,218.66");
      expect(shown(view)).toContain("unused share of the current period");
      expect(shown(view)).toContain(`${id} is released at once`);
      expect((view.submit as JsonObject).text).toBe("File ticket");

      const filed = await file(id);
      expect(String(filed.dm.args.text)).toContain("estimated refund USD 1,218.66");
      const { update, dm } = await approve(filed.ts);
      expect(shown(update.args.blocks)).toContain("refunded *USD 1,218.66*");
      expect(String(dm.args.text)).toContain("USD 1,218.66 refunded");
      expect(String(dm.args.text)).toContain(`${id} is released`);

      expect(await balance(s.billing)).toBe(before + 121_866);
      expect(await refundLines()).toEqual([[bought.order.id, 121_866]]);
      expect((await listOrders({ tx: s.db }, id))[0].refunded_cents).toBe(121_866);
      const final = await instanceView(s.billing, id);
      expect(final.lifecycle.state).toBe("released");
      expect(final.instance.released_at).toBe(s.clock());
    });

    it("(c) disabled by expiry: the modal says nothing is refundable and why; approval refunds 0 and releases", async () => {
      await fund(s.billing, FUNDS);
      s.clock.set(T0 - 40 * DAY_MS);
      const bought = await purchase(s.billing, admin, {
        name: "old",
        site: "international",
        months: 1,
      });
      const id = bought.instance.id;
      s.clock.set(T0);
      const before = await balance(s.billing);

      const view = await openModal(id);
      const text = shown(view);
      expect(estimateIn(view)).toBe("USD 0.00");
      expect(text).not.toContain("Refund estimate");
      expect(text).toContain("Nothing is refundable.");
      expect(text).toContain("It has expired: its paid period is used up");
      expect(text).toContain(
        "Rule: Pending renewal orders (paid, not yet started) are refunded in full",
      );
      expect(text).toContain("You can still file a plain request.");
      expect((view.submit as JsonObject).text).toBe("File request");

      const filed = await file(id);
      expect(String(filed.dm.args.text)).toContain("nothing refundable under the rules");
      const { update, dm } = await approve(filed.ts);
      expect(shown(update.args.blocks)).toContain("refunded *USD 0.00*");
      expect(String(dm.args.text)).toContain("USD 0.00 refunded");
      expect(String(dm.args.text)).toContain(`${id} is released`);

      expect(await balance(s.billing)).toBe(before);
      expect(await refundLines()).toEqual([]);
      expect((await listOrders({ tx: s.db }, id))[0].refunded_cents).toBe(0);
      expect((await instanceView(s.billing, id)).lifecycle.state).toBe("released");
      expect((await getTicket({ tx: s.db }, 1))?.refunded_cents).toBe(0);
    });

    it("(d) imported, nothing at all: the modal says so; approval refunds 0 and it runs on", async () => {
      await fund(s.billing, FUNDS);
      const expiry = T0 + 40 * DAY_MS;
      await seedInstance(s.db, { id: "kst-imp", expires_at: expiry });

      const view = await openModal("kst-imp");
      const text = shown(view);
      expect(estimateIn(view)).toBe("USD 0.00");
      expect(text).toContain("Nothing is refundable.");
      expect(text).toContain("An active instance is refunded only its pending renewal orders");
      expect(text).toContain("Rule:");
      expect((view.submit as JsonObject).text).toBe("File request");

      const filed = await file("kst-imp");
      const { update } = await approve(filed.ts);
      expect(shown(update.args.blocks)).toContain("refunded *USD 0.00*");
      expect(await balance(s.billing)).toBe(FUNDS);
      expect(await refundLines()).toEqual([]);
      const final = await instanceView(s.billing, "kst-imp");
      expect(final.lifecycle.state).toBe("active");
      expect(final.instance.expires_at).toBe(expiry);
    });
  });

  describe("opening the modal", () => {
    beforeEach(async () => {
      await fund(s.billing, FUNDS);
      await seedInstance(s.db, { id: "kst-a", name: "payments", expires_at: T0 + 10 * DAY_MS });
      await seedInstance(s.db, { id: "kst-b", name: "archive", expires_at: T0 + 20 * DAY_MS });
      await seedInstance(s.db, { id: "kst-gone", expires_at: T0 - 20 * DAY_MS });
      await renew(s.billing, admin, { instanceId: "kst-a", months: 1 });
    });

    it("from the Unsubscribe button of /kms status <instance>", async () => {
      const res = await s.command("status kst-a");
      const button = elementsWith(res.reply.blocks, OPEN_UNSUBSCRIBE)[0];
      expect(button?.value).toBe("kst-a");
      const mark = s.fake.calls.length;
      await s.click({ actionId: OPEN_UNSUBSCRIBE, message: replyMessage(res.reply) });
      const open = await nextCall(mark, "views.open");
      const view = open.args.view as JsonObject;
      expect(view.callback_id).toBe(UNSUB_VIEW);
      expect(elementsWith(view, UNSUB_INSTANCE.action)[0]?.initial_option).toMatchObject({
        value: "kst-a",
      });
      expect(estimateIn(view)).toBe("USD 1,799.00");
      expect(JSON.stringify(view)).not.toContain("kst-gone");
    });

    it("from App Home (no instance yet), then shows the estimate of the instance chosen", async () => {
      const mark = s.fake.calls.length;
      await s.event({
        type: "app_home_opened",
        user: MEMBER_ID,
        channel: "D0MEMBER1",
        tab: "home",
      });
      await nextCall(mark, "views.publish", (c) => c.args.user_id === MEMBER_ID);
      const home = s.fake.findView();
      expect(home?.type).toBe("home");
      expect(elementsWith(home, OPEN_UNSUBSCRIBE)[0]?.value).toBe(ANY_INSTANCE);
      const clicked = s.fake.calls.length;
      await s.click({ actionId: OPEN_UNSUBSCRIBE, view: home, responseUrl: undefined });
      const open = await nextCall(clicked, "views.open");
      const modal = open.response?.view as JsonObject;
      expect(modal.callback_id).toBe(UNSUB_VIEW);
      expect(elementsWith(modal, UNSUB_INSTANCE.action)[0]?.initial_option).toBeUndefined();
      expect(shown(modal)).toContain("Pick an instance to see what unsubscribing would refund.");
      expect(shown(modal)).not.toContain("Refund estimate");

      const chosen = s.fake.calls.length;
      await s.click({
        actionId: UNSUB_INSTANCE.action,
        view: modal,
        selectedOption: { value: "kst-a" },
        stateValues: unsubValues("kst-a", null),
      });
      const update = await nextCall(chosen, "views.update");
      expect(update.args.view_id).toBe(modal.id);
      expect(estimateIn(update.args.view)).toBe("USD 1,799.00");
      expect(
        elementsWith(update.args.view, UNSUB_INSTANCE.action)[0]?.initial_option,
      ).toMatchObject({ value: "kst-a" });
      // Choosing another instance shows that one's estimate instead.
      const current = s.fake.findView(UNSUB_VIEW) as JsonObject;
      const again = s.fake.calls.length;
      await s.click({
        actionId: UNSUB_INSTANCE.action,
        view: current,
        selectedOption: { value: "kst-b" },
        stateValues: unsubValues("kst-b", null),
      });
      const second = await nextCall(again, "views.update");
      expect(estimateIn(second.args.view)).toBe("USD 0.00");
      expect((second.args.view as JsonObject).submit).toMatchObject({ text: "File request" });
    });

    it("refuses an unknown or released instance, saying why, and opens nothing", async () => {
      await s.command("unsubscribe kst-nope");
      const unknown = await s.fake.waitForResponse((r) =>
        String(r.body.text).includes("Unknown instance"),
      );
      expect(unknown.body.response_type).toBe("ephemeral");
      await s.command("unsubscribe kst-gone");
      await s.fake.waitForResponse((r) => String(r.body.text).includes("has been released"));
      expect(s.fake.callsTo("views.open")).toHaveLength(0);
    });
  });

  describe("filing", () => {
    beforeEach(async () => {
      await fund(s.billing, FUNDS);
      await seedInstance(s.db, { id: "kst-a", name: "payments", expires_at: T0 + 10 * DAY_MS });
      await renew(s.billing, admin, { instanceId: "kst-a", months: 1 });
    });

    it("files TKT-0001, confirms it by DM and posts it to the support channel with Approve / Reject", async () => {
      const filed = await file("kst-a");
      const dm = String(filed.dm.args.text);
      expect(dm).toContain("TKT-0001");
      expect(dm).toContain("kst-a");
      expect(dm).toContain("estimated refund USD 1,799.00");
      expect(dm).toContain(REASON);
      expect(filed.post.args.channel).toBe(ALERT_CHANNEL);
      const blocks = filed.post.args.blocks;
      const text = shown(blocks);
      expect(text).toContain("*TKT-0001*");
      expect(text).toContain("unsubscribe kst-a");
      expect(text).toContain(`Requested by <@${MEMBER_ID}>`);
      expect(text).toContain(`*Reason:* ${REASON}`);
      expect(text).toContain("*Refund estimate: USD 1,799.00*");
      const [approveButton] = elementsWith(blocks, APPROVE_TICKET);
      const [rejectButton] = elementsWith(blocks, REJECT_TICKET);
      expect(approveButton).toMatchObject({ value: "1", style: "primary" });
      expect(rejectButton).toMatchObject({ value: "1", style: "danger" });
      // The requester's App Home lists it.
      const home = shown(filed.home.args.view);
      expect(home).toContain("*Open unsubscribe tickets (yours)* (1)");
      expect(home).toContain(`TKT-0001 · kst-a · <@${MEMBER_ID}> · estimate USD 1,799.00`);
      expect(await getTicket({ tx: s.db }, 1)).toMatchObject({
        status: "open",
        requester: MEMBER_ID,
        instance_id: "kst-a",
        reason: REASON,
        estimate_cents: INTL,
        support_channel: ALERT_CHANNEL,
        support_ts: filed.ts,
      });
    });

    it("requires a reason (and an instance), on their fields, and files nothing without", async () => {
      const view = await openModal("kst-a");
      for (const reason of [null, "", "   \n  "]) {
        const res = await s.submit({ view, values: unsubValues("kst-a", reason) });
        expect(res.json).toEqual({
          response_action: "errors",
          errors: { [UNSUB_REASON.block]: expect.any(String) },
        });
      }
      const none = await s.submit({ view, values: unsubValues(null, "x") });
      expect(none.json).toEqual({
        response_action: "errors",
        errors: { [UNSUB_INSTANCE.block]: expect.any(String) },
      });
      expect(await getTicket({ tx: s.db }, 1)).toBeUndefined();
      expect(s.fake.callsTo("chat.postMessage")).toHaveLength(0);
    });

    it("escapes a reason that tries to ping the channel, in the support post and in the DM", async () => {
      const filed = await file("kst-a", "<!channel> refund *now* <https://evil.example|click>");
      const post = JSON.stringify(filed.post.args);
      expect(post).not.toContain("<!channel>");
      expect(post).not.toContain("<https://evil");
      expect(shown(filed.post.args.blocks)).toContain("&lt;!channel&gt; refund");
      const dm = String(filed.dm.args.text);
      expect(dm).not.toContain("<!channel>");
      expect(dm).toContain("&lt;!channel&gt;");
    });

    it("refuses a second request for the instance on its field, naming the first ticket", async () => {
      await file("kst-a");
      const view = await openModal("kst-a", OTHER_ID);
      expect(shown(view)).toContain("TKT-0001 is already open for this instance");
      const mark = s.fake.calls.length;
      const res = await s.submit({
        view,
        values: unsubValues("kst-a", "me too"),
        userId: OTHER_ID,
      });
      expect(res.json).toEqual({
        response_action: "errors",
        errors: { [UNSUB_INSTANCE.block]: expect.stringContaining("TKT-0001") },
      });
      expect(await getTicket({ tx: s.db }, 2)).toBeUndefined();
      await new Promise((r) => setTimeout(r, 100));
      expect(s.fake.calls.slice(mark).filter((c) => c.method === "chat.postMessage")).toEqual([]);
    });

    it("files ONE ticket when the same view is submitted twice in a row", async () => {
      const view = await openModal("kst-a");
      const values = unsubValues("kst-a", REASON);
      // Each delivery is signed afresh and has its own trigger id (an identical copy would be
      // refused as a replay before reaching the ticket logic).
      const first = await s.submit({ view, values, triggerId: s.fake.newTriggerId() });
      const second = await s.submit({ view, values, triggerId: s.fake.newTriggerId() });
      expect(first.text).toBe("");
      expect(second.text).toBe("");
      await nextCall(0, "chat.postMessage", (c) => c.args.channel === MEMBER_ID);
      await new Promise((r) => setTimeout(r, 150));
      expect(await getTicket({ tx: s.db }, 2)).toBeUndefined();
      const posts = s.fake.callsTo("chat.postMessage");
      expect(posts.filter((c) => c.args.channel === ALERT_CHANNEL)).toHaveLength(1);
      expect(posts.filter((c) => c.args.channel === MEMBER_ID)).toHaveLength(1);
    });

    it("files ONE ticket when the same view is submitted twice at once, and closes the modal both times", async () => {
      const view = await openModal("kst-a");
      const values = unsubValues("kst-a", REASON);
      const [first, second] = await Promise.all([
        s.submit({ view, values, triggerId: s.fake.newTriggerId() }),
        s.submit({ view, values, triggerId: s.fake.newTriggerId() }),
      ]);
      await nextCall(0, "chat.postMessage", (c) => c.args.channel === MEMBER_ID);
      await new Promise((r) => setTimeout(r, 150));
      expect(await getTicket({ tx: s.db }, 2)).toBeUndefined();
      const posts = s.fake.callsTo("chat.postMessage");
      expect(posts.filter((c) => c.args.channel === ALERT_CHANNEL)).toHaveLength(1);
      // Both deliveries close the modal, as a replayed submission does.
      expect({ first: first.json ?? null, second: second.json ?? null }).toEqual({
        first: null,
        second: null,
      });
    });
  });

  describe("deciding", () => {
    let ts: string;
    let before: number;
    const expiry = T0 + 10 * DAY_MS;
    const renewedExpiry = expiry + 31 * DAY_MS;
    beforeEach(async () => {
      await fund(s.billing, FUNDS);
      await seedInstance(s.db, { id: "kst-a", name: "payments", expires_at: expiry });
      await renew(s.billing, admin, { instanceId: "kst-a", months: 1 });
      ts = (await file("kst-a")).ts;
      before = await balance(s.billing);
    });

    async function nothingChanged(): Promise<void> {
      expect((await getTicket({ tx: s.db }, 1))?.status).toBe("open");
      expect(await balance(s.billing)).toBe(before);
      expect(await refundLines()).toEqual([]);
      expect((await instanceView(s.billing, "kst-a")).instance.expires_at).toBe(renewedExpiry);
    }

    it("a member clicking Approve or Reject is refused ephemerally, naming the admins; nothing changes", async () => {
      const mark = s.fake.calls.length;
      const approveUrl = await clickOnSupport(APPROVE_TICKET, ts, MEMBER_ID);
      const refusal = await s.fake.waitForResponse((r) => r.url === approveUrl);
      expect(refusal.body).toMatchObject({ response_type: "ephemeral", replace_original: false });
      expect(String(refusal.body.text)).toContain(
        "Only a billing admin can approve unsubscribe tickets",
      );
      expect(String(refusal.body.text)).toContain(`<@${ADMIN}>`);
      const rejectUrl = await clickOnSupport(REJECT_TICKET, ts, MEMBER_ID);
      const rejected = await s.fake.waitForResponse((r) => r.url === rejectUrl);
      expect(rejected.body.response_type).toBe("ephemeral");
      expect(String(rejected.body.text)).toContain("Only a billing admin can reject");
      expect(String(rejected.body.text)).toContain(`<@${ADMIN}>`);
      await nothingChanged();
      const calls = s.fake.calls.slice(mark).map((c) => c.method);
      expect(calls).not.toContain("chat.update");
      expect(calls).not.toContain("views.open");
      expect(calls).not.toContain("chat.postMessage");
      expect(elementsWith(supportMessage(ts).blocks, APPROVE_TICKET)).toHaveLength(1);
    });

    it("approval updates the support message with the decision, who and how much, and DMs the requester", async () => {
      const { update, dm } = await approve(ts);
      const text = shown(update.args.blocks);
      expect(text).toContain(":white_check_mark: approved");
      expect(text).toContain(`Approved by <@${ADMIN}>`);
      expect(text).toContain("refunded *USD 1,799.00*");
      expect(String(update.args.text)).toContain("approved");
      const stored = supportMessage(ts);
      expect(elementsWith(stored.blocks, APPROVE_TICKET)).toEqual([]);
      expect(elementsWith(stored.blocks, REJECT_TICKET)).toEqual([]);
      expect(shown(stored.blocks)).toContain(`Approved by <@${ADMIN}>`);
      expect(String(dm.args.text)).toContain(`TKT-0001 was approved by <@${ADMIN}>`);
      expect(String(dm.args.text)).toContain("USD 1,799.00 refunded to the balance");
      expect(String(dm.args.text)).toContain(`(now ${formatUsd(before + INTL)})`);
      expect(await balance(s.billing)).toBe(before + INTL);
      expect((await instanceView(s.billing, "kst-a")).instance.expires_at).toBe(expiry);
    });

    it("recomputes at approval: a renewal bought after filing is refunded too, and shown", async () => {
      s.clock.advance(60_000);
      const late = await renew(s.billing, admin, { instanceId: "kst-a", months: 2 });
      const paid = await balance(s.billing);
      const { update, dm } = await approve(ts);
      expect(shown(update.args.blocks)).toContain("refunded *USD 5,397.00*");
      expect(String(dm.args.text)).toContain("USD 5,397.00 refunded");
      expect(await balance(s.billing)).toBe(paid + 3 * INTL);
      expect((await refundLines()).map(([id]) => id)).toContain(late.order.id);
      expect((await instanceView(s.billing, "kst-a")).instance.expires_at).toBe(expiry);
      expect(await getTicket({ tx: s.db }, 1)).toMatchObject({
        estimate_cents: INTL,
        refunded_cents: 3 * INTL,
      });
    });

    it("two admins approving at once: the refund happens once; the other is told it is already approved", async () => {
      await addAdmin(s.billing, admin, ADMIN2);
      const mark = s.fake.calls.length;
      const message = asClicked(supportMessage(ts));
      const [url1, url2] = await Promise.all([
        clickOnSupport(APPROVE_TICKET, ts, ADMIN, message),
        clickOnSupport(APPROVE_TICKET, ts, ADMIN2, message),
      ]);
      const told = await s.fake.waitForResponse((r) => r.url === url1 || r.url === url2);
      expect(String(told.body.text)).toContain("TKT-0001 is already approved");
      const dm = await nextCall(
        mark,
        "chat.postMessage",
        (c) => c.args.channel === MEMBER_ID && String(c.args.text).includes("approved"),
      );
      await nextCall(mark, "chat.update", (c) => c.args.ts === ts);
      await new Promise((r) => setTimeout(r, 200));
      expect(s.fake.responses.filter((r) => r.url === url1 || r.url === url2)).toHaveLength(1);
      const dms = s.fake.calls
        .slice(mark)
        .filter((c) => c.method === "chat.postMessage" && c.args.channel === MEMBER_ID);
      expect(dms).toEqual([dm]);
      expect(await balance(s.billing)).toBe(before + INTL);
      expect(await ledgerSum({ tx: s.db })).toBe(before + INTL);
      expect(await refundLines()).toHaveLength(1);
      expect((await listOrders({ tx: s.db }, "kst-a"))[0].refunded_cents).toBe(INTL);
    });

    it("reject asks for a reason in a modal, closes the ticket, updates the message and tells the requester", async () => {
      const mark = s.fake.calls.length;
      await clickOnSupport(REJECT_TICKET, ts);
      const open = await nextCall(mark, "views.open");
      const modal = open.response?.view as JsonObject;
      expect(modal.callback_id).toBe(REJECT_VIEW);
      expect(modal.private_metadata).toBe("1");
      expect(shown(modal)).toContain(`<@${MEMBER_ID}>`);

      const blank = await s.submit({ view: modal, values: rejectValues("  "), userId: ADMIN });
      expect(blank.json).toEqual({
        response_action: "errors",
        errors: { [REJECT_REASON.block]: expect.any(String) },
      });
      await nothingChanged();

      const submitted = s.fake.calls.length;
      const res = await s.submit({
        view: modal,
        values: rejectValues("<!here> the contract runs to *March*"),
        userId: ADMIN,
      });
      expect(res.text).toBe("");
      const update = await nextCall(submitted, "chat.update", (c) => c.args.ts === ts);
      const dm = await nextCall(submitted, "chat.postMessage", (c) => c.args.channel === MEMBER_ID);
      const text = shown(update.args.blocks);
      expect(text).toContain(":x: rejected");
      expect(text).toContain(`Rejected by <@${ADMIN}>`);
      expect(text).toContain("&lt;!here&gt; the contract runs to");
      expect(JSON.stringify(update.args)).not.toContain("<!here>");
      expect(elementsWith(update.args.blocks, APPROVE_TICKET)).toEqual([]);
      expect(String(dm.args.text)).toContain(
        `TKT-0001 (unsubscribe kst-a) was rejected by <@${ADMIN}>`,
      );
      expect(String(dm.args.text)).toContain("&lt;!here&gt; the contract runs to");
      expect(String(dm.args.text)).not.toContain("<!here>");
      expect(await getTicket({ tx: s.db }, 1)).toMatchObject({
        status: "rejected",
        decided_by: ADMIN,
        decision_note: "<!here> the contract runs to *March*",
      });
      expect(await balance(s.billing)).toBe(before);
      expect(await refundLines()).toEqual([]);
      // Approving the rejected ticket from the (stale) message is refused.
      const url = await clickOnSupport(APPROVE_TICKET, ts, ADMIN, asClickedOriginal());
      const refused = await s.fake.waitForResponse((r) => r.url === url);
      expect(String(refused.body.text)).toContain("TKT-0001 is already rejected");
      const rejectAgain = await clickOnSupport(REJECT_TICKET, ts, ADMIN, asClickedOriginal());
      const closed = await s.fake.waitForResponse((r) => r.url === rejectAgain);
      expect(String(closed.body.text)).toContain("TKT-0001 is already rejected");
      // Only the unsubscribe modal and the first reject modal were ever opened.
      expect(s.fake.callsTo("views.open")).toHaveLength(2);
      expect(await balance(s.billing)).toBe(before);
    });

    /** The support message as first posted, with its buttons (a client that has not refreshed). */
    function asClickedOriginal(): JsonObject {
      const post = s.fake
        .callsTo("chat.postMessage")
        .find((c) => c.args.channel === ALERT_CHANNEL && c.response?.ts === ts);
      return {
        type: "message",
        user: "U0KMSBOT",
        bot_id: "B0KMSBOT",
        text: post?.args.text,
        ts,
        blocks: post?.args.blocks,
      };
    }

    it("refuses forged reject forms: a closed ticket's id, an unknown id, garbage, or a member", async () => {
      await seedInstance(s.db, { id: "kst-b", expires_at: T0 + 20 * DAY_MS });
      const second = await file("kst-b");
      // TKT-0002 is withdrawn by its requester: closed.
      const withdrawUrl = s.fake.newResponseUrl();
      await s.click({
        actionId: WITHDRAW_TICKET,
        value: "2",
        userId: MEMBER_ID,
        responseUrl: withdrawUrl,
      });
      await s.fake.waitForResponse((r) => r.url === withdrawUrl);
      expect((await getTicket({ tx: s.db }, 2))?.status).toBe("withdrawn");

      const mark = s.fake.calls.length;
      await clickOnSupport(REJECT_TICKET, ts);
      const modal = (await nextCall(mark, "views.open")).response?.view as JsonObject;
      const submitAs = (privateMetadata: string, userId = ADMIN) =>
        s.submit({ view: modal, privateMetadata, values: rejectValues("no"), userId });
      const errorOf = (res: { json?: unknown }) => {
        const body = res.json as { response_action?: string; errors?: Record<string, string> };
        expect(body.response_action).toBe("errors");
        return String(body.errors?.[REJECT_REASON.block]);
      };
      const submitted = s.fake.calls.length;
      expect(errorOf(await submitAs("2"))).toContain("TKT-0002 is already withdrawn");
      expect(errorOf(await submitAs("999"))).toContain("Unknown ticket");
      expect(errorOf(await submitAs("1 OR 1=1"))).toContain("not one kms-bot made");
      expect(errorOf(await submitAs(""))).toContain("not one kms-bot made");
      expect(errorOf(await submitAs("1", MEMBER_ID))).toContain("Only a billing admin can reject");
      expect((await getTicket({ tx: s.db }, 2))?.status).toBe("withdrawn");
      expect((await getTicket({ tx: s.db }, 2))?.decision_note).toBeNull();
      await nothingChanged();
      await new Promise((r) => setTimeout(r, 100));
      const calls = s.fake.calls.slice(submitted).map((c) => c.method);
      expect(calls).not.toContain("chat.update");
      expect(calls).not.toContain("chat.postMessage");
      expect(shown(supportMessage(second.ts).blocks)).toContain("Withdrawn by");
    });
  });

  describe("withdrawing and listing", () => {
    beforeEach(async () => {
      await fund(s.billing, FUNDS);
      await seedInstance(s.db, { id: "kst-a", name: "payments", expires_at: T0 + 10 * DAY_MS });
      await seedInstance(s.db, { id: "kst-b", name: "archive", expires_at: T0 + 20 * DAY_MS });
      await renew(s.billing, admin, { instanceId: "kst-a", months: 1 });
    });

    it("the requester withdraws from /kms tickets; nobody else can; it can't be approved afterwards", async () => {
      const { ts } = await file("kst-a");
      const before = await balance(s.billing);
      const list = await s.command("tickets", MEMBER_ID);
      const [withdraw] = elementsWith(list.reply.blocks, WITHDRAW_TICKET);
      expect(withdraw?.value).toBe("1");

      const otherUrl = s.fake.newResponseUrl();
      await s.click({
        actionId: WITHDRAW_TICKET,
        message: replyMessage(list.reply),
        userId: OTHER_ID,
        responseUrl: otherUrl,
      });
      const refused = await s.fake.waitForResponse((r) => r.url === otherUrl);
      expect(refused.body.response_type).toBe("ephemeral");
      expect(String(refused.body.text)).toContain(
        `only <@${MEMBER_ID}>, who filed TKT-0001, can withdraw it`,
      );
      const adminUrl = s.fake.newResponseUrl();
      await s.click({
        actionId: WITHDRAW_TICKET,
        value: "1",
        userId: ADMIN,
        responseUrl: adminUrl,
      });
      await s.fake.waitForResponse((r) => r.url === adminUrl);
      expect((await getTicket({ tx: s.db }, 1))?.status).toBe("open");

      const mark = s.fake.calls.length;
      const url = s.fake.newResponseUrl();
      await s.click({
        actionId: WITHDRAW_TICKET,
        message: replyMessage(list.reply),
        userId: MEMBER_ID,
        responseUrl: url,
      });
      const done = await s.fake.waitForResponse((r) => r.url === url);
      expect(String(done.body.text)).toContain(
        "TKT-0001 is withdrawn; nothing was changed on kst-a.",
      );
      const update = await nextCall(mark, "chat.update", (c) => c.args.ts === ts);
      expect(shown(update.args.blocks)).toContain(`Withdrawn by <@${MEMBER_ID}>`);
      expect(elementsWith(update.args.blocks, APPROVE_TICKET)).toEqual([]);
      expect(await getTicket({ tx: s.db }, 1)).toMatchObject({
        status: "withdrawn",
        refunded_cents: null,
      });

      // An admin clicking Approve on a stale copy of the message: refused, nothing refunded.
      const stale = s.fake
        .callsTo("chat.postMessage")
        .find((c) => c.args.channel === ALERT_CHANNEL);
      const approveUrl = await clickOnSupport(APPROVE_TICKET, ts, ADMIN, {
        type: "message",
        user: "U0KMSBOT",
        bot_id: "B0KMSBOT",
        text: stale?.args.text,
        ts,
        blocks: stale?.args.blocks,
      });
      const closed = await s.fake.waitForResponse((r) => r.url === approveUrl);
      expect(String(closed.body.text)).toContain("TKT-0001 is already withdrawn");
      expect(await balance(s.billing)).toBe(before);
      expect(await refundLines()).toEqual([]);
      expect((await listOrders({ tx: s.db }, "kst-a"))[0].refunded_cents).toBe(0);
      expect((await instanceView(s.billing, "kst-a")).instance.expires_at).toBe(T0 + 41 * DAY_MS);
      expect((await getTicket({ tx: s.db }, 1))?.status).toBe("withdrawn");
      // The instance can be asked for again.
      await file("kst-a");
      expect((await getTicket({ tx: s.db }, 2))?.status).toBe("open");
    });

    it("/kms tickets: admins see every open ticket, members only their own", async () => {
      await file("kst-a", "a", MEMBER_ID);
      await file("kst-b", "b", OTHER_ID);
      const asAdmin = shown((await s.command("tickets", ADMIN)).reply);
      expect(asAdmin).toContain("*Open unsubscribe tickets* (2)");
      expect(asAdmin).toContain("*TKT-0001* · kst-a");
      expect(asAdmin).toContain("*TKT-0002* · kst-b");
      expect(asAdmin).toContain("estimate USD 1,799.00");
      const member = await s.command("tickets", MEMBER_ID);
      expect(shown(member.reply)).toContain("*Your open unsubscribe tickets* (1)");
      expect(shown(member.reply)).toContain("TKT-0001");
      expect(shown(member.reply)).not.toContain("TKT-0002");
      expect(elementsWith(member.reply.blocks, WITHDRAW_TICKET).map((b) => b.value)).toEqual(["1"]);
      const other = shown((await s.command("tickets", OTHER_ID)).reply);
      expect(other).toContain("TKT-0002");
      expect(other).not.toContain("TKT-0001");
      const nobody = shown((await s.command("tickets", "U0NOBODY1")).reply);
      expect(nobody).toContain("(0)");
      expect(nobody).not.toContain("TKT-");
      // A decided ticket leaves the lists.
      const ticket2 = await getTicket({ tx: s.db }, 2);
      await approve(String(ticket2?.support_ts), OTHER_ID);
      const later = shown((await s.command("tickets", ADMIN)).reply);
      expect(later).toContain("(1)");
      expect(later).not.toContain("TKT-0002");
    });
  });
});
