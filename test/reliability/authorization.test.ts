// Who may do what, over the real app: every /kms subcommand, every button and every modal
// submission, run in full as each role (billing admin, member, instance owner, a user of another
// workspace), with what the person is told and what the database did, or did not, record.
// Then crafted payloads: admin callbacks submitted by members, forged button values, edited
// private_metadata and workspace claims; all refused, nothing changed.

import { afterEach, describe, expect, it } from "vitest";
import { addAdmin } from "../../src/billing/admins.js";
import { userActor } from "../../src/billing/context.js";
import { formatUsd } from "../../src/billing/money.js";
import { renew } from "../../src/billing/orders.js";
import { fileTicket, withdrawTicket } from "../../src/billing/tickets.js";
import {
  BUY_CHANNEL,
  BUY_NAME,
  BUY_OWNER,
  BUY_PERIOD,
  BUY_SITE,
  BUY_VIEW,
} from "../../src/slack/features/buy/blocks.js";
import { FAQ_FIELDS, FAQ_VIEW } from "../../src/slack/features/faq/blocks.js";
import { RENEW_INSTANCE, RENEW_PERIOD, RENEW_VIEW } from "../../src/slack/features/renew/blocks.js";
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
import { SNOOZE, WONT_RENEW } from "../../src/slack/features/warnings/blocks.js";
import {
  ANY_INSTANCE,
  EXPORT_BILLS,
  OPEN_RENEW,
  OPEN_UNSUBSCRIBE,
} from "../../src/slack/kit/buttons.js";
import { TERMS } from "../../src/slack/kit/form.js";
import { getBalance } from "../../src/store/ledger.js";
import { MEMBER_ID, shown, startTestBot, type TestBot } from "../helpers/app.js";
import { ADMIN, DAY_MS, fund, seedInstance, T0 } from "../helpers/billing.js";
import type { JsonObject, RecordedCall } from "../helpers/fake-slack.js";
import { renewValues } from "../helpers/forms.js";
import { changedTables as changedTablesOf, tablesSnapshot } from "../helpers/rows.js";
import {
  type AppResponse,
  blockAction,
  type SlackRequest,
  slashCommand,
} from "../helpers/slack-requests.js";

const FORM = "application/x-www-form-urlencoded";
const OWN_TEAM = "T0TEST";
const FOREIGN_TEAM = "T0OTHERWS";
const OWNER = "U0OWNER1";
const OTHER = "U0OTHER01";
const ADMIN2 = "UADMIN002";
const NEW_ADMIN = "U0NEWADM1";
const HOUR = 3_600_000;
const NO_SLEEP = { sleep: async () => {} };

type Role = "admin" | "member" | "owner" | "foreign";

/**
 * The foreign user carries the billing admin's own user id: only the workspace check can refuse
 * them, so a guard that trusted the user id alone would show up here.
 */
const ACTORS: Record<Role, { userId: string; teamId: string }> = {
  admin: { userId: ADMIN, teamId: OWN_TEAM },
  member: { userId: MEMBER_ID, teamId: OWN_TEAM },
  owner: { userId: OWNER, teamId: OWN_TEAM },
  foreign: { userId: ADMIN, teamId: FOREIGN_TEAM },
};

/** Everything an action could write. (seen_requests and processed_events are bookkeeping.) */
const TABLES = [
  "accounts",
  "ledger",
  "orders",
  "instances",
  "tickets",
  "faq_entries",
  "audit_log",
  "prices",
  "admins",
  "warnings",
] as const;
type Table = (typeof TABLES)[number];
type Snapshot = Record<Table, string[]>;

const snapshot = (s: TestBot): Promise<Snapshot> => tablesSnapshot(s.db, TABLES);
const changedTables = (before: Snapshot, after: Snapshot): Table[] =>
  changedTablesOf(TABLES, before, after);

/** The ids a world was built with. */
interface World {
  /** Open, filed by the member on kst-b (which has a pending renewal to refund). */
  memberTicket: number;
  /** Open, filed by someone else on kst-d. */
  otherTicket: number;
  /** Withdrawn, on kst-c. */
  closedTicket: number;
  /** The 14-day warnings posted for kst-a (owner OWNER) and kst-e (owner OTHER). */
  warningA: number;
  warningE: number;
  faqId: number;
  balanceCents: number;
}

/**
 * A fresh bot and database: kst-a (owned by OWNER, auto-renewing, 14-day warning posted),
 * kst-b (pending renewal, open ticket by the member), kst-c, kst-d (disabled by an admin,
 * open ticket by OTHER), kst-e (owned by OTHER, warning posted), kst-r (released); a second
 * admin added in Slack; USD 100,000 recharged.
 */
async function buildWorld(): Promise<{ s: TestBot; w: World }> {
  const s = await startTestBot();
  const soon = T0 + 13 * DAY_MS + 12 * HOUR;
  await seedInstance(s.db, {
    id: "kst-a",
    owner: OWNER,
    channel: "C0TEAM",
    expires_at: soon,
    auto_renew_months: 1,
  });
  await seedInstance(s.db, { id: "kst-b", expires_at: T0 + 40 * DAY_MS });
  await seedInstance(s.db, { id: "kst-c", expires_at: T0 + 60 * DAY_MS });
  await seedInstance(s.db, {
    id: "kst-d",
    expires_at: T0 + 60 * DAY_MS,
    admin_disabled_at: T0 - DAY_MS,
  });
  await seedInstance(s.db, { id: "kst-e", owner: OTHER, channel: "C0TEAM", expires_at: soon });
  await seedInstance(s.db, { id: "kst-r", expires_at: T0 - 20 * DAY_MS });
  const admin = userActor(ADMIN);
  await fund(s.billing, 10_000_000);
  await addAdmin(s.billing, admin, ADMIN2);
  await renew(s.billing, admin, { instanceId: "kst-b", months: 1 });
  const asUser = (userId: string) => ({ type: "user" as const, userId });
  const t1 = await fileTicket(s.billing, asUser(MEMBER_ID), {
    instanceId: "kst-b",
    reason: "Moving to another region",
  });
  const t2 = await fileTicket(s.billing, asUser(OTHER), {
    instanceId: "kst-d",
    reason: "Not needed",
  });
  const t3 = await fileTicket(s.billing, asUser(OTHER), {
    instanceId: "kst-c",
    reason: "Changed my mind later",
  });
  await withdrawTicket(s.billing, asUser(OTHER), t3.ticket.id);
  await s.bot.sweep(NO_SLEEP);
  const warning = async (instanceId: string): Promise<number> => {
    const row = await s
      .db("warnings")
      .where({ instance_id: instanceId, kind: "pre_expiry" })
      .whereNotNull("message_ts")
      .first("id");
    if (!row) throw new Error(`no posted warning for ${instanceId}`);
    return Number(row.id);
  };
  const faq = await s.db("faq_entries").orderBy("id").first("id");
  return {
    s,
    w: {
      memberTicket: t1.ticket.id,
      otherTicket: t2.ticket.id,
      closedTicket: t3.ticket.id,
      warningA: await warning("kst-a"),
      warningE: await warning("kst-e"),
      faqId: Number(faq?.id),
      balanceCents: await getBalance({ tx: s.db }),
    },
  };
}

// --- Slack payload pieces ------------------------------------------------------------------

const select = (value: string) => ({ type: "static_select", selected_option: { value } });
const input = (value: string) => ({ type: "plain_text_input", value });
const accepted = { type: "checkboxes", selected_options: [{ value: TERMS.value }] };

const buyValues = (name = "payments-hsm"): JsonObject => ({
  [BUY_NAME.block]: { [BUY_NAME.action]: input(name) },
  [BUY_SITE.block]: { [BUY_SITE.action]: select("international") },
  [BUY_PERIOD.block]: { [BUY_PERIOD.action]: select("1") },
  [BUY_CHANNEL.block]: {
    [BUY_CHANNEL.action]: { type: "conversations_select", selected_conversation: null },
  },
  [BUY_OWNER.block]: { [BUY_OWNER.action]: { type: "users_select", selected_user: null } },
  [TERMS.block]: { [TERMS.action]: accepted },
});
const unsubValues = (instanceId: string, reason = "We are consolidating keys"): JsonObject => ({
  [UNSUB_INSTANCE.block]: { [UNSUB_INSTANCE.action]: select(instanceId) },
  [UNSUB_REASON.block]: { [UNSUB_REASON.action]: input(reason) },
});
const rejectValues = (reason = "Still under contract"): JsonObject => ({
  [REJECT_REASON.block]: { [REJECT_REASON.action]: input(reason) },
});
const faqValues = (question = "Can I pay by invoice?"): JsonObject => ({
  [FAQ_FIELDS.question.block]: { [FAQ_FIELDS.question.action]: input(question) },
  [FAQ_FIELDS.phrasings.block]: { [FAQ_FIELDS.phrasings.action]: input("invoice payment") },
  [FAQ_FIELDS.answer.block]: {
    [FAQ_FIELDS.answer.action]: input("No: prepaid balance only. See `/kms balance`."),
  },
  [FAQ_FIELDS.source.block]: { [FAQ_FIELDS.source.action]: input("Billing of Dedicated KMS") },
});

// --- one action, run in full -------------------------------------------------------------

type ClickExtra = {
  view?: JsonObject;
  stateValues?: JsonObject;
  message?: JsonObject;
  channelId?: string;
};

type Request =
  | { kind: "command"; text: (w: World) => string }
  | {
      kind: "click";
      actionId: string;
      value?: (w: World) => string;
      option?: (w: World) => string;
      /** Opens the modal the action happens in (as the admin), before the snapshot. */
      prepare?: (s: TestBot, w: World) => Promise<ClickExtra>;
    }
  | {
      kind: "submit";
      callbackId: string;
      values: (w: World) => JsonObject;
      metadata?: (w: World) => string;
    };

interface Trace {
  status: number;
  reply: JsonObject | undefined;
  /** Everything the acting person was told: the reply, response_url posts, DMs, modal errors. */
  told: string;
  /** callback_ids of the modals opened. */
  opened: string[];
  calls: RecordedCall[];
  changed: Table[];
  before: Snapshot;
  after: Snapshot;
}

let viewSeq = 0;

function send(s: TestBot, request: Request, w: World, role: Role, extra: ClickExtra) {
  const { userId, teamId } = ACTORS[role];
  switch (request.kind) {
    case "command":
      return s.send(
        slashCommand({
          text: request.text(w),
          userId,
          teamId,
          triggerId: s.fake.newTriggerId(),
          responseUrl: s.fake.newResponseUrl(),
        }),
      );
    case "click":
      return s.click({
        actionId: request.actionId,
        ...(request.value ? { value: request.value(w) } : {}),
        ...(request.option ? { selectedOption: { value: request.option(w) } } : {}),
        userId,
        teamId,
        ...extra,
      });
    case "submit":
      viewSeq += 1;
      return s.submit({
        callbackId: request.callbackId,
        values: request.values(w),
        ...(request.metadata ? { privateMetadata: request.metadata(w) } : {}),
        userId,
        teamId,
        viewId: `V0AUTHZ${viewSeq}`,
        triggerId: s.fake.newTriggerId(),
      });
  }
}

/** What the person acting was told, in the order it came. */
function toldTo(userId: string, reply: JsonObject | undefined, calls: RecordedCall[]): string {
  const parts: string[] = [];
  if (reply?.response_action === "errors") {
    parts.push(...Object.values((reply.errors ?? {}) as Record<string, string>));
  } else if (reply) {
    parts.push(shown(reply));
  }
  for (const c of calls) {
    if (c.method === "chat.postMessage" && c.args.channel === userId)
      parts.push(String(c.args.text));
  }
  return parts.filter((p) => p !== "").join("\n");
}

/**
 * Sends the request as `role`, then stops the bot, which waits for every handler to finish
 * (work after the acknowledgement included), so the trace is complete.
 */
async function perform(s: TestBot, w: World, request: Request, role: Role): Promise<Trace> {
  const extra = request.kind === "click" && request.prepare ? await request.prepare(s, w) : {};
  const before = await snapshot(s);
  const callMark = s.fake.calls.length;
  const responseMark = s.fake.responses.length;
  const res: AppResponse = await send(s, request, w, role, extra);
  await s.bot.stop();
  const calls = s.fake.calls.slice(callMark);
  const reply = res.json as JsonObject | undefined;
  const responses = s.fake.responses.slice(responseMark).map((r) => shown(r.body));
  const told = [toldTo(ACTORS[role].userId, reply, calls), ...responses].filter(Boolean).join("\n");
  const after = await snapshot(s);
  return {
    status: res.status,
    reply,
    told,
    opened: calls
      .filter((c) => c.method === "views.open" && c.response?.ok === true)
      .map((c) => String((c.args.view as JsonObject).callback_id)),
    calls,
    changed: changedTables(before, after),
    before,
    after,
  };
}

// --- expectations --------------------------------------------------------------------------

const ADMINS_NAMED = `Billing admins: <@${ADMIN}>, <@${ADMIN2}>\\.`;
/** The refusal of an admin-only action: says it is for admins and names them. */
const adminOnly = (action: string) =>
  new RegExp(`:no_entry: Only a billing admin can ${action}\\. ${ADMINS_NAMED}`);
const adminOrOwner = (action: string) =>
  new RegExp(
    `:no_entry: Only a billing admin or the instance's owner can ${action}\\. ${ADMINS_NAMED}`,
  );

type Effect = (t: Trace, role: Role) => void;
const opens =
  (callbackId: string): Effect =>
  (t) =>
    expect(t.opened).toEqual([callbackId]);
const says =
  (pattern: RegExp | Partial<Record<Role, RegExp>>): Effect =>
  (t, role) => {
    const re = pattern instanceof RegExp ? pattern : pattern[role];
    if (!re) throw new Error(`no expected text for ${role}`);
    expect(t.told).toMatch(re);
  };
/** The message the button was on is updated (a warning, a ticket) to show who did what. */
const updatesMessage =
  (pattern: RegExp): Effect =>
  (t) => {
    const updates = t.calls.filter((c) => c.method === "chat.update" && c.response?.ok);
    expect(updates.map((c) => shown(c.args)).join("\n")).toMatch(pattern);
  };
const dms =
  (userId: string, pattern: RegExp): Effect =>
  (t) => {
    const sent = t.calls.filter(
      (c) => c.method === "chat.postMessage" && c.args.channel === userId,
    );
    expect(sent.map((c) => String(c.args.text)).join("\n")).toMatch(pattern);
  };
/** A select inside a modal refreshes that modal (views.update), and that is all. */
const refreshes: Effect = (t) => {
  const updates = t.calls.filter((c) => c.method === "views.update");
  expect(updates.length).toBe(1);
  expect(updates[0]?.response?.ok).toBe(true);
};
interface Row {
  name: string;
  request: Request;
  /** Roles that may do it; every other role is refused. */
  allowed: Role[];
  effect: Effect;
  /** Tables an allowed run changes (exactly these). */
  changes: Table[];
  /** What a refused person of this workspace is told (required when some role is refused). */
  refusal?: RegExp | Partial<Record<Role, RegExp>>;
  /** Also run as the owner of kst-a (when being the owner is what matters). */
  owner?: boolean;
}

const EVERYONE: Role[] = ["admin", "member", "owner"];
const ADMIN_ONLY: Role[] = ["admin"];
const ADMIN_OR_OWNER: Role[] = ["admin", "owner"];
const MONEY: Table[] = ["accounts", "ledger", "orders", "instances", "audit_log"];

const cmd = (text: string | ((w: World) => string)): Request => ({
  kind: "command",
  text: typeof text === "string" ? () => text : text,
});

/** Opens a modal as the admin and hands back the stored view, as a later action carries it. */
function inModal(
  command: string,
  callbackId: string,
  state: JsonObject,
): (s: TestBot) => Promise<ClickExtra> {
  return async (s: TestBot) => {
    const res = await s.send(
      slashCommand({
        text: command,
        userId: ADMIN,
        triggerId: s.fake.newTriggerId(),
        responseUrl: s.fake.newResponseUrl(),
      }),
    );
    expect(res.status).toBe(200);
    await s.fake.waitFor("views.open", (c) => c.response?.ok === true);
    const view = s.fake.findView(callbackId);
    if (!view) throw new Error(`${command} opened no ${callbackId}`);
    return { view, stateValues: state };
  };
}

// biome-ignore format: one line per action keeps this readable as a table
const TABLE: Row[] = [
  // /kms subcommands
  { name: "/kms help", request: cmd("help"), allowed: EVERYONE, effect: says(/\*kms-bot\*: Dedicated KMS subscriptions/), changes: [] },
  { name: "/kms (empty)", request: cmd(""), allowed: EVERYONE, effect: says(/`\/kms status \[<instance>\]`/), changes: [] },
  { name: "/kms status", request: cmd("status"), allowed: EVERYONE, effect: says(/6 Dedicated KMS instance\(s\)/), changes: [] },
  { name: "/kms status kst-a", request: cmd("status kst-a"), allowed: EVERYONE, effect: says(/kst-a: active/), changes: [] },
  { name: "/kms renew", request: cmd("renew"), allowed: EVERYONE, effect: opens(RENEW_VIEW), changes: [] },
  { name: "/kms renew kst-a", request: cmd("renew kst-a"), allowed: EVERYONE, effect: opens(RENEW_VIEW), changes: [] },
  { name: "/kms buy", request: cmd("buy"), allowed: ADMIN_ONLY, effect: opens(BUY_VIEW), changes: [], refusal: adminOnly("buy instances") },
  { name: "/kms balance", request: cmd("balance"), allowed: EVERYONE, effect: says(/^Balance: USD 98,201\.00$/), changes: [] },
  { name: "/kms topup 100", request: cmd("topup 100"), allowed: ADMIN_ONLY, effect: says(/Recharged USD 100\.00\. Balance: USD 98,301\.00/), changes: ["accounts", "ledger", "audit_log"], refusal: adminOnly("top up the balance") },
  { name: "/kms bills", request: cmd("bills"), allowed: EVERYONE, effect: says(/Bills for 2026-01/), changes: [] },
  { name: "/kms bills export", request: cmd("bills export"), allowed: EVERYONE, effect: says(/Sent the CSV of 2026-01 \(2 line\(s\)\)/), changes: [] },
  { name: "/kms price", request: cmd("price"), allowed: EVERYONE, effect: says(/International site: USD 1,799\.00/), changes: [] },
  { name: "/kms price set china 2,500", request: cmd("price set china 2,500"), allowed: ADMIN_ONLY, effect: says(/The china price is now USD 2,500\.00/), changes: ["prices", "audit_log"], refusal: adminOnly("change prices") },
  { name: "/kms autorenew kst-a 3 months", request: cmd("autorenew kst-a 3 months"), allowed: ADMIN_OR_OWNER, effect: says(/kst-a will renew for 3 months/), changes: ["instances", "audit_log"], refusal: adminOrOwner("change auto-renewal"), owner: true },
  { name: "/kms autorenew kst-a off", request: cmd("autorenew kst-a off"), allowed: ADMIN_OR_OWNER, effect: says(/Auto-renewal of kst-a is off/), changes: ["instances", "audit_log"], refusal: adminOrOwner("change auto-renewal"), owner: true },
  { name: "/kms autorenew kst-b 1y (not the owner's)", request: cmd("autorenew kst-b 1y"), allowed: ADMIN_ONLY, effect: says(/kst-b will renew for 1 year/), changes: ["instances", "audit_log"], refusal: adminOrOwner("change auto-renewal"), owner: true },
  { name: "/kms disable kst-a", request: cmd("disable kst-a"), allowed: ADMIN_ONLY, effect: says(/kst-a is disabled and no longer provides service/), changes: ["instances", "audit_log"], refusal: adminOnly("disable instances"), owner: true },
  { name: "/kms enable kst-d", request: cmd("enable kst-d"), allowed: ADMIN_ONLY, effect: says(/kst-d is active again/), changes: ["instances", "audit_log"], refusal: adminOnly("enable instances") },
  { name: "/kms admins", request: cmd("admins"), allowed: EVERYONE, effect: says({ admin: new RegExp(`${ADMINS_NAMED} You are one\\.`), member: new RegExp(`${ADMINS_NAMED}$`), owner: new RegExp(`${ADMINS_NAMED}$`) }), changes: [] },
  { name: "/kms admins add @new", request: cmd(`admins add <@${NEW_ADMIN}|new>`), allowed: ADMIN_ONLY, effect: says(new RegExp(`<@${NEW_ADMIN}> is now a billing admin`)), changes: ["admins", "audit_log"], refusal: adminOnly("add billing admins") },
  { name: "/kms admins remove @admin2", request: cmd(`admins remove <@${ADMIN2}>`), allowed: ADMIN_ONLY, effect: says(new RegExp(`<@${ADMIN2}> is no longer a billing admin`)), changes: ["admins", "audit_log"], refusal: adminOnly("remove billing admins") },
  { name: "/kms unsubscribe", request: cmd("unsubscribe"), allowed: EVERYONE, effect: opens(UNSUB_VIEW), changes: [] },
  { name: "/kms unsubscribe kst-c", request: cmd("unsubscribe kst-c"), allowed: EVERYONE, effect: opens(UNSUB_VIEW), changes: [] },
  { name: "/kms tickets", request: cmd("tickets"), allowed: EVERYONE, effect: says({ admin: /2 open ticket\(s\)/, member: /1 open ticket\(s\)/, owner: /0 open ticket\(s\)/ }), changes: [], owner: true },
  { name: "/kms faq", request: cmd("faq"), allowed: EVERYONE, effect: says(/What I can answer/), changes: [] },
  { name: "/kms faq <question>", request: cmd("faq is there a free trial?"), allowed: EVERYONE, effect: says(/free trial/i), changes: [] },
  { name: "/kms faq add", request: cmd("faq add"), allowed: ADMIN_ONLY, effect: opens(FAQ_VIEW), changes: [], refusal: adminOnly("change the FAQ") },
  { name: "/kms faq edit <id>", request: cmd((w) => `faq edit ${w.faqId}`), allowed: ADMIN_ONLY, effect: opens(FAQ_VIEW), changes: [], refusal: adminOnly("change the FAQ") },
  { name: "/kms faq remove <id>", request: cmd((w) => `faq remove ${w.faqId}`), allowed: ADMIN_ONLY, effect: says(/Removed FAQ entry \d+: Does Dedicated KMS support free trials\?/), changes: ["faq_entries", "audit_log"], refusal: adminOnly("change the FAQ") },

  // buttons
  { name: "Renew button (open_renew)", request: { kind: "click", actionId: OPEN_RENEW, value: () => "kst-a" }, allowed: EVERYONE, effect: opens(RENEW_VIEW), changes: [] },
  { name: "Export CSV button", request: { kind: "click", actionId: EXPORT_BILLS, value: () => "2026-01" }, allowed: EVERYONE, effect: says(/Sent the CSV of 2026-01/), changes: [] },
  { name: "Snooze (warning of kst-a)", request: { kind: "click", actionId: SNOOZE, option: (w) => `3d:${w.warningA}` }, allowed: ADMIN_OR_OWNER, effect: updatesMessage(/snoozed reminders for kst-a \(3 days\)/), changes: ["instances", "audit_log"], refusal: adminOrOwner("snooze expiry reminders"), owner: true },
  { name: "Won't renew (warning of kst-a)", request: { kind: "click", actionId: WONT_RENEW, value: (w) => String(w.warningA) }, allowed: ADMIN_OR_OWNER, effect: updatesMessage(/won't renew kst-a this period/), changes: ["instances", "audit_log"], refusal: adminOrOwner("stop expiry reminders"), owner: true },
  { name: "Unsubscribe button (kst-c)", request: { kind: "click", actionId: OPEN_UNSUBSCRIBE, value: () => "kst-c" }, allowed: EVERYONE, effect: opens(UNSUB_VIEW), changes: [] },
  { name: "Unsubscribe an instance button (*)", request: { kind: "click", actionId: OPEN_UNSUBSCRIBE, value: () => ANY_INSTANCE }, allowed: EVERYONE, effect: opens(UNSUB_VIEW), changes: [] },
  { name: "Approve ticket", request: { kind: "click", actionId: APPROVE_TICKET, value: (w) => String(w.memberTicket) }, allowed: ADMIN_ONLY, effect: dms(MEMBER_ID, /TKT-0001 was approved by <@UADMIN001>: USD 1,799\.00 refunded/), changes: ["accounts", "ledger", "orders", "instances", "tickets", "audit_log"], refusal: adminOnly("approve unsubscribe tickets"), owner: true },
  { name: "Reject ticket button", request: { kind: "click", actionId: REJECT_TICKET, value: (w) => String(w.memberTicket) }, allowed: ADMIN_ONLY, effect: opens(REJECT_VIEW), changes: [], refusal: adminOnly("reject unsubscribe tickets") },
  { name: "Withdraw ticket (filed by the member)", request: { kind: "click", actionId: WITHDRAW_TICKET, value: (w) => String(w.memberTicket) }, allowed: ["member"], effect: says(/TKT-0001 is withdrawn; nothing was changed on kst-b/), changes: ["tickets", "audit_log"], refusal: new RegExp(`:no_entry: Invalid ticket: only <@${MEMBER_ID}>, who filed TKT-0001, can withdraw it`), owner: true },
  { name: "Buy modal: site select refresh", request: { kind: "click", actionId: BUY_SITE.action, prepare: inModal("buy", BUY_VIEW, { [BUY_SITE.block]: { [BUY_SITE.action]: select("china") } }) }, allowed: EVERYONE, effect: refreshes, changes: [] },
  { name: "Buy modal: period select refresh", request: { kind: "click", actionId: BUY_PERIOD.action, prepare: inModal("buy", BUY_VIEW, { [BUY_PERIOD.block]: { [BUY_PERIOD.action]: select("12") } }) }, allowed: EVERYONE, effect: refreshes, changes: [] },
  { name: "Renew modal: instance select refresh", request: { kind: "click", actionId: RENEW_INSTANCE.action, prepare: inModal("renew", RENEW_VIEW, renewValues("kst-c")) }, allowed: EVERYONE, effect: refreshes, changes: [] },
  { name: "Renew modal: period select refresh", request: { kind: "click", actionId: RENEW_PERIOD.action, prepare: inModal("renew kst-a", RENEW_VIEW, renewValues("kst-a", "12")) }, allowed: EVERYONE, effect: refreshes, changes: [] },
  { name: "Unsubscribe modal: instance select refresh", request: { kind: "click", actionId: UNSUB_INSTANCE.action, prepare: inModal("unsubscribe", UNSUB_VIEW, unsubValues("kst-c")) }, allowed: EVERYONE, effect: refreshes, changes: [] },

  // modal submissions
  { name: "Renew modal submission (kst-a, 1 month)", request: { kind: "submit", callbackId: RENEW_VIEW, values: () => renewValues("kst-a") }, allowed: EVERYONE, effect: says(/:white_check_mark: Renewed kst-a/), changes: MONEY },
  { name: "Buy modal submission", request: { kind: "submit", callbackId: BUY_VIEW, values: () => buyValues() }, allowed: ADMIN_ONLY, effect: says(/:white_check_mark: Bought kst-\w+ \(payments-hsm\)/), changes: MONEY, refusal: adminOnly("buy instances") },
  { name: "Unsubscribe modal submission (kst-c)", request: { kind: "submit", callbackId: UNSUB_VIEW, values: () => unsubValues("kst-c") }, allowed: EVERYONE, effect: says(/:ticket: Filed \*TKT-0004\* to unsubscribe kst-c/), changes: ["tickets", "audit_log"] },
  { name: "Reject modal submission", request: { kind: "submit", callbackId: REJECT_VIEW, values: () => rejectValues(), metadata: (w) => String(w.memberTicket) }, allowed: ADMIN_ONLY, effect: dms(MEMBER_ID, /TKT-0001 \(unsubscribe kst-b\) was rejected by <@UADMIN001>: Still under contract/), changes: ["tickets", "audit_log"], refusal: adminOnly("reject unsubscribe tickets") },
  { name: "FAQ modal submission (new)", request: { kind: "submit", callbackId: FAQ_VIEW, values: () => faqValues(), metadata: () => "new" }, allowed: ADMIN_ONLY, effect: says(/Saved the FAQ entry "Can I pay by invoice\?"/), changes: ["faq_entries", "audit_log"], refusal: adminOnly("change the FAQ") },
  { name: "FAQ modal submission (edit)", request: { kind: "submit", callbackId: FAQ_VIEW, values: () => faqValues("Is there a free trial at all?"), metadata: (w) => String(w.faqId) }, allowed: ADMIN_ONLY, effect: says(/Saved the FAQ entry "Is there a free trial at all\?"/), changes: ["faq_entries", "audit_log"], refusal: adminOnly("change the FAQ") },
];

const CASES = TABLE.flatMap((row) =>
  (["admin", "member", ...(row.owner ? (["owner"] as const) : []), "foreign"] as Role[]).map(
    (role) => ({ row, role, outcome: row.allowed.includes(role) ? "allowed" : "refused" }),
  ),
);

describe("authorization table: every action x role, over the real app", () => {
  let s: TestBot | undefined;
  afterEach(async () => {
    if (!s) return;
    s.fake.assertNoViolations();
    await s.bot.stop().catch(() => undefined);
    await s.fake.close();
    await s.t.destroy();
    s = undefined;
  });

  it("covers every subcommand, button and modal submission, with a refusal for each role refused", () => {
    const kinds = new Set(TABLE.map((r) => r.request.kind));
    expect([...kinds].sort()).toEqual(["click", "command", "submit"]);
    for (const row of TABLE) {
      if (row.allowed.length < EVERYONE.length && !row.owner) {
        expect(row.refusal, row.name).toBeDefined();
      }
    }
    const clicked = new Set(
      TABLE.flatMap((r) => (r.request.kind === "click" ? [r.request.actionId] : [])),
    );
    for (const id of [
      OPEN_RENEW,
      EXPORT_BILLS,
      SNOOZE,
      WONT_RENEW,
      OPEN_UNSUBSCRIBE,
      APPROVE_TICKET,
      REJECT_TICKET,
      WITHDRAW_TICKET,
      BUY_SITE.action,
      BUY_PERIOD.action,
      RENEW_INSTANCE.action,
      RENEW_PERIOD.action,
      UNSUB_INSTANCE.action,
    ]) {
      expect(clicked.has(id), id).toBe(true);
    }
    const submitted = new Set(
      TABLE.flatMap((r) => (r.request.kind === "submit" ? [r.request.callbackId] : [])),
    );
    expect([...submitted].sort()).toEqual(
      [BUY_VIEW, FAQ_VIEW, REJECT_VIEW, RENEW_VIEW, UNSUB_VIEW].sort(),
    );
  });

  it.each(CASES)("$row.name as $role: $outcome", async ({ row, role, outcome }) => {
    const built = await buildWorld();
    s = built.s;
    const t = await perform(built.s, built.w, row.request, role);
    expect(t.status).toBe(200);

    if (role === "foreign") {
      // Refused before any listener: no Slack call but the bot's own auth.test, nothing written.
      expect(t.changed).toEqual([]);
      expect(t.calls.filter((c) => c.method !== "auth.test").map((c) => c.method)).toEqual([]);
      expect(t.told).toBe(
        row.request.kind === "command"
          ? ":no_entry: kms-bot serves another workspace; nothing was done."
          : "",
      );
      return;
    }

    if (outcome === "allowed") {
      expect(t.told).not.toMatch(/:no_entry:|:boom:|malformed/);
      if (row.request.kind === "submit") expect(t.reply?.response_action).toBeUndefined();
      row.effect(t, role);
      expect([...t.changed].sort()).toEqual([...row.changes].sort());
      if (t.changed.length > 0) {
        // Every mutation is audited under the person who did it.
        const audited = t.after.audit_log.filter((r) => !t.before.audit_log.includes(r));
        expect(audited.length).toBeGreaterThan(0);
        for (const line of audited) expect(JSON.parse(line).actor).toBe(ACTORS[role].userId);
      }
      return;
    }

    const refusal = row.refusal instanceof RegExp ? row.refusal : row.refusal?.[role];
    if (!refusal) throw new Error(`${row.name}: no refusal text for ${role}`);
    expect(t.told).toMatch(refusal);
    if (row.request.kind === "submit") {
      expect(t.reply?.response_action).toBe("errors");
    }
    expect(t.opened).toEqual([]);
    expect(
      t.calls.filter((c) =>
        ["chat.update", "views.update", "files.completeUploadExternal"].includes(c.method),
      ),
    ).toEqual([]);
    expect(t.changed).toEqual([]);
  });
});

// --- crafted payloads ------------------------------------------------------------------------

/** A signed request whose payload (interactivity) or form (slash command) was edited. */
function edited(request: SlackRequest, edit: (body: JsonObject) => void): SlackRequest {
  const form = new URLSearchParams(request.body);
  const payload = form.get("payload");
  if (payload !== null) {
    const json = JSON.parse(payload) as JsonObject;
    edit(json);
    form.set("payload", JSON.stringify(json));
  } else {
    const fields = Object.fromEntries(form) as JsonObject;
    edit(fields);
    const out = new URLSearchParams();
    for (const [k, v] of Object.entries(fields)) if (v !== undefined) out.set(k, String(v));
    return { body: out.toString(), contentType: FORM };
  }
  return { body: form.toString(), contentType: FORM };
}

describe("crafted payloads are refused and change nothing", () => {
  let s: TestBot;
  let w: World;
  let before: Snapshot;

  const fresh = async () => {
    ({ s, w } = await buildWorld());
    before = await snapshot(s);
  };
  afterEach(async () => {
    s.fake.assertNoViolations();
    await s.bot.stop().catch(() => undefined);
    await s.fake.close();
    await s.t.destroy();
  });

  /** The HTTP answer to a request, which must be 200 (refusals are acknowledged too). */
  async function answered(res: Promise<AppResponse>): Promise<AppResponse> {
    const r = await res;
    expect(r.status).toBe(200);
    return r;
  }
  const responsesText = () => s.fake.responses.map((r) => shown(r.body)).join("\n");
  const expectNothingChanged = async () => {
    await s.bot.stop();
    expect(changedTables(before, await snapshot(s))).toEqual([]);
    expect(s.fake.callsTo("views.open")).toEqual([]);
    expect(s.fake.callsTo("chat.update")).toEqual([]);
  };
  const submit = (
    userId: string,
    callbackId: string,
    values: JsonObject,
    privateMetadata?: string,
    viewId?: string,
  ) => {
    viewSeq += 1;
    return answered(
      s.submit({
        callbackId,
        values,
        privateMetadata,
        userId,
        viewId: viewId ?? `V0CRAFT${viewSeq}`,
        triggerId: s.fake.newTriggerId(),
      }),
    );
  };
  const errorsOf = (r: AppResponse) => {
    const body = r.json as JsonObject | undefined;
    expect(body?.response_action).toBe("errors");
    return Object.values((body?.errors ?? {}) as Record<string, string>).join("\n");
  };

  it("a member submitting the buy modal's callback (BUY_VIEW) is refused, naming the admins", async () => {
    await fresh();
    const r = await submit(MEMBER_ID, BUY_VIEW, buyValues());
    expect(errorsOf(r)).toMatch(adminOnly("buy instances"));
    await expectNothingChanged();
  });

  it("a member re-submitting BUY_VIEW with the view id of an admin's purchase is refused too, not acknowledged as a success", async () => {
    await fresh();
    const mine = await submit(ADMIN, BUY_VIEW, buyValues(), undefined, "V0ADMINBUY");
    expect(mine.json).toBeUndefined();
    before = await snapshot(s);
    const dmsBefore = s.fake.callsTo("chat.postMessage").length;
    const r = await submit(MEMBER_ID, BUY_VIEW, buyValues(), undefined, "V0ADMINBUY");
    // The idempotency replay must not run ahead of the admin check.
    expect(errorsOf(r)).toMatch(adminOnly("buy instances"));
    await s.bot.stop();
    expect(changedTables(before, await snapshot(s))).toEqual([]);
    expect(s.fake.callsTo("chat.postMessage").length).toBe(dmsBefore);
  });

  it("a member submitting REJECT_VIEW (with a ticket that is not theirs, their own, or garbage) is refused", async () => {
    await fresh();
    for (const metadata of [String(w.otherTicket), String(w.memberTicket)]) {
      const r = await submit(MEMBER_ID, REJECT_VIEW, rejectValues(), metadata);
      expect(errorsOf(r), metadata).toMatch(adminOnly("reject unsubscribe tickets"));
    }
    const garbage = await submit(MEMBER_ID, REJECT_VIEW, rejectValues(), "1 OR 1=1");
    expect(errorsOf(garbage)).toMatch(/not one kms-bot made|Only a billing admin/);
    await expectNothingChanged();
  });

  it("a member submitting FAQ_VIEW, new or editing an entry, is refused", async () => {
    await fresh();
    for (const metadata of ["new", String(w.faqId)]) {
      const r = await submit(MEMBER_ID, FAQ_VIEW, faqValues(), metadata);
      expect(errorsOf(r), metadata).toMatch(adminOnly("change the FAQ"));
    }
    await expectNothingChanged();
  });

  it("an admin's reject modal whose private_metadata was edited (garbage, unknown or closed ticket) is refused", async () => {
    await fresh();
    for (const garbage of [
      "",
      "abc",
      "-1",
      "1e3",
      "1.0",
      " 1",
      "1;2",
      '{"id":1}',
      "9".repeat(13),
      "<!channel>",
    ]) {
      const r = await submit(ADMIN, REJECT_VIEW, rejectValues(), garbage);
      expect(errorsOf(r), JSON.stringify(garbage)).toBe(
        "This form is not one kms-bot made; nothing was changed.",
      );
    }
    const unknown = await submit(ADMIN, REJECT_VIEW, rejectValues(), "999");
    expect(errorsOf(unknown)).toBe(':no_entry: Unknown ticket "TKT-0999".');
    const closed = await submit(ADMIN, REJECT_VIEW, rejectValues(), String(w.closedTicket));
    expect(errorsOf(closed)).toMatch(
      /TKT-0003 is already withdrawn \(by <@U0OTHER01>\); nothing was changed/,
    );
    await expectNothingChanged();
  });

  it("an admin's FAQ modal whose private_metadata names another (missing) entry, or garbage, saves nothing", async () => {
    await fresh();
    const missing = await submit(ADMIN, FAQ_VIEW, faqValues(), "999999");
    expect(errorsOf(missing)).toBe(':no_entry: Unknown faq "999999".');
    for (const garbage of [
      "",
      "NEW",
      "new ",
      "-1",
      "1e2",
      "0x1",
      "1; drop table faq_entries",
      "9".repeat(10),
    ]) {
      const r = await submit(ADMIN, FAQ_VIEW, faqValues(), garbage);
      expect(errorsOf(r), JSON.stringify(garbage)).toBe(
        "This form is not one kms-bot made; nothing was saved.",
      );
    }
    await expectNothingChanged();
  });

  it("renew and unsubscribe submissions naming an unknown, released or already-ticketed instance are refused", async () => {
    await fresh();
    const unknown = await submit(MEMBER_ID, RENEW_VIEW, renewValues("kst-zz"));
    expect(errorsOf(unknown)).toBe(':no_entry: Unknown instance "kst-zz".');
    const released = await submit(MEMBER_ID, RENEW_VIEW, renewValues("kst-r"));
    expect(errorsOf(released)).toMatch(/Instance kst-r has been released/);
    const ticketed = await submit(MEMBER_ID, UNSUB_VIEW, unsubValues("kst-d"));
    expect(errorsOf(ticketed)).toMatch(/kst-d: already has an open unsubscribe ticket, TKT-0002/);
    const gone = await submit(MEMBER_ID, UNSUB_VIEW, unsubValues("kst-r"));
    expect(errorsOf(gone)).toMatch(/Instance kst-r has been released/);
    await expectNothingChanged();
  });

  it("forged button values: another instance's warning, a ticket the clicker didn't file, unknown or garbage ids", async () => {
    await fresh();
    const click = async (
      userId: string,
      actionId: string,
      value: string,
      option = false,
    ): Promise<string> => {
      const mark = s.fake.responses.length;
      await answered(
        s.click({
          actionId,
          userId,
          ...(option ? { selectedOption: { value } } : { value }),
          responseUrl: s.fake.newResponseUrl(),
        }),
      );
      const r = await s.fake.waitForResponse((x) => s.fake.responses.indexOf(x) >= mark);
      expect(r.body.response_type).toBe("ephemeral");
      return shown(r.body);
    };
    // The owner of kst-a, on kst-e's warning (owned by someone else).
    expect(await click(OWNER, SNOOZE, `1d:${w.warningE}`, true)).toMatch(
      adminOrOwner("snooze expiry reminders"),
    );
    expect(await click(OWNER, WONT_RENEW, String(w.warningE))).toMatch(
      adminOrOwner("stop expiry reminders"),
    );
    // Withdrawing a ticket someone else filed, even as an admin.
    for (const who of [OWNER, ADMIN, MEMBER_ID]) {
      expect(await click(who, WITHDRAW_TICKET, String(w.otherTicket))).toMatch(
        /only <@U0OTHER01>, who filed TKT-0002, can withdraw it/,
      );
    }
    // Approving or rejecting as a member, naming any ticket.
    expect(await click(MEMBER_ID, APPROVE_TICKET, String(w.otherTicket))).toMatch(
      adminOnly("approve unsubscribe tickets"),
    );
    expect(await click(MEMBER_ID, REJECT_TICKET, String(w.memberTicket))).toMatch(
      adminOnly("reject unsubscribe tickets"),
    );
    // Unknown and released instances, unknown tickets and warnings.
    expect(await click(MEMBER_ID, OPEN_RENEW, "kst-zz")).toBe(
      ':no_entry: Unknown instance "kst-zz".',
    );
    expect(await click(MEMBER_ID, OPEN_RENEW, "kst-r")).toMatch(/Instance kst-r has been released/);
    expect(await click(MEMBER_ID, OPEN_UNSUBSCRIBE, "kst-zz")).toBe(
      ':no_entry: Unknown instance "kst-zz".',
    );
    expect(await click(ADMIN, APPROVE_TICKET, "999")).toBe(':no_entry: Unknown ticket "TKT-0999".');
    expect(await click(ADMIN, APPROVE_TICKET, String(w.closedTicket))).toMatch(
      /TKT-0003 is already withdrawn/,
    );
    expect(await click(OWNER, WONT_RENEW, "999999")).toMatch(/not one kms-bot knows/);
    // Garbage values, even from an admin.
    for (const value of [
      "",
      "-1",
      "1 OR 1=1",
      "1e3",
      "../kst-a",
      "<!channel>",
      "kst-a; drop table instances",
    ]) {
      for (const actionId of [
        APPROVE_TICKET,
        WITHDRAW_TICKET,
        REJECT_TICKET,
        OPEN_RENEW,
        EXPORT_BILLS,
        WONT_RENEW,
      ]) {
        const text = await click(ADMIN, actionId, value);
        // "1e3" is a well-formed instance id: the Renew button looks it up and finds nothing.
        const expected =
          actionId === OPEN_RENEW && value === "1e3"
            ? /^:no_entry: Unknown instance "1e3"\.$/
            : /malformed|not one kms-bot knows/;
        expect(text, `${actionId} ${JSON.stringify(value)}`).toMatch(expected);
        expect(text).not.toContain("<!channel>");
      }
    }
    expect(await click(ADMIN, SNOOZE, `1w:${w.warningA}`, true)).toMatch(/malformed/);
    expect(responsesText()).not.toMatch(/:boom:/);
    await expectNothingChanged();
  });

  it("a ticket decided meanwhile is re-checked against the database: approve after withdrawal, reject after approval", async () => {
    await fresh();
    await answered(
      s.click({
        actionId: WITHDRAW_TICKET,
        value: String(w.memberTicket),
        userId: MEMBER_ID,
        responseUrl: s.fake.newResponseUrl(),
      }),
    );
    await s.fake.waitForResponse((r) => shown(r.body).includes("is withdrawn"));
    await answered(
      s.click({
        actionId: APPROVE_TICKET,
        value: String(w.memberTicket),
        userId: ADMIN,
        responseUrl: s.fake.newResponseUrl(),
      }),
    );
    await s.fake.waitForResponse((r) =>
      shown(r.body).includes("TKT-0001 is already withdrawn (by <@U0MEMBER1>)"),
    );
    await answered(
      s.click({
        actionId: APPROVE_TICKET,
        value: String(w.otherTicket),
        userId: ADMIN,
        responseUrl: s.fake.newResponseUrl(),
      }),
    );
    await s.fake.waitFor("chat.postMessage", (c) =>
      String(c.args.text).includes("TKT-0002 was approved"),
    );
    const balance = await getBalance({ tx: s.db });
    const r = await submit(ADMIN2, REJECT_VIEW, rejectValues(), String(w.otherTicket));
    expect(errorsOf(r)).toMatch(/TKT-0002 is already approved \(by <@UADMIN001>\)/);
    await s.bot.stop();
    expect(await getBalance({ tx: s.db })).toBe(balance);
    const t2 = await s.db("tickets").where({ id: w.otherTicket }).first();
    expect(t2).toMatchObject({ status: "approved", decided_by: ADMIN });
    // kst-d had nothing refundable: the approval moved no money either.
    expect(formatUsd(balance)).toBe(formatUsd(w.balanceCents));
  });

  describe("the workspace check", () => {
    const topup = () =>
      slashCommand({
        text: "topup 100",
        userId: ADMIN,
        triggerId: s.fake.newTriggerId(),
        responseUrl: s.fake.newResponseUrl(),
      });

    it("refuses a slash command whose team_id is another workspace's, for every subcommand", async () => {
      await fresh();
      const mark = s.fake.calls.length;
      for (const text of [
        "topup 100",
        "price set china 1",
        "disable kst-a",
        "admins add <@U0EVIL01>",
        "buy",
        "bills export",
        "faq remove 1",
      ]) {
        const r = await answered(
          s.send(
            slashCommand({
              text,
              userId: ADMIN,
              teamId: FOREIGN_TEAM,
              triggerId: s.fake.newTriggerId(),
              responseUrl: s.fake.newResponseUrl(),
            }),
          ),
        );
        expect((r.json as JsonObject).text, text).toBe(
          ":no_entry: kms-bot serves another workspace; nothing was done.",
        );
      }
      await expectNothingChanged();
      expect(s.fake.calls.slice(mark).filter((c) => c.method !== "auth.test")).toEqual([]);
    });

    it("refuses a slash command that names no workspace at all (team_id removed)", async () => {
      await fresh();
      const r = await answered(
        s.send(
          edited(topup(), (f) => {
            delete f.team_id;
          }),
        ),
      );
      expect(String((r.json as JsonObject | undefined)?.text ?? "")).not.toContain("Recharged");
      await expectNothingChanged();
    });

    it("refuses a click that names no workspace at all (team and user.team_id removed)", async () => {
      await fresh();
      const click = blockAction({
        actionId: APPROVE_TICKET,
        value: String(w.memberTicket),
        userId: ADMIN,
        triggerId: s.fake.newTriggerId(),
        responseUrl: s.fake.newResponseUrl(),
      });
      await answered(
        s.send(
          edited(click, (p) => {
            delete p.team;
            delete (p.user as JsonObject).team_id;
          }),
        ),
      );
      await expectNothingChanged();
    });

    it("refuses another workspace's request that claims an Enterprise Grid install (is_enterprise_install=true)", async () => {
      await fresh();
      const r = await answered(
        s.send(
          edited(topup(), (f) => {
            f.team_id = FOREIGN_TEAM;
            f.enterprise_id = "E0EVIL01";
            f.is_enterprise_install = "true";
          }),
        ),
      );
      expect(String((r.json as JsonObject | undefined)?.text ?? "")).not.toContain("Recharged");
      await expectNothingChanged();
    });
  });
});
