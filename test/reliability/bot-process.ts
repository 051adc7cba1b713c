/**
 * The real bot (`node dist/src/main.js`) as a child process, plus what the reliability suites
 * share: signed requests it can be sent, a seeded random source, and the bookkeeping checks
 * (balance == ledger, one charge per order, expiry chains) run against the database after
 * faults, crashes and replicas.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Knex } from "knex";
import { expect } from "vitest";
import { getBalance, ledgerSum } from "../../src/store/ledger.js";
import { SIGNING_SECRET } from "../helpers/app.js";
import { ROOT } from "../helpers/cli-process.js";
import type { FakeSlack } from "../helpers/fake-slack.js";
import { renewForm } from "../helpers/forms.js";
import {
  type AppResponse,
  postToApp,
  type SlackRequest,
  slashCommand,
  viewSubmission,
} from "../helpers/slack-requests.js";

export const BOT_ADMIN = "UADMIN001";
export const BOT_ALERTS = "C0ALERTS";
export const DAY = 86_400_000;
export const MINUTE = 60_000;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A small seeded PRNG (mulberry32): the same seed gives the same kill points and choices. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Ports already handed out by this process: never the same one twice. */
const handedOut = new Set<number>();

/** A TCP port nothing listens on right now (and not handed out before). */
export async function freePort(): Promise<number> {
  for (;;) {
    const server: Server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

export interface BotExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** `Date.now()` when the process ended. */
  at: number;
}

export interface BotProcess {
  child: ChildProcess;
  port: number;
  /** `http://127.0.0.1:<port>` */
  url: string;
  exited: Promise<BotExit>;
  /** stdout and stderr so far. */
  output(): string;
  running(): boolean;
  /** SIGKILLs it if it is still running and waits for it to be gone. */
  kill(): Promise<BotExit>;
}

export interface BotOptions {
  databaseUrl: string;
  fake: FakeSlack;
  /** Overrides and additions to the bot's environment. */
  env?: Record<string, string>;
  readyTimeoutMs?: number;
}

/** Every bot started here, so a failing test can still stop them. */
const started = new Set<BotProcess>();

/**
 * Starts `node dist/src/main.js` in an empty temporary folder (no `.env`) on a free port and
 * waits for `GET /healthz` to answer 200.
 */
export async function startBot(options: BotOptions): Promise<BotProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startBotOnce(options);
    } catch (error) {
      // Another process took the port between freePort() and the bot's listen: try another.
      if (attempt >= 3 || !/EADDRINUSE/.test(String(error))) throw error;
    }
  }
}

async function startBotOnce(options: BotOptions): Promise<BotProcess> {
  const port = await freePort();
  const cwd = mkdtempSync(join(tmpdir(), "kms-bot-proc-"));
  const child = spawn(process.execPath, [join(ROOT, "dist/src/main.js")], {
    cwd,
    env: {
      PATH: process.env.PATH ?? "",
      SLACK_BOT_TOKEN: options.fake.botToken,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: options.fake.url,
      PORT: String(port),
      DATABASE_URL: options.databaseUrl,
      KMS_ALERT_CHANNEL: BOT_ALERTS,
      KMS_ADMIN_USERS: BOT_ADMIN,
      KMS_SWEEP_CRON: "*/5 * * * *",
      KMS_TIMEZONE: "UTC",
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d) => {
    out += d;
  });
  child.stderr?.on("data", (d) => {
    out += d;
  });
  let isRunning = true;
  const exited = new Promise<BotExit>((resolve) => {
    child.on("exit", (code, signal) => {
      isRunning = false;
      resolve({ code, signal, at: Date.now() });
    });
  });
  const url = `http://127.0.0.1:${port}`;
  const bot: BotProcess = {
    child,
    port,
    url,
    exited,
    output: () => out,
    running: () => isRunning,
    async kill() {
      if (isRunning) child.kill("SIGKILL");
      const exit = await exited;
      started.delete(bot);
      return exit;
    },
  };
  started.add(bot);
  void exited.then(() => rmSync(cwd, { recursive: true, force: true }));
  const deadline = Date.now() + (options.readyTimeoutMs ?? 15_000);
  for (;;) {
    if (!isRunning) throw new Error(`kms-bot exited before it was ready:\n${out}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.status === 200) return bot;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await bot.kill();
      throw new Error(`kms-bot was not ready within the time allowed:\n${out}`);
    }
    await sleep(50);
  }
}

/** SIGKILLs every bot process still running (for afterEach). */
export async function killAllBots(): Promise<void> {
  await Promise.all([...started].map((b) => b.kill()));
}

let unique = 0;
/** A value no other request in this run has (keeps request bodies, hence signatures, distinct). */
export function uniqueSuffix(): string {
  unique += 1;
  return `${Date.now()}.${process.pid}.${unique}`;
}

/** A renew modal submission (after it showed the list price), with a fresh view hash so each send is a distinct signed request. */
export function renewSubmission(
  viewId: string,
  instanceId: string,
  months: number,
  userId: string,
): SlackRequest {
  return viewSubmission({ viewId, userId, hash: uniqueSuffix(), ...renewForm(instanceId, months) });
}

/**
 * `/kms topup <amount>` by the admin (the trigger id is the command's idempotency key), and
 * what the admin read: the answer that followed the acknowledgement through response_url
 * (empty when none came, e.g. the bot was killed), or the acknowledgement's own refusal.
 */
export async function topupBy(
  fake: FakeSlack,
  url: string,
  triggerId: string,
  amount: string,
): Promise<{ kind: "network"; error: string } | { kind: "said"; text: string }> {
  const responseUrl = fake.newResponseUrl();
  const request = slashCommand({
    text: `topup ${amount}`,
    userId: BOT_ADMIN,
    triggerId,
    responseUrl,
  });
  const outcome = await send(url, request);
  if (outcome.kind === "network") return outcome;
  if (outcome.response.text !== "") {
    return { kind: "said", text: String((outcome.response.json as { text?: unknown })?.text) };
  }
  const answer = await fake
    .waitForResponse((r) => r.url === responseUrl, 5_000)
    .catch(() => undefined);
  return { kind: "said", text: String(answer?.body.text ?? "") };
}

export type Outcome =
  | { kind: "response"; response: AppResponse }
  | { kind: "network"; error: string };

/** Sends a signed request; a refused or cut connection is an outcome, not a throw. */
export async function send(url: string, request: SlackRequest): Promise<Outcome> {
  try {
    return {
      kind: "response",
      response: await postToApp(url, request, { signingSecret: SIGNING_SECRET }),
    };
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return { kind: "network", error: cause?.code ?? cause?.message ?? String(error) };
  }
}

/** True for the empty 200 that closes a modal (the renewal went through). */
export function closedModal(outcome: Outcome): boolean {
  return (
    outcome.kind === "response" && outcome.response.status === 200 && outcome.response.text === ""
  );
}

/**
 * True for a submission the bot took on: it closed the modal (done within the answer's
 * budget), or the database was slow and it answered "working on it" at once, the result
 * following in the modal or by DM. Not for a refusal.
 */
export function acceptedSubmission(outcome: Outcome): boolean {
  if (closedModal(outcome)) return true;
  if (outcome.kind !== "response" || outcome.response.status !== 200) return false;
  const answer = outcome.response.json as { response_action?: string; view?: unknown } | undefined;
  return (
    answer?.response_action === "update" && JSON.stringify(answer.view).includes("Working on it")
  );
}

/** The field errors a modal submission was answered with, if any. */
export function fieldErrors(outcome: Outcome): Record<string, string> | undefined {
  if (outcome.kind !== "response") return undefined;
  const json = outcome.response.json as
    | { response_action?: string; errors?: Record<string, string> }
    | undefined;
  return json?.response_action === "errors" ? json.errors : undefined;
}

/** An instance as `kms-bot import` leaves it (no order behind it). */
export async function seedInstanceRow(
  db: Knex,
  id: string,
  expiresAt: number,
  extra: Record<string, unknown> = {},
): Promise<void> {
  await db("instances").insert({
    id,
    name: `name of ${id}`,
    site: "international",
    expires_at: expiresAt,
    admin_disabled_at: null,
    released_at: null,
    channel: null,
    owner: null,
    auto_renew_months: null,
    snoozed_until: null,
    wont_renew_expires_at: null,
    created_at: Date.now(),
    updated_at: Date.now(),
    ...extra,
  });
}

export interface Books {
  balance: number;
  ledgerSum: number;
  orders: Array<{
    id: number;
    kind: string;
    instance_id: string;
    amount_cents: number;
    period_start: number;
    period_end: number;
    idempotency_key: string | null;
  }>;
  recharges: Array<{ amount_cents: number; idempotency_key: string | null }>;
}

/**
 * Checks the money invariants and returns what the books hold:
 * - the balance equals the ledger sum, and each ledger line's balance_after is the running sum;
 * - every order has exactly one charge line of its amount, and every charge line has an order;
 * - every renewed instance's orders chain (each period starts where the last ended, the first
 *   where the imported expiry was) and its expires_at is the end of the last one;
 * - every order and every recharge has exactly one audit entry.
 */
export async function checkBooks(db: Knex, seededExpiry: Map<string, number>): Promise<Books> {
  const balance = await getBalance({ tx: db });
  const sum = await ledgerSum({ tx: db });
  expect(balance, "balance == ledger sum").toBe(sum);

  const ledger = (await db("ledger").orderBy("id")).map((r) => ({
    id: Number(r.id),
    kind: String(r.kind),
    amount: Number(r.amount_cents),
    after: Number(r.balance_after_cents),
    order_id: r.order_id === null ? null : Number(r.order_id),
    key: r.idempotency_key as string | null,
  }));
  let running = 0;
  const drift: string[] = [];
  for (const line of ledger) {
    running += line.amount;
    if (line.after !== running)
      drift.push(`ledger ${line.id}: balance_after ${line.after}, running sum ${running}`);
  }
  expect(drift, "each ledger line's balance_after is the running sum").toEqual([]);

  const orders = (await db("orders").orderBy("id")).map((r) => ({
    id: Number(r.id),
    kind: String(r.kind),
    instance_id: String(r.instance_id),
    amount_cents: Number(r.amount_cents),
    period_start: Number(r.period_start),
    period_end: Number(r.period_end),
    idempotency_key: r.idempotency_key as string | null,
  }));
  const charges = ledger.filter((l) => l.kind === "purchase" || l.kind === "renewal");
  const problems: string[] = [];
  for (const o of orders) {
    const lines = charges.filter((c) => c.order_id === o.id);
    if (lines.length !== 1) problems.push(`order ${o.id} has ${lines.length} charge line(s)`);
    else if (lines[0]?.amount !== -o.amount_cents)
      problems.push(`order ${o.id} of ${o.amount_cents} charged ${lines[0]?.amount}`);
  }
  const orderIds = new Set(orders.map((o) => o.id));
  for (const c of charges) {
    if (c.order_id === null || !orderIds.has(c.order_id))
      problems.push(`charge line ${c.id} has no order (${c.order_id})`);
  }
  expect(problems, "one charge line per order and one order per charge line").toEqual([]);

  const instances = await db("instances").select("id", "expires_at");
  const chains: string[] = [];
  for (const i of instances) {
    const id = String(i.id);
    const mine = orders
      .filter((o) => o.instance_id === id)
      .sort((a, b) => a.period_start - b.period_start || a.id - b.id);
    const seeded = seededExpiry.get(id);
    if (seeded === undefined || mine.length === 0) {
      if (seeded !== undefined && Number(i.expires_at) !== seeded)
        chains.push(`${id}: expires_at ${i.expires_at} moved without an order (was ${seeded})`);
      continue;
    }
    let expected = seeded;
    for (const o of mine) {
      if (o.period_start !== expected)
        chains.push(`${id}: order ${o.id} starts ${o.period_start}, previous end ${expected}`);
      expected = o.period_end;
    }
    if (Number(i.expires_at) !== expected)
      chains.push(`${id}: expires_at ${i.expires_at}, last order ends ${expected}`);
  }
  expect(chains, "each instance's expiry agrees with its orders").toEqual([]);

  // Audited in the same transaction: one audit entry per order, one per recharge.
  const audits = await db("audit_log")
    .whereIn("action", ["instance.renew", "instance.purchase", "account.topup"])
    .select("action", "inputs");
  const auditedOrders = new Map<number, number>();
  let auditedTopups = 0;
  for (const a of audits) {
    if (a.action === "account.topup") auditedTopups += 1;
    else {
      const orderId = Number((JSON.parse(String(a.inputs)) as { orderId?: unknown }).orderId);
      auditedOrders.set(orderId, (auditedOrders.get(orderId) ?? 0) + 1);
    }
  }
  expect(
    orders.filter((o) => auditedOrders.get(o.id) !== 1).map((o) => o.id),
    "orders without exactly one audit entry",
  ).toEqual([]);
  expect(auditedOrders.size, "audit entries for orders that do not exist").toBe(orders.length);
  expect(auditedTopups, "one audit entry per recharge").toBe(
    ledger.filter((l) => l.kind === "recharge").length,
  );

  const recharges = ledger
    .filter((l) => l.kind === "recharge")
    .map((l) => ({ amount_cents: l.amount, idempotency_key: l.key }));
  return { balance, ledgerSum: sum, orders, recharges };
}
