// KMS_PROVIDER=alibaba end to end: the real Bolt app over HTTP, the fake Slack Web API and the
// fake BSS OpenAPI (the official SDK talking to it). What a newcomer does in Slack reads and
// renews the account itself.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { balance } from "../../src/billing/account.js";
import { RENEW_PERIOD, RENEW_VIEW } from "../../src/slack/features/renew/blocks.js";
import { APPROVE_TICKET, MARK_REFUNDED } from "../../src/slack/features/tickets/blocks.js";
import {
  UNSUB_INSTANCE,
  UNSUB_REASON,
  UNSUB_VIEW,
} from "../../src/slack/features/unsubscribe/blocks.js";
import { getInstance } from "../../src/store/instances.js";
import { ledgerSum } from "../../src/store/ledger.js";
import { listOrders, listOrdersByStatus } from "../../src/store/orders.js";
import { getTicket } from "../../src/store/tickets.js";
import { accountFleet, alibabaEnv } from "../helpers/alibaba.js";
import { ALERT_CHANNEL, MEMBER_ID, shown, startTestBot, type TestBot } from "../helpers/app.js";
import { ADMIN, DAY_MS, T0 } from "../helpers/billing.js";
import { DATABASES } from "../helpers/databases.js";
import { type FakeBss, startFakeBss } from "../helpers/fake-bss.js";
import { renewValues, shownPrice } from "../helpers/forms.js";

/** The account's own price, unlike the bot's catalogue (USD 1,799.00), so its source shows. */
const ACCOUNT_MONTHLY = 150_000;
const ID = "kst-0000";

/** `view.state.values` of the unsubscribe modal as Slack sends them. */
function unsubValues(instanceId: string, reason: string) {
  return {
    [UNSUB_INSTANCE.block]: {
      [UNSUB_INSTANCE.action]: { type: "static_select", selected_option: { value: instanceId } },
    },
    [UNSUB_REASON.block]: { [UNSUB_REASON.action]: { type: "plain_text_input", value: reason } },
  };
}

describe.each(DATABASES)("Alibaba Cloud mode in Slack (%s)", (db) => {
  let s: TestBot;
  let fake: FakeBss;
  let now = () => T0;

  const start = async (balanceCents = 1_000_000) => {
    fake = await startFakeBss({
      instances: accountFleet(2, T0),
      balanceCents,
      monthlyCents: ACCOUNT_MONTHLY,
      now: () => now(),
    });
    s = await startTestBot({ db, env: alibabaEnv(fake) });
    now = () => s.clock();
  };
  afterEach(async () => {
    s.fake.assertNoViolations();
    await s.close();
    await fake.close();
  });

  /** `/kms renew <id>` as the member: the modal it opened. */
  const openRenew = async (id = ID) => {
    await s.command(`renew ${id}`, MEMBER_ID);
    await s.fake.waitFor("views.open", (c) => c.response?.ok === true);
    const view = s.fake.findView(RENEW_VIEW);
    if (!view) throw new Error("no renew modal");
    return view;
  };
  /** Buy Now on that modal, as Slack sends it (its price in private_metadata). */
  const buyNow = async (view: Record<string, unknown>, months = "1") => {
    const res = await s.submit({ view, callbackId: RENEW_VIEW, values: renewValues(ID, months) });
    return res.json as { response_action?: string; errors?: Record<string, string> } | undefined;
  };
  const apiRenewals = () => fake.state.orders.filter((o) => o.via === "api");
  const dmsTo = (user: string) =>
    s.fake
      .callsTo("chat.postMessage")
      .filter((c) => c.args.channel === user)
      .map((c) => String(c.args.text));

  describe("with a funded account", () => {
    beforeEach(() => start());

    it("shows the account's fleet with no import, and its balance", async () => {
      const status = await s.command("status");
      expect(shown(status.reply)).toContain(ID);
      expect(shown(status.reply)).toContain("kst-0001");
      const bal = await s.command("balance");
      expect(shown(bal.reply)).toContain("USD 10,000.00");
      expect(fake.callsOf("QueryAccountBalance").length).toBeGreaterThan(0);
      const health = await (await fetch(`${s.url}/healthz`)).json();
      expect(health).toHaveProperty("alibaba");
    });

    it("prices the modal with GetSubscriptionPrice, renews once with a ClientToken, and a double submit changes nothing", async () => {
      const view = await openRenew();
      expect(shown(view)).toContain(
        "USD 1,500.00 x 1 month = *USD 1,500.00* (quoted by Alibaba Cloud)",
      );
      const quote = fake.callsOf("GetSubscriptionPrice").at(-1);
      expect(quote?.params).toMatchObject({ OrderType: "Renewal", InstanceId: ID });
      const first = await buyNow(view);
      expect(first?.response_action).toBeUndefined();
      const second = await buyNow(view);
      expect(second?.response_action).toBeUndefined();
      expect(apiRenewals()).toHaveLength(1);
      const calls = fake.callsOf("RenewInstance");
      expect(calls).toHaveLength(1);
      expect(calls[0].params.ClientToken).toMatch(/^[\x20-\x7e]{1,64}$/);
      const [paid] = await listOrdersByStatus({ tx: s.db }, "paid");
      expect(paid).toMatchObject({
        account_order_id: apiRenewals()[0].OrderId,
        amount_cents: ACCOUNT_MONTHLY,
      });
      await s.fake.waitFor("chat.postMessage", (c) => c.args.channel === MEMBER_ID);
      expect(dmsTo(MEMBER_ID).join("\n")).toContain(`Renewed ${ID}`);
      // The account's bill line, tied to the bot's order.
      const bills = await s.command("bills 2026-01", ADMIN);
      expect(shown(bills.reply)).toContain(apiRenewals()[0].OrderId);
    });

    it("a 5xx after the account renewed leaves the order submitted; the sweep retries it once and DMs the outcome", async () => {
      const view = await openRenew();
      fake.failNext("RenewInstance", { kind: "status", status: 503, apply: true });
      const res = await buyNow(view);
      expect(res?.response_action).toBe("errors");
      const errors = res?.errors ?? {};
      expect(errors[RENEW_PERIOD.block]).toContain("stays submitted");
      expect(await listOrdersByStatus({ tx: s.db }, "submitted")).toHaveLength(1);
      const summary = await s.bot.sweep();
      expect(summary.actions.join("\n")).toContain("paid");
      expect(apiRenewals()).toHaveLength(1);
      const tokens = new Set(fake.callsOf("RenewInstance").map((c) => c.params.ClientToken));
      expect(fake.callsOf("RenewInstance")).toHaveLength(2);
      expect(tokens.size).toBe(1);
      expect(await listOrdersByStatus({ tx: s.db }, "paid")).toHaveLength(1);
      expect(dmsTo(MEMBER_ID).join("\n")).toContain(`Renewed ${ID}`);
      // Nothing left to retry: the next sweep sends nothing.
      await s.bot.sweep();
      expect(fake.callsOf("RenewInstance")).toHaveLength(2);
    });

    it("picks up a renewal made in the console at the next sweep: no warning of the old period", async () => {
      const early = await s.bot.sweep();
      expect(early.actions.join("\n")).toContain(`for ${ID}`);
      fake.renewInConsole(ID, 3);
      s.clock.set(T0 + 8 * DAY_MS);
      const later = await s.bot.sweep();
      const posted = later.actions.filter((a) => a.startsWith("posted"));
      expect(posted.join("\n")).toContain("kst-0001");
      expect(posted.join("\n")).not.toContain(ID);
      const status = await s.command(`status ${ID}`);
      expect(shown(status.reply)).toContain("2026-04");
    });

    it("charges no auto-renewal itself: the account renews by itself", async () => {
      Object.assign(fake.state.instances.get("kst-0001") ?? {}, {
        RenewStatus: "AutoRenewal",
        RenewalDuration: 1,
        RenewalDurationUnit: "M",
      });
      await s.command("sync", ADMIN);
      // kst-0001 expires at T0 + 11 days: its 3-day auto-renewal slot is due.
      s.clock.set(T0 + 9 * DAY_MS);
      const summary = await s.bot.sweep();
      expect(summary.actions.filter((a) => a.includes("auto-renew"))).toEqual([]);
      expect(fake.callsOf("RenewInstance")).toHaveLength(0);
      expect(await listOrdersByStatus({ tx: s.db }, "paid")).toHaveLength(0);
    });

    it("refuses /kms topup and /kms buy: recharges happen in the console, nothing changes", async () => {
      const topup = await s.command("topup 5,000", ADMIN);
      expect(shown(topup.reply)).toContain("Expenses and Costs");
      expect(await balance(s.billing)).toBe(0);
      const buy = await s.command("buy", ADMIN);
      expect(shown(buy.reply)).toContain("KMS_PROVIDER=alibaba");
      expect(s.fake.callsTo("views.open")).toHaveLength(0);
    });

    it("/kms sync (admins) shows what changed; /kms assign names an instance, kept across syncs", async () => {
      const refused = await s.command("sync", MEMBER_ID);
      expect(shown(refused.reply)).toContain("Only a billing admin");
      fake.state.instances.set("kst-new", {
        InstanceID: "kst-new",
        endTime: T0 + 40 * DAY_MS,
        RenewStatus: "ManualRenewal",
      });
      const sync = await s.command("sync", ADMIN);
      expect(shown(sync.reply)).toContain("1 added");
      expect(shown(sync.reply)).toContain("kst-new");
      const assign = await s.command(
        `assign ${ID} <#C0TEAM001|team> <@UOWNER001|ann> Payments HSM`,
        ADMIN,
      );
      expect(shown(assign.reply)).toContain("Payments HSM");
      expect(shown(assign.reply)).toContain("<#C0TEAM001>");
      await s.command("sync", ADMIN);
      const status = await s.command(`status ${ID}`);
      expect(shown(status.reply)).toContain("Payments HSM");
      const bad = await s.command(`assign ${ID} team ann`, ADMIN);
      expect(shown(bad.reply)).toContain("is not a channel");
    });
  });

  describe("unsubscribing", () => {
    beforeEach(() => start());

    /** Clicks `actionId` on the ticket's post in the support channel, as `userId`. */
    const clickPost = (
      actionId: string,
      userId: string,
      post: { args: Record<string, unknown>; response?: Record<string, unknown> },
    ) =>
      s.click({
        actionId,
        channelId: ALERT_CHANNEL,
        userId,
        message: {
          type: "message",
          user: "U0KMSBOT",
          bot_id: "B0KMSBOT",
          text: post.args.text,
          ts: post.response?.ts,
          blocks: post.args.blocks,
        },
      });

    it("shows the refund as an estimate; approval changes nothing locally and tells the admin what to submit; an admin marks it refunded once", async () => {
      // The modal showed the account's price for 3 months (after the period was changed).
      const view3 = {
        ...(await openRenew()),
        private_metadata: shownPrice(ID, 3, ACCOUNT_MONTHLY),
      };
      expect((await buyNow(view3, "3"))?.response_action).toBeUndefined();
      await s.fake.waitFor("chat.postMessage", (c) => c.args.channel === MEMBER_ID);
      await s.command(`unsubscribe ${ID}`, MEMBER_ID);
      const opened = await s.fake.waitFor(
        "views.open",
        (c) => (c.args.view as { callback_id?: string }).callback_id === UNSUB_VIEW,
      );
      const view = opened.response?.view as Record<string, unknown>;
      expect(shown(view)).toContain("An estimate from the account's data");
      await s.submit({ view, values: unsubValues(ID, "Moving region"), userId: MEMBER_ID });
      const post = await s.fake.waitFor(
        "chat.postMessage",
        (c) => c.args.channel === ALERT_CHANNEL && c.response?.ok === true,
      );
      const ledgerBefore = await ledgerSum({ tx: s.db });
      const instanceBefore = await getInstance({ tx: s.db }, ID);
      await clickPost(APPROVE_TICKET, ADMIN, post);
      const told = await s.fake.waitFor(
        "chat.postMessage",
        (c) => c.args.channel === ADMIN && String(c.args.text).includes("Submit"),
      );
      const words = String(told.args.text);
      expect(words).toContain(`*Instance:* ${ID}`);
      expect(words).toContain("ORD-");
      expect(words).toContain("Alibaba Cloud OrderId");
      expect(words).toContain("USD 4,500.00");
      const requester = await s.fake.waitFor(
        "chat.postMessage",
        (c) => c.args.channel === MEMBER_ID && String(c.args.text).includes("approved"),
      );
      expect(String(requester.args.text)).toContain("Alibaba Cloud decides the refund");
      // Nothing changed locally: no refund in the ledger, the instance as the account has it.
      expect(await ledgerSum({ tx: s.db })).toBe(ledgerBefore);
      expect(await s.db("ledger").where({ kind: "refund" })).toHaveLength(0);
      expect((await listOrders({ tx: s.db }, ID)).every((o) => o.refunded_cents === 0)).toBe(true);
      expect(await getInstance({ tx: s.db }, ID)).toEqual(instanceBefore);
      const ts = post.response?.ts;
      const approved = await s.fake.waitFor("chat.update", (c) => c.args.ts === ts);
      expect(shown(approved.args)).toContain("Approved: submit the refund to Alibaba Cloud");
      expect(JSON.stringify(approved.args.blocks)).toContain(`"action_id":"${MARK_REFUNDED}"`);
      const ticketId = Number(String(post.args.text).match(/TKT-(\d+)/)?.[1]);
      const ticket = await getTicket({ tx: s.db }, ticketId);
      expect(ticket).toMatchObject({ status: "approved", decided_by: ADMIN, refunded_cents: null });
      expect(ticket?.estimate_cents).toBe(450_000);

      // A member can't mark it refunded.
      await clickPost(MARK_REFUNDED, MEMBER_ID, approved);
      const refusal = await s.fake.waitForResponse((r) => String(r.body.text).includes("Only"));
      expect(String(refusal.body.text)).toContain("mark unsubscribe tickets refunded");
      expect((await getTicket({ tx: s.db }, ticketId))?.refunded_cents).toBeNull();

      // An admin's double click marks it once and tells the requester once.
      await clickPost(MARK_REFUNDED, ADMIN, approved);
      await clickPost(MARK_REFUNDED, ADMIN, approved);
      await s.fake.waitForResponse((r) => String(r.body.text).includes("is marked refunded"));
      await s.fake.waitForResponse((r) => String(r.body.text).includes("already marked refunded"));
      expect((await getTicket({ tx: s.db }, ticketId))?.refunded_cents).toBe(450_000);
      expect(dmsTo(MEMBER_ID).filter((t) => t.includes("Alibaba Cloud refunded"))).toEqual([
        expect.stringContaining("USD 4,500.00"),
      ]);
      const marked = s.fake
        .callsTo("chat.update")
        .filter(
          (c) =>
            c.args.ts === ts && shown(c.args).includes("refunded *USD 4,500.00* by Alibaba Cloud"),
        );
      expect(marked).toHaveLength(1);
      expect(await s.db("ledger").where({ kind: "refund" })).toHaveLength(0);
    });
  });

  describe("with an account short of money", () => {
    beforeEach(() => start(100_000));

    it("says so in the modal and on the period field, and records nothing as paid", async () => {
      const view = await openRenew();
      expect(shown(view)).toContain("Recharge in the console");
      const res = await buyNow(view);
      const errors = res?.errors ?? {};
      expect(errors[RENEW_PERIOD.block]).toContain("Insufficient balance");
      expect(errors[RENEW_PERIOD.block]).toContain("Alibaba Cloud console");
      expect(await listOrdersByStatus({ tx: s.db }, "paid")).toHaveLength(0);
      expect(apiRenewals()).toHaveLength(0);
    });
  });
});
