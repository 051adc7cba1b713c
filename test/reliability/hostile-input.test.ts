// Hostile input, generated with fast-check, through the real app (and the CLI and config
// loaders): unicode, 10,000-character strings, SQL, mrkdwn and mention injection, numbers at
// every edge. Nothing crashes, nothing is written from invalid input, every refusal is a
// readable message, and user text echoed back can neither ping anyone nor break formatting.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { userActor } from "../../src/billing/context.js";
import { formatUsd } from "../../src/billing/money.js";
import { PERIOD_MONTHS } from "../../src/billing/periods.js";
import { setPrice } from "../../src/billing/prices.js";
import { fileTicket } from "../../src/billing/tickets.js";
import { runCli } from "../../src/cli.js";
import { fixedClock } from "../../src/clock.js";
import { ConfigError, loadBotConfig } from "../../src/config.js";
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
import { EXPORT_BILLS, OPEN_RENEW, OPEN_UNSUBSCRIBE } from "../../src/slack/kit/buttons.js";
import { TERMS } from "../../src/slack/kit/form.js";
import { getBalance } from "../../src/store/ledger.js";
import { ALERT_CHANNEL, MEMBER_ID, shown, startTestBot, type TestBot } from "../helpers/app.js";
import { ADMIN, DAY_MS, fund, seedInstance, T0 } from "../helpers/billing.js";
import type { JsonObject, RecordedCall } from "../helpers/fake-slack.js";
import { changedTables, tablesSnapshot } from "../helpers/rows.js";

const OWNER = "U0OWNER1";
const EVIL_USER = "U0EVIL99";
const EVIL_CHANNEL = "C0EVIL99";
const SITES = ["international", "china"] as const;

// --- generators ------------------------------------------------------------------------------

/** Things people paste that must never come back live: mentions, links, code, SQL, odd unicode. */
const DANGEROUS = [
  "<!channel>",
  "<!here>",
  "<!everyone>",
  "<!subteam^S0EVIL99|admins>",
  `<@${EVIL_USER}>`,
  `<@${EVIL_USER}|boss>`,
  `<#${EVIL_CHANNEL}|general>`,
  "<https://evil.example|click here>",
  "`",
  "```",
  "`EVIL`",
  "```EVIL```",
  "*bold*",
  "_it_",
  "~strike~",
  "> quoted",
  "'; drop table ledger; --",
  '"; DELETE FROM instances; --',
  "1; UPDATE accounts SET balance_cents = 0",
  "' OR '1'='1",
  "&lt;!channel&gt;",
  "&amp;",
  "<",
  ">",
  "&",
  "\u0000",
  "\u0007",
  "\u202e",
  "\u200b",
  "\ufeff",
  "😀",
  "👩‍👩‍👧‍👦",
  "Ω≈ç√",
  "ß",
  "İ",
  "ｋｓｔ-ａ",
  "١٢٣",
  "%00",
  "%s%n",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template injection attempt, on purpose
  "${process.exit(1)}",
  "{{balance}}",
  "\\",
  "\n",
  "\t",
  "kst-a",
  "kst-r",
  "kst-zz",
];

/** Numbers at every edge, as people type them (and as they shouldn't). */
const NUMBERS = [
  "0",
  "-0",
  "+0",
  "0.0",
  "00",
  "1e309",
  "-1e309",
  "1e3",
  "Infinity",
  "NaN",
  "0.001",
  "0.01",
  "0.005",
  "9999999999.99",
  "10000000",
  "10,000,000.00",
  "10000000.01",
  "1,000.50",
  "1,00",
  "1,0000",
  "12,34.5",
  "00000000000000000001",
  "9".repeat(400),
  "18446744073709551616",
  "9007199254740993",
  "-1",
  "-5.00",
  "$-5",
  "USD -5",
  "0x10",
  "1_000",
  "1.",
  ".5",
  "1.2.3",
  "5e2",
  "1 000",
  "USD",
  "$",
  "usd 12.34",
  "$12.5",
  "USD12",
  "1",
  "3",
  "12",
  "36",
  "3 months",
  "1y",
  "2 years",
  "13",
  "99",
  "off",
  "OFF",
];

const word = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...DANGEROUS) },
  { weight: 3, arbitrary: fc.constantFrom(...NUMBERS) },
  { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 8 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 8 }) },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,10}$/) },
);
/** A 10,000-character string made of a repeated piece. */
const huge = fc
  .oneof(fc.constantFrom(...DANGEROUS), fc.string({ unit: "grapheme", minLength: 1, maxLength: 4 }))
  .filter((p) => p.length > 0)
  .map((p) => p.repeat(Math.ceil(10_000 / p.length)).slice(0, 10_000));
const words = fc.array(word, { maxLength: 4 }).map((ws) => ws.join(" "));
const text = fc.oneof({ weight: 8, arbitrary: words }, { weight: 1, arbitrary: huge });

const validAmount = fc
  .integer({ min: 1, max: 1_000_000_000 })
  .chain((cents) =>
    fc.constantFrom(
      `${Math.trunc(cents / 100)}.${String(cents % 100).padStart(2, "0")}`,
      `USD ${(cents / 100).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`,
      `$${Math.trunc(cents / 100)}.${String(cents % 100).padStart(2, "0")}`,
      `usd${Math.trunc(cents / 100)}.${String(cents % 100).padStart(2, "0")}`,
    ),
  )
  .filter((t) => !/^\$?usd ?0\.00$|^\$?0\.00$/i.test(t));
const amountText = fc.oneof(validAmount, fc.constantFrom(...NUMBERS), text);

// --- oracles (written independently of the app's parsers) ---------------------------------------

/** The text as the app receives it: form encoding turns lone surrogates into U+FFFD. */
const received = (t: string) => Buffer.from(t, "utf8").toString("utf8");
/** `/kms` splits on whitespace; the app never sees more than this. */
const tokens = (t: string) => received(t).trim().split(/\s+/).filter(Boolean);
const tooLong = (t: string) => received(t).length > 1_000;

/** Cents of a well-formed positive amount up to USD 10,000,000.00, else undefined. */
function amountCents(t: string): number | undefined {
  let rest = t;
  if (rest.startsWith("$")) rest = rest.slice(1);
  else if (/^usd/i.test(rest)) rest = rest.slice(3).replace(/^\s+/, "");
  const parts = rest.split(".");
  if (parts.length > 2) return undefined;
  const [whole, frac] = parts;
  if (frac !== undefined && !/^[0-9]{1,2}$/.test(frac)) return undefined;
  let digits: string;
  if (/^[0-9]+$/.test(whole)) digits = whole;
  else {
    const groups = whole.split(",");
    if (groups.length < 2 || !/^[0-9]{1,3}$/.test(groups[0])) return undefined;
    if (!groups.slice(1).every((g) => /^[0-9]{3}$/.test(g))) return undefined;
    digits = groups.join("");
  }
  const cents = BigInt(digits) * 100n + BigInt((frac ?? "").padEnd(2, "0"));
  return cents > 0n && cents <= 1_000_000_000n ? Number(cents) : undefined;
}

const UNITS = ["", "m", "mo", "mon", "month", "months", "y", "yr", "year", "years"];
/** Months of a period on sale (`3`, `3 months`, `1y`), else undefined. */
function periodMonths(t: string): number | undefined {
  const m = /^([0-9]{1,2})\s*([A-Za-z]*)$/.exec(t.trim());
  if (!m || !UNITS.includes(m[2].toLowerCase())) return undefined;
  const months = Number(m[1]) * (m[2].toLowerCase().startsWith("y") ? 12 : 1);
  return (PERIOD_MONTHS as readonly number[]).includes(months) ? months : undefined;
}

const INSTANCE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

// --- what people read --------------------------------------------------------------------------

/** Mentions and links that would be live in mrkdwn; the app's own are never among these. */
const LIVE = [
  /<!(channel|here|everyone)(\|[^>]*)?>/,
  /<!subteam\^/,
  new RegExp(`<@${EVIL_USER}`),
  new RegExp(`<#${EVIL_CHANNEL}`),
  /<https?:\/\/evil/,
];

/** The app's own code spans: commands, FAQ ids and the period examples of the usage text. */
const OWN_CODE = /`(\/kms[^`\n]*|\/invite @kms-bot|3 months|1y|\d+)`/g;

function expectSafe(textShown: string, label: string): void {
  for (const live of LIVE) expect(textShown, label).not.toMatch(live);
  // Any bare backtick (one not neutralised with a zero-width space) outside the app's own code
  // spans came from the user.
  const withoutOwnCode = textShown.replace(OWN_CODE, "");
  expect(withoutOwnCode, label).not.toMatch(/`(?!\u200b)/);
}

/** A reply a person can act on: not a crash apology, not a stack trace, not a JS artefact. */
function expectReadable(textShown: string, label: string): void {
  expect(textShown.trim().length, label).toBeGreaterThan(0);
  expect(textShown, label).not.toMatch(/:boom:|Something went wrong/);
  expect(textShown, label).not.toMatch(/\n\s+at .+\(.*:\d+:\d+\)|\[object Object\]|ZodError/);
}

// --- the bot under attack ----------------------------------------------------------------------

const TABLES = [
  "accounts",
  "ledger",
  "orders",
  "instances",
  "prices",
  "tickets",
  "faq_entries",
  "audit_log",
  "admins",
] as const;
type Table = (typeof TABLES)[number];
type Snapshot = Record<Table, string[]>;

let s: TestBot;
let seq = 0;

const snapshot = (): Promise<Snapshot> => tablesSnapshot(s.db, TABLES);
const changed = (a: Snapshot, b: Snapshot) => changedTables(TABLES, a, b);
const added = (a: Snapshot, b: Snapshot, t: Table) =>
  b[t].filter((r) => !a[t].includes(r)).map((r) => JSON.parse(r) as Record<string, unknown>);

async function until(done: () => boolean, what: string, ms = 4_000): Promise<void> {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const callsSince = (mark: number, method: string) =>
  s.fake.calls.slice(mark).filter((c) => c.method === method);
const answered = (c: RecordedCall) => c.response !== undefined;

interface Ran {
  told: string;
  opened: boolean;
}

/**
 * `/kms <text>` as `userId` over HTTP (the helper fails on any Block Kit breach in the reply).
 * For commands answered after the acknowledgement, waits for the modal or the response_url
 * answer.
 */
async function kms(commandText: string, userId = ADMIN): Promise<Ran> {
  const callMark = s.fake.calls.length;
  const responseMark = s.fake.responses.length;
  const res = await s.command(commandText, userId);
  expect(res.status).toBe(200);
  let told = shown(res.reply);
  let opened = false;
  if (told === "" || told === "Preparing the CSV…") {
    await until(
      () =>
        s.fake.responses.length > responseMark ||
        callsSince(callMark, "views.open").some((c) => c.response?.ok === true),
      `the answer to /kms ${commandText.slice(0, 40)}`,
    );
    opened = callsSince(callMark, "views.open").some((c) => c.response?.ok === true);
    told = [told, ...s.fake.responses.slice(responseMark).map((r) => shown(r.body))]
      .filter((t) => t !== "" && t !== "Preparing the CSV…")
      .join("\n");
  }
  return { told, opened };
}

const NUM_RUNS = 50;

beforeAll(async () => {
  s = await startTestBot();
  await seedInstance(s.db, { id: "kst-a", owner: OWNER, channel: "C0TEAM" });
  await seedInstance(s.db, { id: "kst-b", expires_at: T0 + 90 * DAY_MS });
  await seedInstance(s.db, {
    id: "kst-r",
    expires_at: T0 - 20 * DAY_MS,
    released_at: T0 - 4 * DAY_MS,
  });
  for (const id of OPEN_INSTANCES.slice(2)) await seedInstance(s.db, { id });
  await fund(s.billing, 1_000_000_000);
  await fund(s.billing, 1_000_000_000);
});

afterAll(async () => {
  await s.close();
});

afterEach(async () => {
  // Whatever was thrown at it, the app still answers, with the balance the ledger says.
  const res = await s.command("balance", MEMBER_ID);
  expect(res.status).toBe(200);
  expect(res.reply.text).toBe(`Balance: ${formatUsd(await getBalance({ tx: s.db }))}`);
  const [{ sum }] = await s.db("ledger").sum({ sum: "amount_cents" });
  expect(Number(sum)).toBe(await getBalance({ tx: s.db }));
  s.fake.assertNoViolations();
});

// --- command text ------------------------------------------------------------------------------

describe("generated /kms command text", () => {
  it("/kms topup: only a well-formed amount is recharged, exactly; everything else is refused and writes nothing", async () => {
    await fc.assert(
      fc.asyncProperty(amountText, async (amount) => {
        const cmd = `topup ${amount}`;
        const label = JSON.stringify(cmd).slice(0, 120);
        const before = await snapshot();
        const { told } = await kms(cmd);
        const after = await snapshot();
        expectReadable(told, label);
        expectSafe(told, label);
        const words = tokens(cmd);
        const cents = tooLong(cmd) ? undefined : amountCents(words.slice(1).join(" "));
        if (cents === undefined || words.length < 2) {
          expect(changed(before, after), label).toEqual([]);
          expect(told, label).toMatch(/^(:no_entry: Invalid amount: |:thinking_face: )/);
        } else {
          expect(changed(before, after).sort(), label).toEqual(["accounts", "audit_log", "ledger"]);
          const [entry] = added(before, after, "ledger");
          expect(entry, label).toMatchObject({
            kind: "recharge",
            amount_cents: cents,
            actor: ADMIN,
          });
          expect(told, label).toMatch(
            new RegExp(`^Recharged ${formatUsd(cents).replace(/[.$]/g, "\\$&")}\\.`),
          );
        }
      }),
      { numRuns: NUM_RUNS * 2 },
    );
  });

  it("/kms price set: only a real site and a well-formed amount change a price; nothing else is written", async () => {
    const site = fc.oneof(
      fc.constantFrom("international", "china", "China", "INTERNATIONAL", "intl", "europe", ""),
      word,
    );
    await fc.assert(
      fc.asyncProperty(site, amountText, async (siteText, amount) => {
        const cmd = `price set ${siteText} ${amount}`;
        const label = JSON.stringify(cmd).slice(0, 120);
        const before = await snapshot();
        const { told } = await kms(cmd);
        const after = await snapshot();
        expectReadable(told, label);
        expectSafe(told, label);
        const words = tokens(cmd);
        const siteName = words[2]?.toLowerCase();
        const cents = words.length >= 4 ? amountCents(words.slice(3).join(" ")) : undefined;
        const valid =
          !tooLong(cmd) &&
          cents !== undefined &&
          (SITES as readonly string[]).includes(siteName ?? "");
        if (!valid) {
          expect(changed(before, after), label).toEqual([]);
          expect(told, label).toMatch(/^(:no_entry: Invalid (site|price): |:thinking_face: )/);
        } else {
          expect(changed(before, after).sort(), label).toEqual(["audit_log", "prices"]);
          expect(added(before, after, "prices")[0], label).toMatchObject({
            site: siteName,
            unit_cents: cents,
          });
          expect(told, label).toContain(`The ${siteName} price is now ${formatUsd(cents)}`);
        }
      }),
      { numRuns: NUM_RUNS },
    );
    // Put the list prices back for the properties that buy and renew.
    const admin = userActor(ADMIN);
    await setPrice(s.billing, admin, "international", 179_900);
    await setPrice(s.billing, admin, "china", 239_900);
  });

  it("/kms autorenew: only a known, unreleased instance and a period on sale (or off) are recorded", async () => {
    const id = fc.oneof(fc.constantFrom("kst-a", "kst-b", "kst-r", "kst-zz", "KST-A"), word);
    const period = fc.oneof(fc.constantFrom(...NUMBERS), text);
    await fc.assert(
      fc.asyncProperty(id, period, async (instance, p) => {
        const cmd = `autorenew ${instance} ${p}`;
        const label = JSON.stringify(cmd).slice(0, 120);
        const before = await snapshot();
        const { told } = await kms(cmd);
        const after = await snapshot();
        expectReadable(told, label);
        expectSafe(told, label);
        const words = tokens(cmd);
        const target = words[1] ?? "";
        const rest = words.slice(2).join(" ");
        const months = rest.toLowerCase() === "off" ? null : periodMonths(rest);
        const valid =
          !tooLong(cmd) &&
          words.length >= 3 &&
          INSTANCE_ID.test(target) &&
          ["kst-a", "kst-b"].includes(target) &&
          months !== undefined;
        if (!valid) {
          expect(changed(before, after), label).toEqual([]);
          expect(told, label).toMatch(
            /^(:no_entry: (Invalid period: |Unknown instance "|Instance kst-r has been released)|:thinking_face: )/,
          );
        } else {
          expect(changed(before, after), label).toContain("audit_log");
          expect(
            changed(before, after).filter((t) => t !== "audit_log" && t !== "instances"),
            label,
          ).toEqual([]);
          const row = await s.db("instances").where({ id: target }).first("auto_renew_months");
          expect(row?.auto_renew_months ?? null, label).toBe(months);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  for (const [verb, who] of [
    ["status", ADMIN],
    ["renew", ADMIN],
    ["faq", MEMBER_ID],
    ["bills", ADMIN],
  ] as const) {
    it(`/kms ${verb} <anything>: never writes, always answers something readable and safe`, async () => {
      await fc.assert(
        fc.asyncProperty(text, async (arg) => {
          const cmd = `${verb} ${arg}`;
          const label = JSON.stringify(cmd).slice(0, 120);
          const before = await snapshot();
          const { told, opened } = await kms(cmd, who);
          const after = await snapshot();
          expect(changed(before, after), label).toEqual([]);
          if (!opened) expectReadable(told, label);
          expectSafe(told, label);
        }),
        { numRuns: NUM_RUNS },
      );
    });
  }
});

// --- modal submissions -------------------------------------------------------------------------

const anyJson = fc.jsonValue({ maxDepth: 3 });
const at = (v: unknown, ...keys: string[]): unknown =>
  keys.reduce<unknown>(
    (o, k) => (o !== null && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined),
    v,
  );
const selectOf = (value: fc.Arbitrary<unknown>) =>
  fc.oneof(
    {
      weight: 4,
      arbitrary: value.map((v) => ({ type: "static_select", selected_option: { value: v } })),
    },
    { weight: 1, arbitrary: fc.constant({ type: "static_select", selected_option: null }) },
    { weight: 1, arbitrary: anyJson },
  );
const inputOf = (value: fc.Arbitrary<unknown>) =>
  fc.oneof(
    { weight: 4, arbitrary: value.map((v) => ({ type: "plain_text_input", value: v })) },
    { weight: 1, arbitrary: anyJson },
  );
const terms = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constant({ type: "checkboxes", selected_options: [{ value: TERMS.value }] }),
  },
  { weight: 1, arbitrary: fc.constant({ type: "checkboxes", selected_options: [] }) },
  { weight: 1, arbitrary: anyJson },
);
interface Field {
  action: string;
  /** Anything, hostile included. */
  element: fc.Arbitrary<unknown>;
  /** What a person filling the form in would send (default: `element`). */
  valid?: fc.Arbitrary<unknown>;
}

/**
 * `{ [block]: { [action]: element } }`: a form filled in properly, one with hostile fields,
 * one with blocks left out, or anything at all.
 */
function stateOf(fields: Record<string, Field>) {
  const record = (pick: (f: Field) => fc.Arbitrary<unknown>) =>
    Object.fromEntries(
      Object.entries(fields).map(([block, f]) => [block, pick(f).map((e) => ({ [f.action]: e }))]),
    );
  return fc.oneof(
    { weight: 4, arbitrary: fc.record(record((f) => f.valid ?? f.element)) },
    { weight: 4, arbitrary: fc.record(record((f) => f.element)) },
    {
      weight: 2,
      arbitrary: fc.record(
        record((f) => f.element),
        { requiredKeys: [] },
      ),
    },
    { weight: 1, arbitrary: anyJson },
    { weight: 1, arbitrary: fc.dictionary(word, anyJson, { maxKeys: 3 }) },
  );
}
const chosen = (values: readonly string[]) =>
  fc
    .constantFrom(...values)
    .map((value) => ({ type: "static_select", selected_option: { value } }));
const typed = (value: fc.Arbitrary<string>) =>
  value.map((v) => ({ type: "plain_text_input", value: v }));
const ACCEPTED = { type: "checkboxes", selected_options: [{ value: TERMS.value }] };
const OPEN_INSTANCES = [
  "kst-a",
  "kst-b",
  "kst-u1",
  "kst-u2",
  "kst-u3",
  "kst-u4",
  "kst-u5",
  "kst-u6",
];
const ON_SALE = PERIOD_MONTHS.map(String);

const instanceChoice = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom("kst-a", "kst-b", "kst-u1", "kst-u2", "kst-u3", "kst-u4"),
  },
  { weight: 2, arbitrary: fc.constantFrom("kst-r", "kst-zz", "KST-A", " kst-a", "kst-a ") },
  { weight: 1, arbitrary: word },
  { weight: 1, arbitrary: anyJson },
);
const periodChoice = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom("1", "2", "3", "12", "24", "36", "01") },
  { weight: 2, arbitrary: fc.constantFrom("0", "10", "13", "99", "-1", "1e1", " 1", "1.0") },
  { weight: 1, arbitrary: word },
  { weight: 1, arbitrary: anyJson },
);
const freeText = fc.oneof(
  { weight: 4, arbitrary: words },
  { weight: 1, arbitrary: huge },
  { weight: 1, arbitrary: anyJson },
);

interface Submitted {
  errors?: Record<string, string>;
  before: Snapshot;
  after: Snapshot;
  /** What the bot posted afterwards (DMs, the support channel). */
  posted: string;
}

/** Submits a modal as `userId`; on acceptance waits for the follow-up posts. */
async function submit(
  callbackId: string,
  values: unknown,
  privateMetadata?: string,
  userId = ADMIN,
  waitForPost?: (c: RecordedCall) => boolean,
): Promise<Submitted> {
  seq += 1;
  const before = await snapshot();
  const mark = s.fake.calls.length;
  const res = await s.submit({
    callbackId,
    values: values as JsonObject,
    privateMetadata,
    userId,
    viewId: `V0HOSTILE${seq}`,
    triggerId: s.fake.newTriggerId(),
  });
  expect(res.status).toBe(200);
  const body = res.json as JsonObject | undefined;
  const after = await snapshot();
  if (body === undefined && waitForPost) {
    await until(
      () =>
        s.fake.calls
          .slice(mark)
          .some((c) => c.method === "chat.postMessage" && answered(c) && waitForPost(c)),
      `the confirmation of ${callbackId}`,
    );
  }
  const posted = callsSince(mark, "chat.postMessage")
    .map((c) => shown(c.args))
    .join("\n");
  if (body !== undefined) {
    expect(body.response_action).toBe("errors");
    const errors = body.errors as Record<string, string>;
    expect(Object.keys(errors).length).toBeGreaterThan(0);
    for (const message of Object.values(errors)) {
      expect(typeof message).toBe("string");
      expectReadable(message, callbackId);
      expect(message.length).toBeLessThanOrEqual(300);
    }
    return { errors, before, after, posted };
  }
  return { before, after, posted };
}

const toAdmin = (c: RecordedCall) => c.args.channel === ADMIN;

describe("generated modal submissions", () => {
  it("renew: only a valid instance, period and accepted terms charge, exactly once; garbage writes nothing", async () => {
    const values = stateOf({
      [RENEW_INSTANCE.block]: {
        action: RENEW_INSTANCE.action,
        element: selectOf(instanceChoice),
        valid: chosen(OPEN_INSTANCES),
      },
      [RENEW_PERIOD.block]: {
        action: RENEW_PERIOD.action,
        element: selectOf(periodChoice),
        valid: chosen(ON_SALE),
      },
      [TERMS.block]: { action: TERMS.action, element: terms, valid: fc.constant(ACCEPTED) },
    });
    await fc.assert(
      fc.asyncProperty(values, async (v) => {
        const label = JSON.stringify(v).slice(0, 200);
        const r = await submit(RENEW_VIEW, v, undefined, ADMIN, toAdmin);
        if (r.errors) {
          expect(changed(r.before, r.after), label).toEqual([]);
          for (const k of Object.keys(r.errors))
            expect([RENEW_INSTANCE.block, RENEW_PERIOD.block, TERMS.block], label).toContain(k);
          return;
        }
        const instance = at(
          v,
          RENEW_INSTANCE.block,
          RENEW_INSTANCE.action,
          "selected_option",
          "value",
        );
        const period = at(v, RENEW_PERIOD.block, RENEW_PERIOD.action, "selected_option", "value");
        const checked = at(v, TERMS.block, TERMS.action, "selected_options");
        expect(OPEN_INSTANCES, label).toContain(instance);
        expect(String(period), label).toMatch(/^[0-9]{1,2}$/);
        expect(PERIOD_MONTHS as readonly number[], label).toContain(Number(period));
        expect(
          Array.isArray(checked) && checked.some((o) => at(o, "value") === TERMS.value),
          label,
        ).toBe(true);
        const orders = added(r.before, r.after, "orders");
        expect(orders, label).toHaveLength(1);
        expect(orders[0], label).toMatchObject({
          kind: "renewal",
          instance_id: instance,
          months: Number(period),
        });
        expect(added(r.before, r.after, "ledger"), label).toHaveLength(1);
        expectSafe(r.posted, label);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("buy: only a complete, valid form buys one instance; its name is stored as typed and echoed escaped", async () => {
    const name = fc.oneof(
      { weight: 4, arbitrary: words },
      { weight: 1, arbitrary: fc.constantFrom(...DANGEROUS).map((d) => `hsm ${d} prod`) },
      { weight: 1, arbitrary: huge },
      { weight: 1, arbitrary: anyJson },
    );
    const values = stateOf({
      [BUY_NAME.block]: {
        action: BUY_NAME.action,
        element: inputOf(name),
        valid: typed(
          fc.oneof(
            words,
            fc.constantFrom(...DANGEROUS).map((d) => `hsm ${d} prod`),
          ),
        ),
      },
      [BUY_SITE.block]: {
        action: BUY_SITE.action,
        element: selectOf(
          fc.oneof(fc.constantFrom("international", "china", "China", "europe"), word),
        ),
        valid: chosen(SITES),
      },
      [BUY_PERIOD.block]: {
        action: BUY_PERIOD.action,
        element: selectOf(periodChoice),
        valid: chosen(ON_SALE),
      },
      [BUY_CHANNEL.block]: {
        action: BUY_CHANNEL.action,
        element: fc.oneof(
          fc.constant({ type: "conversations_select", selected_conversation: null }),
          fc.constantFrom("C0TEAM", "G0PRIV", "general", "<#C0TEAM>", "c0team").map((c) => ({
            type: "conversations_select",
            selected_conversation: c,
          })),
          anyJson,
        ),
      },
      [BUY_OWNER.block]: {
        action: BUY_OWNER.action,
        element: fc.oneof(
          fc.constant({ type: "users_select", selected_user: null }),
          fc.constantFrom(OWNER, "W0OWNER2", "@jane", `<@${OWNER}>`, "u0owner1").map((u) => ({
            type: "users_select",
            selected_user: u,
          })),
          anyJson,
        ),
      },
      [TERMS.block]: { action: TERMS.action, element: terms, valid: fc.constant(ACCEPTED) },
    });
    await fc.assert(
      fc.asyncProperty(values, async (v) => {
        const label = JSON.stringify(v).slice(0, 200);
        const r = await submit(BUY_VIEW, v, undefined, ADMIN, toAdmin);
        if (r.errors) {
          expect(changed(r.before, r.after), label).toEqual([]);
          return;
        }
        const typed = at(v, BUY_NAME.block, BUY_NAME.action, "value");
        expect(typeof typed, label).toBe("string");
        const instances = added(r.before, r.after, "instances");
        expect(instances, label).toHaveLength(1);
        const stored = instances[0];
        expect(stored.name, label).toBe(String(typed).trim());
        expect(String(stored.name).length, label).toBeLessThanOrEqual(200);
        expect(String(stored.name), label).not.toMatch(/\p{Cc}/u);
        expect(SITES as readonly string[], label).toContain(
          at(v, BUY_SITE.block, BUY_SITE.action, "selected_option", "value"),
        );
        expect(added(r.before, r.after, "orders"), label).toHaveLength(1);
        expectSafe(r.posted, label);
      }),
      { numRuns: NUM_RUNS },
    );
    // What was bought is listed escaped too.
    const fleet = await kms("status", MEMBER_ID);
    expectSafe(fleet.told, "/kms status after the purchases");
  });

  it("unsubscribe: a ticket is filed only for a known, unreleased instance with a reason; the reason is echoed escaped", async () => {
    const values = stateOf({
      [UNSUB_INSTANCE.block]: {
        action: UNSUB_INSTANCE.action,
        element: selectOf(instanceChoice),
        valid: chosen(OPEN_INSTANCES),
      },
      [UNSUB_REASON.block]: {
        action: UNSUB_REASON.action,
        element: inputOf(freeText),
        valid: typed(words.map((w) => `${w} reason`)),
      },
    });
    await fc.assert(
      fc.asyncProperty(values, async (v) => {
        const label = JSON.stringify(v).slice(0, 200);
        const r = await submit(UNSUB_VIEW, v, undefined, ADMIN, toAdmin);
        if (r.errors) {
          expect(changed(r.before, r.after), label).toEqual([]);
          for (const k of Object.keys(r.errors))
            expect([UNSUB_INSTANCE.block, UNSUB_REASON.block], label).toContain(k);
          return;
        }
        const tickets = added(r.before, r.after, "tickets");
        expect(tickets.length, label).toBeGreaterThanOrEqual(1);
        const reason = at(v, UNSUB_REASON.block, UNSUB_REASON.action, "value");
        expect(typeof reason, label).toBe("string");
        expect(tickets[0], label).toMatchObject({
          instance_id: at(
            v,
            UNSUB_INSTANCE.block,
            UNSUB_INSTANCE.action,
            "selected_option",
            "value",
          ),
          reason: String(reason).trim(),
          requester: ADMIN,
        });
        expect(changed(r.before, r.after).sort(), label).toEqual(["audit_log", "tickets"]);
        // The DM to the requester and the support-channel post both quote the reason.
        expectSafe(r.posted, label);
        const support = s.fake.messages.filter((m) => m.channel === ALERT_CHANNEL);
        expectSafe(support.map((m) => shown(m)).join("\n"), label);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("reject: only an admin's reason for an open ticket named in private_metadata closes it; the reason is echoed escaped", async () => {
    // Some open tickets to aim at, filed as people would.
    for (const id of OPEN_INSTANCES) {
      await fileTicket(
        s.billing,
        { type: "user", userId: MEMBER_ID },
        { instanceId: id, reason: "r" },
      ).catch(() => undefined);
    }
    const open = (await s.db("tickets").where({ status: "open" }).select("id")).map((r) =>
      String(r.id),
    );
    const metadata = fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...open, "999", "0") },
      { weight: 2, arbitrary: word },
    );
    const values = stateOf({
      [REJECT_REASON.block]: {
        action: REJECT_REASON.action,
        element: inputOf(freeText),
        valid: typed(words.map((w) => `because ${w}`)),
      },
    });
    await fc.assert(
      fc.asyncProperty(metadata, values, async (meta, v) => {
        const label = `${JSON.stringify(meta)} ${JSON.stringify(v).slice(0, 200)}`;
        const wasOpen = await s.db("tickets").where({ status: "open" }).select("id");
        const r = await submit(REJECT_VIEW, v, meta, ADMIN, (c) =>
          String(c.args.text).includes("was rejected by"),
        );
        if (r.errors) {
          expect(changed(r.before, r.after), label).toEqual([]);
          expect(Object.keys(r.errors), label).toEqual([REJECT_REASON.block]);
          return;
        }
        expect(meta, label).toMatch(/^[0-9]{1,12}$/);
        expect(
          wasOpen.map((t) => Number(t.id)),
          label,
        ).toContain(Number(meta));
        const reason = at(v, REJECT_REASON.block, REJECT_REASON.action, "value");
        const ticket = await s
          .db("tickets")
          .where({ id: Number(meta) })
          .first();
        expect(ticket, label).toMatchObject({
          status: "rejected",
          decided_by: ADMIN,
          decision_note: String(reason).trim(),
        });
        expect(changed(r.before, r.after).sort(), label).toEqual(["audit_log", "tickets"]);
        expectSafe(r.posted, label);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("faq: only a valid entry (new, or an existing id in private_metadata) is saved; garbage writes nothing", async () => {
    const ids = (await s.db("faq_entries").select("id")).map((r) => String(r.id));
    const metadata = fc.oneof(
      { weight: 3, arbitrary: fc.constant("new") },
      { weight: 3, arbitrary: fc.constantFrom(...ids) },
      { weight: 1, arbitrary: fc.constantFrom("999999", "0", "-1", "NEW", "new ") },
      { weight: 2, arbitrary: word },
    );
    const field = (key: keyof typeof FAQ_FIELDS) => ({
      action: FAQ_FIELDS[key].action,
      element: inputOf(freeText),
      valid: typed(words.map((w) => `${key} ${w}`)),
    });
    const values = stateOf({
      [FAQ_FIELDS.question.block]: field("question"),
      [FAQ_FIELDS.phrasings.block]: field("phrasings"),
      [FAQ_FIELDS.answer.block]: field("answer"),
      [FAQ_FIELDS.source.block]: field("source"),
    });
    const blocks = Object.values(FAQ_FIELDS).map((f) => f.block);
    await fc.assert(
      fc.asyncProperty(metadata, values, async (meta, v) => {
        const label = `${JSON.stringify(meta)} ${JSON.stringify(v).slice(0, 200)}`;
        const existing = (await s.db("faq_entries").select("id")).map((r) => String(r.id));
        const r = await submit(FAQ_VIEW, v, meta);
        if (r.errors) {
          expect(changed(r.before, r.after), label).toEqual([]);
          for (const k of Object.keys(r.errors)) expect(blocks, label).toContain(k);
          return;
        }
        const q = at(v, FAQ_FIELDS.question.block, FAQ_FIELDS.question.action, "value");
        expect(typeof q, label).toBe("string");
        expect(String(q).trim().length, label).toBeGreaterThan(0);
        expect(String(q).trim().length, label).toBeLessThanOrEqual(300);
        expect(changed(r.before, r.after).sort(), label).toEqual(["audit_log", "faq_entries"]);
        if (meta === "new") {
          expect(added(r.before, r.after, "faq_entries")[0], label).toMatchObject({
            question: String(q).trim(),
          });
        } else {
          expect(existing, label).toContain(meta);
          const row = await s
            .db("faq_entries")
            .where({ id: Number(meta) })
            .first();
          expect(row?.question, label).toBe(String(q).trim());
        }
      }),
      { numRuns: NUM_RUNS },
    );
    // The list and the answers show what was saved, escaped.
    const list = await kms("faq", MEMBER_ID);
    expectSafe(list.told, "/kms faq after the edits");
  });

  it("faq: the 'Saved the FAQ entry' confirmation quotes the question escaped (no live mention, no code break-out)", async () => {
    const question = fc
      .tuple(
        fc.constantFrom(...DANGEROUS.filter((d) => /[<>`]/.test(d))),
        fc.string({ maxLength: 10 }),
      )
      .map(([d, rest]) => `Why ${d} ${rest}`.replace(/\p{Cc}/gu, " "));
    const input = (value: string) => ({ type: "plain_text_input", value });
    await fc.assert(
      fc.asyncProperty(question, async (q) => {
        const r = await submit(
          FAQ_VIEW,
          {
            [FAQ_FIELDS.question.block]: { [FAQ_FIELDS.question.action]: input(q) },
            [FAQ_FIELDS.answer.block]: { [FAQ_FIELDS.answer.action]: input("An answer.") },
            [FAQ_FIELDS.source.block]: { [FAQ_FIELDS.source.action]: input("A source") },
          },
          "new",
          ADMIN,
          (c) => c.args.channel === ADMIN && String(c.args.text).startsWith("Saved the FAQ entry"),
        );
        expect(r.errors, q).toBeUndefined();
        expectSafe(r.posted, JSON.stringify(q));
      }),
      { numRuns: 10 },
    );
  });
});

// --- button values -----------------------------------------------------------------------------

describe("generated button values", () => {
  it("every button refuses a value kms-bot could not have made, readably and safely, and writes nothing for it", async () => {
    const action = fc.constantFrom(
      OPEN_RENEW,
      EXPORT_BILLS,
      OPEN_UNSUBSCRIBE,
      APPROVE_TICKET,
      REJECT_TICKET,
      WITHDRAW_TICKET,
      WONT_RENEW,
      SNOOZE,
    );
    const value = fc.oneof(
      { weight: 3, arbitrary: text },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          "kst-a",
          "kst-r",
          "2026-01",
          "2026-13",
          "*",
          "1d:1",
          "next:999999",
          "1w:1",
        ),
      },
      { weight: 1, arbitrary: anyJson },
    );
    const user = fc.constantFrom(ADMIN, MEMBER_ID, OWNER);
    await fc.assert(
      fc.asyncProperty(action, value, user, async (actionId, v, userId) => {
        const label = `${actionId} ${JSON.stringify(v).slice(0, 120)} by ${userId}`;
        const openBefore = (
          await s.db("tickets").where({ status: "open" }).select("id", "requester")
        ).map((t) => ({ id: Number(t.id), requester: String(t.requester) }));
        const before = await snapshot();
        const mark = s.fake.calls.length;
        const responseMark = s.fake.responses.length;
        const res = await s.click({
          actionId,
          userId,
          ...(actionId === SNOOZE
            ? { actionType: "static_select", selectedOption: { value: v as string } }
            : { value: v as string }),
          responseUrl: s.fake.newResponseUrl(),
        });
        expect(res.status, label).toBe(200);
        await until(
          () =>
            s.fake.responses.length > responseMark ||
            s.fake.calls
              .slice(mark)
              .some(
                (c) =>
                  ["views.open", "views.publish", "chat.update"].includes(c.method) && answered(c),
              ),
          label,
        );
        const after = await snapshot();
        const told = s.fake.responses
          .slice(responseMark)
          .map((r) => shown(r.body))
          .join("\n");
        if (told) {
          expectReadable(told, label);
          expectSafe(told, label);
        }
        const writes = changed(before, after);
        if (writes.length === 0) return;
        // Only a well-formed ticket id of a then-open ticket, approved by an admin or withdrawn
        // by its requester, writes anything.
        expect([APPROVE_TICKET, WITHDRAW_TICKET], label).toContain(actionId);
        expect(v, label).toMatch(/^[0-9]{1,12}$/);
        const ticket = openBefore.find((t) => t.id === Number(v));
        expect(ticket, label).toBeDefined();
        if (actionId === APPROVE_TICKET) expect(userId, label).toBe(ADMIN);
        else expect(userId, label).toBe(ticket?.requester);
      }),
      { numRuns: NUM_RUNS * 2 },
    );
  });

  it("the selects inside the renew, buy and unsubscribe modals refresh them from any state without writing", async () => {
    const modals = [
      { command: "renew kst-a", callbackId: RENEW_VIEW, actions: [RENEW_INSTANCE, RENEW_PERIOD] },
      { command: "buy", callbackId: BUY_VIEW, actions: [BUY_SITE, BUY_PERIOD] },
      { command: "unsubscribe kst-b", callbackId: UNSUB_VIEW, actions: [UNSUB_INSTANCE] },
    ];
    for (const m of modals) {
      const opened = await kms(m.command);
      expect(opened.opened, m.command).toBe(true);
    }
    const state = fc.oneof(
      stateOf({
        [RENEW_INSTANCE.block]: {
          action: RENEW_INSTANCE.action,
          element: selectOf(instanceChoice),
        },
        [RENEW_PERIOD.block]: { action: RENEW_PERIOD.action, element: selectOf(periodChoice) },
        [BUY_SITE.block]: { action: BUY_SITE.action, element: selectOf(word) },
        [BUY_PERIOD.block]: { action: BUY_PERIOD.action, element: selectOf(periodChoice) },
        [UNSUB_INSTANCE.block]: {
          action: UNSUB_INSTANCE.action,
          element: selectOf(instanceChoice),
        },
      }),
      anyJson,
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...modals), fc.nat(), state, async (m, pick, values) => {
        const view = s.fake.findView(m.callbackId);
        if (!view) throw new Error(`no ${m.callbackId} open`);
        const { action } = m.actions[pick % m.actions.length];
        const label = `${action} ${JSON.stringify(values).slice(0, 150)}`;
        const before = await snapshot();
        const mark = s.fake.calls.length;
        const res = await s.click({
          actionId: action,
          view,
          stateValues: values as JsonObject,
          userId: ADMIN,
          actionType: "static_select",
          selectedOption: { value: "1" },
        });
        expect(res.status, label).toBe(200);
        await until(() => callsSince(mark, "views.update").some(answered), label);
        const [update] = callsSince(mark, "views.update");
        expect(update.response?.ok, `${label}: ${JSON.stringify(update.response)}`).toBe(true);
        expect(changed(before, await snapshot()), label).toEqual([]);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

// --- CSV imports -------------------------------------------------------------------------------

const COLUMNS = ["instance_id", "name", "site", "expires_at", "channel", "owner"] as const;
type Column = (typeof COLUMNS)[number];
type CsvRow = Record<Column, string>;
interface Expected {
  id: string;
  name: string;
  site: string;
  expires_at: number;
  channel: string | null;
  owner: string | null;
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");
/** An instant in one of the ISO 8601 forms `expires_at` accepts, and the instant it denotes. */
const expiry = fc
  .tuple(
    fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2099, 11, 31) }),
    fc.integer({ min: 0, max: 5 }),
  )
  .map(([ms, form]): [string, number] => {
    const d = new Date(ms);
    const date = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
    const hm = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
    const sec = pad(d.getUTCSeconds());
    const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
    const minute = day + d.getUTCHours() * 3_600_000 + d.getUTCMinutes() * 60_000;
    switch (form) {
      case 0:
        return [d.toISOString(), ms];
      case 1:
        return [date, day];
      case 2:
        return [`${date}T${hm}`, minute];
      case 3:
        return [`${date} ${hm}:${sec}Z`, minute + d.getUTCSeconds() * 1000];
      case 4: {
        // The same instant written in +08:00.
        const local = new Date(ms + 8 * 3_600_000);
        const l = `${local.getUTCFullYear()}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}T${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}`;
        return [`${l}+08:00`, ms - d.getUTCMilliseconds()];
      }
      default:
        return [`${date}T${hm}:${sec}-0000`, minute + d.getUTCSeconds() * 1000];
    }
  });

const csvName = fc
  .oneof(
    fc.constantFrom(...DANGEROUS).map((d) => `hsm ${d}`),
    fc.string({ unit: "grapheme", minLength: 1, maxLength: 30 }),
    fc.constantFrom('a "quoted", name', "comma, inside", "ünïcödé 名前", "x".repeat(200)),
  )
  // Format characters (U+202E, zero-width) are refused by design (issue 11 item 12).
  .filter((n) => !/[\p{Cc}\p{Cf}]/u.test(n) && n.trim().length > 0 && n.trim().length <= 200);

const validRow = fc
  .record({
    id: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/).map((x) => `imp-${x}`),
    name: csvName,
    site: fc.constantFrom("international", "china", "China", " INTERNATIONAL "),
    expiry,
    channel: fc.oneof(fc.constant(""), fc.stringMatching(/^[CGD][A-Z0-9]{2,10}$/)),
    owner: fc.oneof(fc.constant(""), fc.stringMatching(/^[UW][A-Z0-9]{2,10}$/)),
    spaces: fc.boolean(),
  })
  .map(({ id, name, site, expiry: [when, ms], channel, owner, spaces }) => {
    const sp = (v: string) => (spaces && v !== "" ? ` ${v} ` : v);
    const row: CsvRow = {
      instance_id: sp(id),
      name,
      site,
      expires_at: when,
      channel: sp(channel),
      owner: sp(owner),
    };
    const expected: Expected = {
      id,
      name: name.trim(),
      site: site.trim().toLowerCase(),
      expires_at: ms,
      channel: channel || null,
      owner: owner || null,
    };
    return { row, expected };
  });

/** Ways to spoil one row: a bad value in one column, or a broken record. */
const BAD_VALUES: Record<Column, string[]> = {
  instance_id: [
    "",
    "  ",
    "-abc",
    "a b",
    "a".repeat(65),
    "kst;drop",
    "'; drop table instances; --",
    "kst-ä",
    "<!channel>",
  ],
  name: ["", "   ", "a\u0007b", "tab\there", "x".repeat(201), "x".repeat(10_000)],
  site: ["europe", "", "intl", "international; drop table prices", "ｃｈｉｎａ"],
  expires_at: [
    "2026-02-30",
    "tomorrow",
    "1e309",
    "",
    "2026-13-01",
    "2026-12-01T25:00:00Z",
    "9".repeat(10_000),
    "2026-12-01T00:00:00+8",
    "0",
  ],
  channel: ["general", "<#C0TEAM>", "c0team", "C1", "#C0TEAM"],
  owner: [`<@${OWNER}>`, "@jane", "u0owner1", "U1", "jane@example.com"],
};
type Spoil =
  | { kind: "value"; column: Column; value: string }
  | { kind: "extra-field" }
  | { kind: "missing-field" }
  | { kind: "text-after-quote" }
  | { kind: "quote-in-field" }
  | { kind: "unclosed-quote" }
  | { kind: "duplicate-id" };
const spoil: fc.Arbitrary<Spoil> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .constantFrom(...COLUMNS)
      .chain((column) =>
        fc
          .constantFrom(...BAD_VALUES[column])
          .map((value) => ({ kind: "value" as const, column, value })),
      ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom<Spoil>(
      { kind: "extra-field" },
      { kind: "missing-field" },
      { kind: "text-after-quote" },
      { kind: "quote-in-field" },
      { kind: "unclosed-quote" },
      { kind: "duplicate-id" },
    ),
  },
);

const quote = (field: string, always: boolean) =>
  always || /[",\r\n]/.test(field) || field.startsWith("\ufeff")
    ? `"${field.replaceAll('"', '""')}"`
    : field;

interface CsvLayout {
  columns: Column[];
  headerCase: boolean;
  eol: string;
  bom: boolean;
  finalEol: boolean;
  quoteAll: boolean;
  /** Blank lines before each row (skipped by the parser, counted in line numbers). */
  blanks: number[];
}
const layout = (rows: number): fc.Arbitrary<CsvLayout> =>
  fc.record({
    columns: fc.shuffledSubarray([...COLUMNS], { minLength: 6, maxLength: 6 }),
    headerCase: fc.boolean(),
    eol: fc.constantFrom("\n", "\r\n"),
    bom: fc.boolean(),
    finalEol: fc.boolean(),
    quoteAll: fc.boolean(),
    blanks: fc.array(fc.integer({ min: 0, max: 1 }), { minLength: rows, maxLength: rows }),
  });

/** Writes the file; returns it with the line each row starts on. */
function renderCsv(rows: string[][], l: CsvLayout): { text: string; lines: number[] } {
  const header = l.columns.map((c) => (l.headerCase ? ` ${c.toUpperCase()} ` : c)).join(",");
  let text = `${l.bom ? "\ufeff" : ""}${header}`;
  let line = 1;
  const lines: number[] = [];
  rows.forEach((fields, i) => {
    const blanks = l.blanks[i] ?? 0;
    text += l.eol.repeat(1 + blanks);
    line += 1 + blanks;
    lines.push(line);
    text += fields.join(",");
  });
  if (l.finalEol) text += l.eol;
  return { text, lines };
}
const fieldsOf = (row: CsvRow, l: CsvLayout) => l.columns.map((c) => quote(row[c], l.quoteAll));

describe("generated CSV imports (kms-bot import), into the running bot's database", () => {
  let dir: string;
  let file = 0;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "kms-hostile-csv-"));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  async function importCsv(
    content: string,
  ): Promise<{ code: number; stdout: string; stderr: string }> {
    file += 1;
    const path = join(dir, `import-${file}.csv`);
    writeFileSync(path, content);
    let stdout = "";
    let stderr = "";
    // The files say which expiry they mean: an existing instance's moves only with --force-dates.
    const code = await runCli(["import", path, "--force-dates"], {
      env: { DATABASE_URL: s.t.url, KMS_TIMEZONE: "UTC" },
      stdout: (t) => {
        stdout += t;
      },
      stderr: (t) => {
        stderr += t;
      },
      clock: fixedClock(T0),
    });
    return { code, stdout, stderr };
  }

  const uniqueRows = fc.uniqueArray(validRow, {
    minLength: 1,
    maxLength: 8,
    selector: (r) => r.expected.id,
  });

  it("a valid file (any column order, quoting, line ends, BOM) imports every row exactly as written", async () => {
    await fc.assert(
      fc.asyncProperty(
        uniqueRows.chain((rows) => fc.tuple(fc.constant(rows), layout(rows.length))),
        async ([rows, l]) => {
          const { text: csv } = renderCsv(
            rows.map((r) => fieldsOf(r.row, l)),
            l,
          );
          const existing = new Set((await s.db("instances").select("id")).map((r) => String(r.id)));
          const before = await snapshot();
          const run = await importCsv(csv);
          const label = JSON.stringify(csv).slice(0, 300);
          expect(run.stderr, label).toBe("");
          expect(run.code, label).toBe(0);
          const created = rows.filter((r) => !existing.has(r.expected.id)).length;
          const m =
            /Imported (\d+) instance\(s\): (\d+) new, (\d+) updated, (\d+) unchanged\. /.exec(
              run.stdout,
            );
          expect(m?.slice(1, 3), label).toEqual([String(rows.length), String(created)]);
          for (const { expected } of rows) {
            const row = await s.db("instances").where({ id: expected.id }).first();
            expect(row, label).toMatchObject({ ...expected, id: expected.id });
          }
          expect(
            changed(before, await snapshot()).filter(
              (t) => !["instances", "audit_log", "imports", "import_changes"].includes(t),
            ),
            label,
          ).toEqual([]);
        },
      ),
      { numRuns: 25 },
    );
  });

  it("one bad row anywhere refuses the whole file, naming that row's line, and writes nothing", async () => {
    await fc.assert(
      fc.asyncProperty(
        uniqueRows.chain((rows) =>
          fc.tuple(
            fc.constant(rows),
            layout(rows.length + 1),
            fc.integer({ min: 0, max: rows.length }),
            spoil,
          ),
        ),
        async ([rows, l, position, how]) => {
          const fields = rows.map((r) => fieldsOf(r.row, l));
          const template = rows[position % rows.length].row;
          let bad: string[];
          let at = position;
          switch (how.kind) {
            case "value":
              bad = fieldsOf({ ...template, [how.column]: how.value }, l);
              break;
            case "extra-field":
              bad = [...fieldsOf(template, l), "extra"];
              break;
            case "missing-field":
              bad = fieldsOf(template, l).slice(0, 5);
              break;
            case "text-after-quote":
              bad = fieldsOf(template, l);
              bad[0] = `"${template[l.columns[0]].replaceAll('"', '""')}"x`;
              break;
            case "quote-in-field":
              bad = fieldsOf(template, l);
              bad[0] = 'ab"c';
              break;
            case "unclosed-quote":
              // Swallows the rest of the file: put it last.
              bad = [...fieldsOf(template, l).slice(0, 5), '"never closed'];
              at = rows.length;
              break;
            case "duplicate-id":
              bad = fieldsOf(rows[0].row, l);
              at = Math.max(1, position);
              break;
          }
          fields.splice(at, 0, bad);
          const { text: csv, lines } = renderCsv(fields, l);
          const before = await snapshot();
          const run = await importCsv(csv);
          const label = `${how.kind} ${JSON.stringify(how).slice(0, 80)} in ${JSON.stringify(csv).slice(0, 200)}`;
          expect(run.code, label).toBe(1);
          expect(run.stdout, label).toBe("");
          expect(run.stderr, label).toMatch(
            new RegExp(`^kms-bot: Invalid CSV line ${lines[at]}: `),
          );
          expect(run.stderr.length, label).toBeLessThan(2_000);
          expect(changed(before, await snapshot()), label).toEqual([]);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("any file at all: imports in full or refuses with a line number, never half, never a crash", async () => {
    const header = "instance_id,name,site,expires_at,channel,owner";
    const body = fc.oneof(
      fc.string({ unit: "binary", maxLength: 300 }),
      fc
        .array(
          fc.oneof(word, fc.constantFrom(",", '"', "\n", "\r\n", "\r", "2026-12-01", "china")),
          { maxLength: 30 },
        )
        .map((p) => p.join("")),
      huge,
    );
    await fc.assert(
      fc.asyncProperty(fc.boolean(), body, async (withHeader, b) => {
        const csv = withHeader ? `${header}\n${b}` : b;
        const before = await snapshot();
        const run = await importCsv(csv);
        const label = JSON.stringify(csv).slice(0, 200);
        if (run.code === 0) {
          const m =
            /Imported (\d+) instance\(s\): (\d+) new, (\d+) updated, (\d+) unchanged\. Import id imp-[a-z0-9-]+\.\n$/.exec(
              run.stdout,
            );
          expect(m, label).not.toBeNull();
          const after = await snapshot();
          expect(after.instances.length - before.instances.length, label).toBe(Number(m?.[2]));
        } else {
          expect(run.code, label).toBe(1);
          expect(run.stderr, label).toMatch(/^kms-bot: Invalid CSV line \d+: \S/);
          expect(changed(before, await snapshot()), label).toEqual([]);
        }
      }),
      { numRuns: 40 },
    );
    // The bot lists whatever was imported, escaped.
    expectSafe((await kms("status", MEMBER_ID)).told, "/kms status after the imports");
  });
});

// --- environment -------------------------------------------------------------------------------

const VARIABLES = [
  "SLACK_BOT_TOKEN",
  "SLACK_SIGNING_SECRET",
  "SLACK_APP_TOKEN",
  "SLACK_API_URL",
  "PORT",
  "DATABASE_URL",
  "KMS_ADMIN_USERS",
  "KMS_ALERT_CHANNEL",
  "KMS_SUPPORT_CHANNEL",
  "KMS_SWEEP_CRON",
  "KMS_WARN_DAYS",
  "KMS_RELEASE_WARN_DAYS",
  "KMS_TIMEZONE",
] as const;
const GOOD_ENV = {
  SLACK_BOT_TOKEN: "xoxb-1-abc",
  SLACK_SIGNING_SECRET: "0123456789abcdef",
  KMS_ALERT_CHANNEL: "C0ALERTS1",
};
const envValue = fc.oneof(
  { weight: 2, arbitrary: text },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      "",
      " ",
      "xoxb-",
      "xoxb-1-abc",
      "xapp-1-abc",
      "xoxp-1",
      "sqlite:",
      "sqlite:./x.db",
      "postgres://",
      "postgres://u@h/db",
      "mysql://u@h/db",
      "http://",
      "http://localhost:1/api",
      "https://slack.com/api",
      "javascript:alert(1)",
      "file:///etc/passwd",
      "ftp://x",
      "*/5 * * * *",
      "* * * * * * * *",
      "0 0 31 2 *",
      "@daily",
      "61 * * * *",
      "Europe/Berlin",
      "Mars/Olympus_Mons",
      "UTC+8",
      "1,2,3",
      "1,,2",
      "0",
      "366",
      "15",
      "65535",
      "65536",
      "0x50",
      "1e3",
      "-1",
      "3000.5",
      "U0ADMIN01,W0ADMIN02",
      "U123, u456",
      "C0ALERTS1",
      "#alerts",
    ),
  },
);

describe("generated environment values (loadBotConfig)", () => {
  const load = (env: Record<string, string>) => {
    try {
      return { config: loadBotConfig(env) };
    } catch (error) {
      return { error };
    }
  };

  it("one bad variable: either a sane configuration or a ConfigError naming exactly that variable", () => {
    fc.assert(
      fc.property(fc.constantFrom(...VARIABLES), envValue, (name, value) => {
        const label = `${name}=${JSON.stringify(value).slice(0, 80)}`;
        const { config, error } = load({ ...GOOD_ENV, [name]: value });
        if (error !== undefined) {
          expect(error, label).toBeInstanceOf(ConfigError);
          const problems = (error as ConfigError).problems;
          expect(problems.length, label).toBeGreaterThan(0);
          for (const p of problems) expect(p.startsWith(`${name}: `), `${label}: ${p}`).toBe(true);
          expect((error as Error).message, label).toMatch(/^Invalid configuration:\n {2}- /);
          return;
        }
        expect(config, label).toBeDefined();
        if (!config) return;
        expect(
          Number.isInteger(config.PORT) && config.PORT >= 1 && config.PORT <= 65535,
          label,
        ).toBe(true);
        expect(config.SLACK_API_URL, label).toMatch(/^https?:\/\/.+\/$/);
        expect(config.SLACK_BOT_TOKEN, label).toMatch(/^xoxb-/);
        for (const d of config.KMS_WARN_DAYS)
          expect(Number.isInteger(d) && d >= 1 && d <= 365, label).toBe(true);
        for (const d of config.KMS_RELEASE_WARN_DAYS)
          expect(Number.isInteger(d) && d >= 1 && d <= 14, label).toBe(true);
        for (const u of config.KMS_ADMIN_USERS) expect(u, label).toMatch(/^[UW][A-Z0-9]{2,}$/);
        expect(config.KMS_ALERT_CHANNEL, label).toMatch(/^[CGD][A-Z0-9]{2,}$/);
        expect(config.supportChannel, label).toMatch(/^[CGD][A-Z0-9]{2,}$/);
      }),
      { numRuns: 400 },
    );
  });

  it("any environment at all: nothing but ConfigError, and every problem names one of the variables given", () => {
    const env = fc.dictionary(fc.constantFrom(...VARIABLES), envValue, {
      maxKeys: VARIABLES.length,
    });
    fc.assert(
      fc.property(env, (e) => {
        const { error } = load(e);
        if (error === undefined) return;
        expect(error).toBeInstanceOf(ConfigError);
        for (const p of (error as ConfigError).problems) {
          const name = p.slice(0, p.indexOf(":"));
          expect(VARIABLES as readonly string[], p).toContain(name);
          // A required variable that is missing is named too; a set one is named only if bad.
          if (!(name in e))
            expect(["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "KMS_ALERT_CHANNEL"], p).toContain(
              name,
            );
        }
      }),
      { numRuns: 300 },
    );
  });
});
