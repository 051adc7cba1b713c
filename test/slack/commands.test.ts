import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { balance, topup } from "../../src/billing/account.js";
import { cliActor, userActor } from "../../src/billing/context.js";
import { renew } from "../../src/billing/orders.js";
import { RENEW_INSTANCE, RENEW_VIEW } from "../../src/slack/features/renew/blocks.js";
import { EXPORT_BILLS, OPEN_RENEW } from "../../src/slack/kit/buttons.js";
import { matchCommand } from "../../src/slack/router.js";
import { getInstance } from "../../src/store/instances.js";
import { listOrders } from "../../src/store/orders.js";
import { elementsWith, MEMBER_ID, shown, startTestBot, type TestBot } from "../helpers/app.js";
import { ADMIN, DAY_MS, seedInstance, T0 } from "../helpers/billing.js";
import type { JsonObject } from "../helpers/fake-slack.js";
import { renewValues, shownPrice } from "../helpers/forms.js";
import { countRows, countsAndBalance } from "../helpers/rows.js";

const OTHER_MEMBER = "U0OTHER01";

/** The lines of a reply's text, one per shown line. */
function linesOf(payload: unknown): string[] {
  return shown(payload).split("\n");
}

/** `<!date^SECONDS^` for an instant, the start of Slack's date token. */
function dateToken(at: number): string {
  return `<!date^${Math.floor(at / 1000)}^`;
}

const count = (s: TestBot, table: string) => countRows(s.db, table);

/** Row counts of every table a command could write to. */
const snapshot = (s: TestBot) =>
  countsAndBalance(s.billing, ["instances", "orders", "ledger", "prices", "admins", "audit_log"]);

/** A message from the bot carrying `reply`'s blocks, as Slack sends it back on a click. */
function messageOf(reply: JsonObject): JsonObject {
  return {
    type: "message",
    user: "U0KMSBOT",
    bot_id: "B0KMSBOT",
    text: reply.text,
    ts: "1768046400.000100",
    blocks: reply.blocks,
  };
}

/**
 * Runs `/kms <text>`; after a command that refreshes App Home, also waits until that
 * views.publish has been answered, so nothing is still running when the test ends.
 */
async function cmd(text: string, userId: string = MEMBER_ID) {
  const seen = new Set(s.fake.callsTo("views.publish"));
  const res = await s.command(text, userId);
  // The commands marked `mutates` refresh the caller's App Home after them (even when refused).
  const matched = matchCommand(text);
  if (matched.kind === "reply" && matched.mutates) {
    await s.fake.waitFor(
      "views.publish",
      (c) => !seen.has(c) && c.args.user_id === userId && c.response !== undefined,
    );
  }
  return res;
}

let s: TestBot;
beforeEach(async () => {
  s = await startTestBot();
});
afterEach(async () => {
  s.fake.assertNoViolations();
  await s.close();
});

describe("/kms status", () => {
  beforeEach(async () => {
    await seedInstance(s.db, {
      id: "kst-a",
      name: "payments",
      expires_at: T0 + 10 * DAY_MS,
      auto_renew_months: 3,
      owner: MEMBER_ID,
      channel: "C0PAYMENTS",
    });
    await seedInstance(s.db, {
      id: "kst-b",
      name: "ledger",
      site: "china",
      expires_at: T0 + 200 * DAY_MS,
    });
    await seedInstance(s.db, { id: "kst-exp", name: "old-hsm", expires_at: T0 - 3 * DAY_MS });
    await seedInstance(s.db, {
      id: "kst-off",
      name: "paused",
      expires_at: T0 + 50 * DAY_MS,
      admin_disabled_at: T0 - DAY_MS,
    });
    await seedInstance(s.db, { id: "kst-gone", name: "history", expires_at: T0 - 20 * DAY_MS });
  });

  it("lists the fleet: id, name, site, state, date token, days left, auto-renew; released only counted", async () => {
    const res = await cmd("status");
    expect(res.status).toBe(200);
    expect(res.reply.response_type).toBe("ephemeral");
    const text = shown(res.reply);
    expect(text).toContain("*5 instance(s)*: 2 active, 2 disabled, 1 released");
    const lines = linesOf(res.reply);
    const line = (id: string) => {
      const found = lines.filter((l) => l.startsWith(`*${id}* `));
      expect(found, `one line for ${id}`).toHaveLength(1);
      return found[0];
    };
    const a = line("kst-a");
    expect(a).toContain("payments");
    expect(a).toContain("international");
    expect(a).toContain("active");
    expect(a).toContain(dateToken(T0 + 10 * DAY_MS));
    expect(a).toContain("10 days left");
    expect(a).toContain("auto-renew 3 months");
    const b = line("kst-b");
    expect(b).toContain("ledger");
    expect(b).toContain("china");
    expect(b).toContain(dateToken(T0 + 200 * DAY_MS));
    expect(b).toContain("200 days left");
    expect(b).toContain("auto-renew off");
    const exp = line("kst-exp");
    expect(exp).toContain("disabled (expired)");
    expect(exp).toContain("expired 3 days ago, released in 12 days");
    const off = line("kst-off");
    expect(off).toContain("disabled (by an admin)");
    expect(off).toContain("50 days left");
    // Soonest expiry first.
    const order = ["kst-exp", "kst-a", "kst-off", "kst-b"].map((id) => lines.indexOf(line(id)));
    expect(order).toEqual([...order].sort((x, y) => x - y));
    // Released: counted above, not listed anywhere.
    expect(JSON.stringify(res.reply)).not.toContain("kst-gone");
    expect(text).not.toContain("history");
  });

  it("escapes instance names so they can't mention, link or restyle", async () => {
    await seedInstance(s.db, { id: "kst-evil", name: "<!channel> <https://x.test|click>" });
    const res = await cmd("status");
    const raw = JSON.stringify(res.reply);
    expect(raw).not.toContain("<!channel>");
    expect(raw).not.toContain("<https://x.test");
    expect(shown(res.reply)).toContain("&lt;!channel&gt;");
  });

  it("says so when there are no instances", async () => {
    await s.db("instances").delete();
    const res = await cmd("status");
    expect(shown(res.reply)).toContain("No Dedicated KMS instances yet");
  });

  it("shows an expired instance in detail: days since expiry, release countdown, Renew button", async () => {
    const res = await cmd("status kst-exp");
    expect(res.reply.response_type).toBe("ephemeral");
    const text = shown(res.reply);
    expect(text).toContain("kst-exp");
    expect(text).toContain("old-hsm");
    expect(text).toContain("disabled (expired)");
    expect(text).toContain("expired 3 days ago, released in 12 days");
    expect(text).toContain(dateToken(T0 - 3 * DAY_MS));
    // Release: expiry + 15 days, 12 days from now.
    expect(text).toContain(`*Release*\n${dateToken(T0 + 12 * DAY_MS)}`);
    expect(text).toContain("Expired 3 day(s) ago and no longer provides service");
    expect(text).toContain("released in 12 day(s) unless renewed");
    const buttons = elementsWith(res.reply, OPEN_RENEW);
    expect(buttons).toHaveLength(1);
    expect(buttons[0]).toMatchObject({ type: "button", value: "kst-exp" });
  });

  it("shows an active instance in detail with owner, channel and auto-renew", async () => {
    const res = await cmd("status kst-a");
    const text = shown(res.reply);
    expect(text).toContain("active");
    expect(text).toContain("10 days left");
    expect(text).toContain(`*Owner*\n<@${MEMBER_ID}>`);
    expect(text).toContain("*Alert channel*\n<#C0PAYMENTS>");
    expect(text).toContain("*Auto-renew*\n3 months");
    expect(text).not.toContain("*Release*");
    expect(elementsWith(res.reply, OPEN_RENEW).map((b) => b.value)).toEqual(["kst-a"]);
  });

  it("shows a released instance without a Renew button", async () => {
    const res = await cmd("status kst-gone");
    const text = shown(res.reply);
    expect(text).toContain("kst-gone");
    expect(text).toContain("released");
    expect(elementsWith(res.reply, OPEN_RENEW)).toEqual([]);
  });

  it("says Unknown instance for an id it doesn't know", async () => {
    const res = await cmd("status kst-nope");
    expect(res.reply.response_type).toBe("ephemeral");
    expect(shown(res.reply)).toContain('Unknown instance "kst-nope"');
    expect(elementsWith(res.reply, OPEN_RENEW)).toEqual([]);
  });

  it("opens the renew modal for the instance when its Renew button is clicked", async () => {
    await topup(s.billing, cliActor, 500_000);
    const res = await cmd("status kst-exp");
    const click = await s.click({ actionId: OPEN_RENEW, message: messageOf(res.reply) });
    expect(click.status).toBe(200);
    const call = await s.fake.waitFor("views.open", (c) => c.response?.ok === true);
    const view = call.args.view as JsonObject;
    expect(view.callback_id).toBe(RENEW_VIEW);
    const select = elementsWith(view, RENEW_INSTANCE.action)[0];
    expect(select?.initial_option).toMatchObject({ value: "kst-exp" });
    expect(shown(view)).toContain("expired: the new period starts now");
    expect(JSON.stringify(view)).not.toContain("kst-gone");
  });

  it("refuses a forged Renew button value and opens nothing", async () => {
    const before = await snapshot(s);
    const click = await s.click({
      actionId: OPEN_RENEW,
      value: "'; drop table instances; --",
      responseUrl: s.fake.newResponseUrl(),
    });
    expect(click.status).toBe(200);
    const refusal = await s.fake.waitForResponse();
    expect(refusal.body.response_type).toBe("ephemeral");
    expect(refusal.body.replace_original).toBe(false);
    expect(String(refusal.body.text).length).toBeGreaterThan(0);
    expect(s.fake.callsTo("views.open")).toHaveLength(0);
    expect(await snapshot(s)).toEqual(before);
  });

  it("refuses the Renew button of an instance released since, saying why", async () => {
    const res = await cmd("status kst-exp");
    s.clock.set(T0 + 13 * DAY_MS);
    const responseUrl = s.fake.newResponseUrl();
    await s.click({ actionId: OPEN_RENEW, message: messageOf(res.reply), responseUrl });
    const refusal = await s.fake.waitForResponse((r) => r.url === responseUrl);
    expect(String(refusal.body.text)).toContain("has been released");
    expect(s.fake.callsTo("views.open")).toHaveLength(0);
  });
});

describe("/kms balance and /kms topup", () => {
  it("shows the balance", async () => {
    const empty = await cmd("balance");
    expect(empty.reply).toMatchObject({ response_type: "ephemeral", text: "Balance: USD 0.00" });
    await topup(s.billing, cliActor, 460_300);
    expect((await cmd("balance")).reply.text).toBe("Balance: USD 4,603.00");
  });

  it("recharges for an admin: ledger line, audit, reply, App Home republished", async () => {
    const res = await cmd("topup 1,000.50", ADMIN);
    expect(res.reply).toMatchObject({
      response_type: "ephemeral",
      text: "Recharged USD 1,000.50. Balance: USD 1,000.50",
    });
    const ledger = await s.db("ledger").select();
    expect(ledger).toHaveLength(1);
    expect(ledger[0]).toMatchObject({
      kind: "recharge",
      amount_cents: 100_050,
      balance_after_cents: 100_050,
      actor: ADMIN,
      order_id: null,
    });
    expect(await balance(s.billing)).toBe(100_050);
    const audits = await s.db("audit_log").where({ action: "account.topup" });
    expect(audits).toHaveLength(1);
    expect(audits[0].actor).toBe(ADMIN);
    const home = await s.fake.waitFor(
      "views.publish",
      (c) => c.args.user_id === ADMIN && c.response?.ok === true,
    );
    expect(shown(home.args.view)).toContain("USD 1,000.50");

    const again = await cmd("topup 99.5", ADMIN);
    expect(again.reply.text).toBe("Recharged USD 99.50. Balance: USD 1,100.00");
    expect(await balance(s.billing)).toBe(110_000);
    expect(await count(s, "ledger")).toBe(2);
  });

  it.each([
    ["1000", "USD 1,000.00"],
    ["USD 1,799", "USD 1,799.00"],
    ["$12.5", "USD 12.50"],
  ])("accepts the amount %s", async (amount, shownAs) => {
    const res = await cmd(`topup ${amount}`, ADMIN);
    expect(res.reply.text).toBe(`Recharged ${shownAs}. Balance: ${shownAs}`);
    expect(await count(s, "ledger")).toBe(1);
  });

  it("refuses a member, naming the admins, and writes nothing", async () => {
    const before = await snapshot(s);
    const res = await cmd("topup 1,000.50", MEMBER_ID);
    expect(res.reply.response_type).toBe("ephemeral");
    const text = shown(res.reply);
    expect(text).toContain("Only a billing admin can top up");
    expect(text).toContain(`<@${ADMIN}>`);
    expect(text).not.toContain("Recharged");
    expect(await snapshot(s)).toEqual(before);
    expect(await balance(s.billing)).toBe(0);
  });

  it.each([
    ["-5", "must be positive"],
    ["abc", '"abc" is not an amount'],
    ["1.234", "at most 2 decimals"],
    ["0", "more than zero"],
    ["1,00", "is not an amount"],
    ["20,000,000", "larger than USD 10,000,000.00"],
    ["1 000", "is not an amount"],
  ])("refuses the amount %s with a clear reason", async (amount, reason) => {
    const before = await snapshot(s);
    const res = await cmd(`topup ${amount}`, ADMIN);
    const text = shown(res.reply);
    expect(text).toContain("Invalid amount");
    expect(text).toContain(reason);
    expect(text).not.toContain("Recharged");
    expect(await snapshot(s)).toEqual(before);
  });

  it("asks for an amount when none is given", async () => {
    const res = await cmd("topup", ADMIN);
    expect(shown(res.reply)).toContain("needs an amount");
    expect(await count(s, "ledger")).toBe(0);
  });

  it("does not echo a mention typed as the amount", async () => {
    const res = await cmd("topup <!channel>", ADMIN);
    const text = shown(res.reply);
    expect(text).toContain("Invalid amount");
    expect(JSON.stringify(res.reply)).not.toContain("<!channel>");
    expect(await count(s, "ledger")).toBe(0);
  });
});

describe("/kms price", () => {
  it("lists the prices of both sites", async () => {
    const res = await cmd("price");
    expect(res.reply.response_type).toBe("ephemeral");
    const text = shown(res.reply);
    expect(text).toContain("International site: USD 1,799.00");
    expect(text).toContain("China site: USD 2,399.00");
  });

  it("lets an admin change a price; orders from then on use it, earlier ones keep theirs", async () => {
    await seedInstance(s.db, { id: "kst-cn", site: "china", expires_at: T0 + 10 * DAY_MS });
    await topup(s.billing, cliActor, 1_000_000);
    await renew(s.billing, userActor(ADMIN), { instanceId: "kst-cn", months: 1 });
    s.clock.advance(60_000);

    const res = await cmd("price set china 2,500", ADMIN);
    expect(res.reply.text).toBe(
      "The china price is now USD 2,500.00 per instance-month, for orders from now on.",
    );
    const rows = await s.db("prices").where({ site: "china" }).orderBy("id");
    expect(rows).toHaveLength(2);
    expect(rows[1]).toMatchObject({
      unit_cents: 250_000,
      effective_from: T0 + 60_000,
      created_by: ADMIN,
    });
    const listed = shown((await cmd("price")).reply);
    expect(listed).toContain("China site: USD 2,500.00");
    expect(listed).toContain("International site: USD 1,799.00");

    s.clock.advance(60_000);
    const submitted = await s.submit({
      callbackId: RENEW_VIEW,
      viewId: "V-PRICE-RENEW",
      userId: MEMBER_ID,
      values: renewValues("kst-cn", "2"),
      privateMetadata: shownPrice("kst-cn", 2, 250_000),
    });
    expect(submitted.text).toBe("");
    const orders = await listOrders({ tx: s.db }, "kst-cn");
    expect(orders.map((o) => [o.unit_cents, o.amount_cents])).toEqual([
      [239_900, 239_900],
      [250_000, 500_000],
    ]);
    expect(await balance(s.billing)).toBe(1_000_000 - 239_900 - 500_000);
    await s.fake.waitFor("views.publish", (c) => c.response?.ok === true);
  });

  it("refuses a member, naming the admins, and keeps the price", async () => {
    const before = await snapshot(s);
    const res = await cmd("price set china 2,500", MEMBER_ID);
    const text = shown(res.reply);
    expect(text).toContain("Only a billing admin can change prices");
    expect(text).toContain(`<@${ADMIN}>`);
    expect(await snapshot(s)).toEqual(before);
    expect(shown((await cmd("price")).reply)).toContain("China site: USD 2,399.00");
  });

  it("refuses an unknown site or a bad amount", async () => {
    const before = await snapshot(s);
    const mars = shown((await cmd("price set mars 100", ADMIN)).reply);
    expect(mars).toContain("Invalid site");
    expect(mars).toContain('"mars"');
    expect(mars).toContain("international or china");
    const negative = shown((await cmd("price set china -5", ADMIN)).reply);
    expect(negative).toContain("Invalid price");
    const missing = shown((await cmd("price set china", ADMIN)).reply);
    expect(missing).toContain("`/kms price set <international|china> <amount>`");
    expect(await snapshot(s)).toEqual(before);
  });
});

describe("/kms autorenew", () => {
  beforeEach(async () => {
    await seedInstance(s.db, { id: "kst-a", expires_at: T0 + 10 * DAY_MS, owner: MEMBER_ID });
    await seedInstance(s.db, { id: "kst-gone", expires_at: T0 - 20 * DAY_MS, owner: MEMBER_ID });
  });
  const autoRenew = async (id: string) => (await getInstance({ tx: s.db }, id))?.auto_renew_months;

  it("lets the owner turn it on, and status shows it", async () => {
    const res = await cmd("autorenew kst-a 3 months", MEMBER_ID);
    expect(res.reply).toMatchObject({
      response_type: "ephemeral",
      text: "kst-a will renew for 3 months 3 days before, 1 day before and at expiry if the balance covers it.",
    });
    expect(await autoRenew("kst-a")).toBe(3);
    const audits = await s.db("audit_log").where({ action: "instance.autorenew" });
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({ actor: MEMBER_ID, subject: "kst-a" });
    expect(shown((await cmd("status")).reply)).toContain("auto-renew 3 months");
  });

  it("lets an admin set it and turn it off", async () => {
    const on = await cmd("autorenew kst-a 1y", ADMIN);
    expect(on.reply.text).toContain("kst-a will renew for 1 year");
    expect(await autoRenew("kst-a")).toBe(12);
    const off = await cmd("autorenew kst-a off", ADMIN);
    expect(off.reply.text).toBe("Auto-renewal of kst-a is off.");
    expect(await autoRenew("kst-a")).toBeNull();
  });

  it("lets the owner turn it off", async () => {
    await cmd("autorenew kst-a 2", MEMBER_ID);
    expect(await autoRenew("kst-a")).toBe(2);
    const off = await cmd("autorenew kst-a OFF", MEMBER_ID);
    expect(off.reply.text).toBe("Auto-renewal of kst-a is off.");
    expect(await autoRenew("kst-a")).toBeNull();
  });

  it("refuses another member, naming the admins", async () => {
    const before = await snapshot(s);
    const res = await cmd("autorenew kst-a 3 months", OTHER_MEMBER);
    const text = shown(res.reply);
    expect(text).toContain("Only a billing admin or the instance's owner can change auto-renewal");
    expect(text).toContain(`<@${ADMIN}>`);
    expect(await autoRenew("kst-a")).toBeNull();
    expect(await snapshot(s)).toEqual(before);
  });

  it.each(["13 months", "0", "forever", "10m"])("refuses the period %s", async (period) => {
    const before = await snapshot(s);
    const res = await cmd(`autorenew kst-a ${period}`, ADMIN);
    const text = shown(res.reply);
    expect(text).toContain("Invalid period");
    expect(text).toContain("is not a subscription period");
    expect(await autoRenew("kst-a")).toBeNull();
    expect(await snapshot(s)).toEqual(before);
  });

  it("refuses an unknown or released instance, and a missing period", async () => {
    expect(shown((await cmd("autorenew kst-nope 3", ADMIN)).reply)).toContain(
      'Unknown instance "kst-nope"',
    );
    expect(shown((await cmd("autorenew kst-gone 3", ADMIN)).reply)).toContain("has been released");
    expect(shown((await cmd("autorenew kst-a", ADMIN)).reply)).toContain(
      "/kms autorenew <instance> <period>",
    );
    expect(await autoRenew("kst-gone")).toBeNull();
    expect(await count(s, "audit_log")).toBe(0);
  });
});

describe("/kms disable and /kms enable", () => {
  beforeEach(async () => {
    await seedInstance(s.db, { id: "kst-a", expires_at: T0 + 10 * DAY_MS });
  });
  const disabledAt = async () => (await getInstance({ tx: s.db }, "kst-a"))?.admin_disabled_at;

  it("lets an admin take an instance out of service and put it back", async () => {
    const off = await cmd("disable kst-a", ADMIN);
    expect(off.reply.response_type).toBe("ephemeral");
    expect(off.reply.text).toContain("kst-a is disabled and no longer provides service");
    expect(off.reply.text).toContain("`/kms enable kst-a`");
    expect(await disabledAt()).toBe(T0);
    expect(shown((await cmd("status kst-a")).reply)).toContain("disabled (by an admin)");
    const home = await s.fake.waitFor(
      "views.publish",
      (c) => c.args.user_id === ADMIN && c.response?.ok === true,
    );
    expect(shown(home.args.view)).toContain("disabled (by an admin)");

    const twice = await cmd("disable kst-a", ADMIN);
    expect(twice.reply.text).toContain("already disabled");

    const on = await cmd("enable kst-a", ADMIN);
    expect(on.reply.text).toBe("kst-a is active again.");
    expect(await disabledAt()).toBeNull();
    const actions = (await s.db("audit_log").orderBy("id")).map((r) => [r.action, r.actor]);
    expect(actions).toEqual([
      ["instance.disable", ADMIN],
      ["instance.enable", ADMIN],
    ]);
  });

  it("refuses a member either way", async () => {
    const before = await snapshot(s);
    const off = shown((await cmd("disable kst-a", MEMBER_ID)).reply);
    expect(off).toContain("Only a billing admin can disable instances");
    expect(off).toContain(`<@${ADMIN}>`);
    expect(await disabledAt()).toBeNull();

    await cmd("disable kst-a", ADMIN);
    const on = shown((await cmd("enable kst-a", MEMBER_ID)).reply);
    expect(on).toContain("Only a billing admin can enable instances");
    expect(await disabledAt()).toBe(T0);
    expect((await snapshot(s)).counts.audit_log).toBe(before.counts.audit_log + 1);
  });

  it("refuses to enable an instance that was not disabled, and unknown ids", async () => {
    expect(shown((await cmd("enable kst-a", ADMIN)).reply)).toContain(
      "was not disabled by an admin",
    );
    expect(shown((await cmd("disable kst-nope", ADMIN)).reply)).toContain(
      'Unknown instance "kst-nope"',
    );
    expect(await count(s, "audit_log")).toBe(0);
  });
});

describe("/kms admins", () => {
  const NEW = "U0NEW0001";

  it("lists the admins to anyone, telling an admin they are one", async () => {
    const member = await cmd("admins", MEMBER_ID);
    expect(member.reply).toMatchObject({
      response_type: "ephemeral",
      text: `Billing admins: <@${ADMIN}>.`,
    });
    const admin = await cmd("admins", ADMIN);
    expect(admin.reply.text).toBe(`Billing admins: <@${ADMIN}>. You are one.`);
  });

  it("lets an admin add and remove an admin mentioned the way Slack escapes it", async () => {
    const added = await cmd(`admins add <@${NEW}|newbie>`, ADMIN);
    expect(added.reply.text).toBe(`<@${NEW}> is now a billing admin.`);
    const rows = await s.db("admins").select();
    expect(rows).toEqual([{ user_id: NEW, added_by: ADMIN, added_at: T0 }]);
    expect((await cmd("admins", NEW)).reply.text).toBe(
      `Billing admins: <@${ADMIN}>, <@${NEW}>. You are one.`,
    );
    // The new admin can now do admin things.
    expect((await cmd("topup 10", NEW)).reply.text).toContain("Recharged USD 10.00");

    const again = await cmd(`admins add <@${NEW}>`, ADMIN);
    expect(again.reply.text).toBe(`<@${NEW}> already is a billing admin.`);
    expect(await count(s, "admins")).toBe(1);

    const removed = await cmd(`admins remove <@${NEW}|newbie>`, ADMIN);
    expect(removed.reply.text).toBe(`<@${NEW}> is no longer a billing admin.`);
    expect(await count(s, "admins")).toBe(0);
    expect((await cmd("admins", NEW)).reply.text).toBe(`Billing admins: <@${ADMIN}>.`);
    expect(shown((await cmd("topup 10", NEW)).reply)).toContain("Only a billing admin");
    expect(await balance(s.billing)).toBe(1_000);
    const actions = (await s.db("audit_log").orderBy("id")).map((r) => r.action);
    expect(actions).toEqual(["admin.add", "account.topup", "admin.remove"]);
  });

  it("refuses a member adding or removing admins", async () => {
    await cmd(`admins add <@${NEW}|newbie>`, ADMIN);
    const before = await snapshot(s);
    const add = shown((await cmd("admins add <@U0MEMBER1|member1>", MEMBER_ID)).reply);
    expect(add).toContain("Only a billing admin can add billing admins");
    expect(add).toContain(`<@${ADMIN}>`);
    const remove = shown((await cmd(`admins remove <@${NEW}|newbie>`, MEMBER_ID)).reply);
    expect(remove).toContain("Only a billing admin can remove billing admins");
    expect(await snapshot(s)).toEqual(before);
    expect((await s.db("admins").select("user_id")).map((r) => r.user_id)).toEqual([NEW]);
  });

  it("refuses removing an admin from KMS_ADMIN_USERS, and a non-user", async () => {
    const env = shown((await cmd(`admins remove <@${ADMIN}>`, ADMIN)).reply);
    expect(env).toContain("KMS_ADMIN_USERS");
    const notUser = shown((await cmd("admins add <#C0GENERAL|general>", ADMIN)).reply);
    expect(notUser).toContain("is not a user");
    expect(await count(s, "admins")).toBe(0);
  });
});

describe("/kms bills", () => {
  const HEADER =
    "billing_cycle,time,order_id,item,instance_id,site,period_start,period_end,months,unit_price_usd,amount_usd,balance_after_usd";
  const CSV_2026_01 = [
    HEADER,
    "2026-01,2026-01-10T12:00:00+00:00,,Recharge,,,,,,,5000.00,5000.00",
    "2026-01,2026-01-11T12:00:00+00:00,ORD-000001,Renewal,kst-a,international,2026-01-20T12:00:00+00:00,2026-02-20T12:00:00+00:00,1,1799.00,-1799.00,3201.00",
    "",
  ].join("\r\n");

  beforeEach(async () => {
    await seedInstance(s.db, { id: "kst-a", expires_at: T0 + 10 * DAY_MS });
    await topup(s.billing, cliActor, 500_000);
    s.clock.set(T0 + DAY_MS);
    await renew(s.billing, userActor(ADMIN), { instanceId: "kst-a", months: 1 });
    s.clock.set(Date.UTC(2026, 1, 3, 9, 0, 0));
    await topup(s.billing, cliActor, 10_000);
    s.clock.set(T0 + DAY_MS);
  });

  it("lists a month's lines with totals and an Export CSV button", async () => {
    const res = await cmd("bills 2026-01");
    expect(res.reply.response_type).toBe("ephemeral");
    const text = shown(res.reply);
    expect(text).toContain("Bills for 2026-01");
    expect(text).toContain("*2 line(s)* in billing cycle 2026-01 (UTC)");
    expect(text).toContain(
      "Charged USD 1,799.00 · refunded USD 0.00 · recharged USD 5,000.00 · net USD 3,201.00",
    );
    const lines = linesOf(res.reply);
    const recharge = lines.find((l) => l.includes("*Recharge*"));
    expect(recharge).toContain(dateToken(T0));
    expect(recharge).toContain("*USD 5,000.00*");
    expect(recharge).toContain("balance USD 5,000.00");
    const renewal = lines.find((l) => l.includes("*Renewal*"));
    expect(renewal).toContain("ORD-000001");
    expect(renewal).toContain("kst-a");
    expect(renewal).toContain("1 month");
    expect(renewal).toContain("*-USD 1,799.00*");
    expect(renewal).toContain("balance USD 3,201.00");
    // February's recharge is not in January's bill.
    expect(text).not.toContain("USD 100.00");
    const buttons = elementsWith(res.reply, EXPORT_BILLS);
    expect(buttons).toHaveLength(1);
    expect(buttons[0]).toMatchObject({ type: "button", value: "2026-01" });
  });

  it("defaults to the current month, and says when a month is empty", async () => {
    const current = await cmd("bills");
    expect(shown(current.reply)).toContain("Bills for 2026-01");
    expect(shown(current.reply)).toContain("*2 line(s)*");
    const empty = await cmd("bills 2026-03");
    expect(shown(empty.reply)).toContain("No money moved in this billing cycle.");
    expect(elementsWith(empty.reply, EXPORT_BILLS)).toEqual([]);
    const feb = await cmd("bills 2026-02");
    expect(shown(feb.reply)).toContain("*1 line(s)*");
    expect(shown(feb.reply)).toContain("recharged USD 100.00");
  });

  it("uploads the CSV to the clicker's DM when Export CSV is clicked", async () => {
    const res = await cmd("bills 2026-01");
    await s.click({
      actionId: EXPORT_BILLS,
      message: messageOf(res.reply),
      responseUrl: s.fake.newResponseUrl(),
    });
    const done = await s.fake.waitForResponse((r) => String(r.body.text).includes("Sent the CSV"));
    expect(done.body.response_type).toBe("ephemeral");
    expect(String(done.body.text)).toContain("Sent the CSV of 2026-01 (2 line(s))");
    const open = s.fake.callsTo("conversations.open");
    expect(open).toHaveLength(1);
    expect(open[0].args.users).toBe(MEMBER_ID);
    expect(s.fake.uploadedFiles).toHaveLength(1);
    const file = s.fake.uploadedFiles[0];
    expect((open[0].response?.channel as JsonObject | undefined)?.id).toBe("D0MEMBER1");
    expect(file.channelId).toBe("D0MEMBER1");
    expect(file.filename).toBe("kms-bills-2026-01.csv");
    expect(file.content.toString("utf8")).toBe(CSV_2026_01);
  });

  it("refuses a forged Export CSV month and uploads nothing", async () => {
    await s.click({
      actionId: EXPORT_BILLS,
      value: "2026-01; rm -rf /",
      responseUrl: s.fake.newResponseUrl(),
    });
    const refusal = await s.fake.waitForResponse();
    expect(refusal.body.response_type).toBe("ephemeral");
    expect(String(refusal.body.text)).not.toContain("Sent the CSV");
    expect(s.fake.uploadedFiles).toHaveLength(0);
  });

  it("/kms bills export uploads the CSV and answers through the response_url", async () => {
    const res = await cmd("bills export 2026-01", OTHER_MEMBER);
    expect(res.status).toBe(200);
    expect(res.reply).toMatchObject({ response_type: "ephemeral" });
    expect(shown(res.reply)).toContain("Preparing the CSV");
    const done = await s.fake.waitForResponse((r) => String(r.body.text).includes("Sent the CSV"));
    expect(done.body.response_type).toBe("ephemeral");
    expect(String(done.body.text)).toContain("Sent the CSV of 2026-01 (2 line(s))");
    expect(s.fake.callsTo("conversations.open")[0].args.users).toBe(OTHER_MEMBER);
    expect(s.fake.uploadedFiles).toHaveLength(1);
    expect(s.fake.uploadedFiles[0].channelId).toBe("D0OTHER01");
    expect(s.fake.uploadedFiles[0].content.toString("utf8")).toBe(CSV_2026_01);
  });

  it.each(["bills 2026-13", "bills January", "bills 2026-01 2026-02", "bills export 26-1"])(
    "refuses a bad month: /kms %s",
    async (text) => {
      const res = await cmd(text);
      expect(res.reply.response_type).toBe("ephemeral");
      expect(shown(res.reply)).toContain("takes an optional month such as 2026-11");
      expect(elementsWith(res.reply, EXPORT_BILLS)).toEqual([]);
      expect(s.fake.uploadedFiles).toHaveLength(0);
      expect(s.fake.callsTo("conversations.open")).toHaveLength(0);
    },
  );
});

describe("/kms bills in KMS_TIMEZONE", () => {
  let z: TestBot;
  beforeEach(async () => {
    z = await startTestBot({ env: { KMS_TIMEZONE: "Asia/Shanghai" } });
  });
  afterEach(async () => {
    z.fake.assertNoViolations();
    await z.close();
  });

  it("puts a line in the billing cycle of the zone, and the CSV shows the zone's offset", async () => {
    // 20:00 UTC on 31 January is 04:00 on 1 February in Shanghai.
    const at = Date.UTC(2026, 0, 31, 20, 0, 0);
    z.clock.set(at);
    await topup(z.billing, cliActor, 12_345);
    const jan = shown((await z.command("bills 2026-01")).reply);
    expect(jan).toContain("*0 line(s)* in billing cycle 2026-01 (Asia/Shanghai)");
    const feb = await z.command("bills 2026-02");
    expect(shown(feb.reply)).toContain("*1 line(s)* in billing cycle 2026-02 (Asia/Shanghai)");
    expect(shown(feb.reply)).toContain(dateToken(at));
    // Without a month: the zone's current month.
    expect(shown((await z.command("bills")).reply)).toContain("Bills for 2026-02");

    await z.command("bills export", MEMBER_ID);
    await z.fake.waitForResponse((r) => String(r.body.text).includes("Sent the CSV of 2026-02"));
    expect(z.fake.uploadedFiles[0].content.toString("utf8")).toBe(
      [
        "billing_cycle,time,order_id,item,instance_id,site,period_start,period_end,months,unit_price_usd,amount_usd,balance_after_usd",
        "2026-02,2026-02-01T04:00:00+08:00,,Recharge,,,,,,,123.45,123.45",
        "",
      ].join("\r\n"),
    );
  });
});

describe("/kms help and unknown text", () => {
  const USAGE = [
    "/kms status",
    "/kms renew",
    "/kms buy",
    "/kms balance",
    "/kms topup",
    "/kms bills",
    "/kms price",
    "/kms autorenew",
    "/kms disable",
    "/kms admins",
  ];

  it.each(["help", "", "   ", "HELP"])("gives usage for %j", async (text) => {
    const res = await cmd(text);
    expect(res.status).toBe(200);
    expect(res.reply.response_type).toBe("ephemeral");
    const shownText = shown(res.reply);
    expect(shownText).toContain("*kms-bot*");
    for (const usage of USAGE) expect(shownText).toContain(usage);
    expect(shownText).not.toContain("I don't know");
  });

  it("gives usage with the reason for unknown text", async () => {
    const res = await cmd("frobnicate");
    const text = shown(res.reply);
    expect(text).toContain('I don\'t know "frobnicate"');
    for (const usage of USAGE) expect(text).toContain(usage);
  });

  it("echoes what was typed escaped, never as a mention", async () => {
    const res = await cmd("<!channel> frobnicate");
    const raw = JSON.stringify(res.reply);
    expect(raw).not.toContain("<!channel>");
    expect(shown(res.reply)).toContain('I don\'t know "&lt;!channel&gt;"');
    const status = await cmd("status <!here>");
    expect(JSON.stringify(status.reply)).not.toContain("<!here>");
    expect(shown(status.reply)).toContain("&lt;!here&gt;");
    const admins = await cmd("admins add <!everyone>", ADMIN);
    expect(JSON.stringify(admins.reply)).not.toContain("<!everyone>");
    expect(shown(admins.reply)).toContain("is not a user");
    expect(await count(s, "admins")).toBe(0);
  });
});
