// Faults while money moves: the database locked or its connections cut, Slack failing or slow
// around a renewal. Money operations either complete or roll back, the person is told which,
// and the books hold together.
import knex, { type Knex } from "knex";
import sqlite3 from "sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { balance, topup } from "../../src/billing/account.js";
import { type BillingContext, cliActor } from "../../src/billing/context.js";
import { systemClock } from "../../src/clock.js";
import { FAQ_FIELDS, FAQ_VIEW } from "../../src/slack/features/faq/blocks.js";
import { RENEW_VIEW } from "../../src/slack/features/renew/blocks.js";
import { parseDatabaseUrl } from "../../src/store/db.js";
import { listOrders } from "../../src/store/orders.js";
import { MEMBER_ID, startTestBot, type TestBot } from "../helpers/app.js";
import { ADMIN, seedInstance, T0 } from "../helpers/billing.js";
import { createTestDatabase, PG_URL, type TestDatabase } from "../helpers/databases.js";
import { type FakeSlack, startFakeSlack } from "../helpers/fake-slack.js";
import { renewForm } from "../helpers/forms.js";
import { SLACK_TEST_IDS, viewSubmission } from "../helpers/slack-requests.js";
import {
  acceptedSubmission,
  BOT_ADMIN,
  checkBooks,
  closedModal,
  DAY,
  fieldErrors,
  killAllBots,
  type Outcome,
  renewSubmission,
  seedInstanceRow,
  send,
  sleep,
  startBot,
  topupBy,
} from "./bot-process.js";

const PRICE = 179_900;
const FUNDS = 10_000_000;

/** A raw connection to the SQLite file, to hold its write lock as another process would. */
function sqliteLocker(file: string) {
  const conn = new sqlite3.Database(file);
  const run = (sql: string) =>
    new Promise<void>((resolve, reject) =>
      conn.run(sql, (error) => (error ? reject(error) : resolve())),
    );
  return {
    run,
    close: () => new Promise<void>((resolve) => conn.close(() => resolve())),
  };
}

describe("the SQLite file locked by another connection (BEGIN IMMEDIATE for ~1 s)", () => {
  let s: TestBot;
  const seeded = new Map<string, number>();
  beforeEach(async () => {
    s = await startTestBot({ db: "sqlite" });
    seeded.clear();
    for (const id of ["kst-a", "kst-b"]) {
      const row = await seedInstance(s.db, { id, expires_at: T0 + 20 * DAY });
      seeded.set(id, row.expires_at);
    }
    await topup(s.billing, cliActor, FUNDS);
  });
  afterEach(async () => {
    s.fake.assertNoViolations();
    await s.close();
  });

  it("renewals and topups arriving meanwhile wait for the lock, then each completes once; nothing is half-written", async () => {
    const file = parseDatabaseUrl(s.t.url)?.location ?? "";
    const locker = sqliteLocker(file);
    await locker.run("BEGIN IMMEDIATE");
    const lockedAt = Date.now();
    const renewals = Array.from({ length: 6 }, (_, i) =>
      send(
        s.url,
        renewSubmission(`V-LOCKED-${i}`, i % 2 === 0 ? "kst-a" : "kst-b", 1 + (i % 3), MEMBER_ID),
      ).then((o) => ({ o, at: Date.now() })),
    );
    const topups = Array.from({ length: 2 }, (_, i) =>
      topupBy(s.fake, s.url, `TRG-LOCKED-${i}`, "250").then((o) => ({
        o,
        at: Date.now(),
      })),
    );
    await sleep(1_000);
    // While the lock is held nothing has been written.
    const during = await new Promise<number>((resolve, reject) => {
      const reader = new sqlite3.Database(file);
      reader.get("SELECT count(*) AS n FROM orders", (error, row: { n: number }) => {
        reader.close();
        if (error) reject(error);
        else resolve(row.n);
      });
    });
    expect(during).toBe(0);
    await locker.run("COMMIT");
    await locker.close();

    const renewed = await Promise.all(renewals);
    const toppedUp = await Promise.all(topups);
    for (const r of renewed) {
      expect(acceptedSubmission(r.o), JSON.stringify(r.o)).toBe(true);
      expect(r.at - lockedAt).toBeGreaterThanOrEqual(950); // it waited, it did not fail
    }
    for (const r of toppedUp) {
      expect(r.o.kind === "said" ? r.o.text : r.o.error).toContain("Recharged USD 250.00");
    }
    const books = await checkBooks(s.db, seeded);
    expect(books.orders.map((o) => o.idempotency_key).sort()).toEqual(
      Array.from({ length: 6 }, (_, i) => `renew:V-LOCKED-${i}`),
    );
    const charged = books.orders.reduce((sum, o) => sum + o.amount_cents, 0);
    expect(charged).toBe(PRICE * (1 + 2 + 3 + 1 + 2 + 3));
    expect(books.balance).toBe(FUNDS + 2 * 25_000 - charged);
    for (let i = 0; i < 6; i++) {
      await s.fake.waitFor(
        "chat.postMessage",
        (c) => c.args.channel === MEMBER_ID && c.response?.ok === true,
        5_000,
      );
    }
  });
});

describe.skipIf(!PG_URL)("PostgreSQL connections of the bot terminated mid-stream", () => {
  let t: TestDatabase;
  let fake: FakeSlack;
  let admin: Knex;
  let ctx: BillingContext;
  const seeded = new Map<string, number>();
  const INSTANCES = ["kst-p1", "kst-p2", "kst-p3"];

  beforeEach(async () => {
    t = await createTestDatabase("postgres");
    fake = await startFakeSlack();
    admin = knex({ client: "pg", connection: PG_URL, pool: { min: 0, max: 1 } });
    ctx = { db: t.db, clock: systemClock, timezone: "UTC", envAdmins: [BOT_ADMIN] };
    seeded.clear();
    for (const id of INSTANCES) {
      seeded.set(id, Date.now() + 60 * DAY);
      await seedInstanceRow(t.db, id, seeded.get(id) ?? 0);
    }
    await topup(ctx, cliActor, FUNDS * 10);
  });
  afterEach(async () => {
    await killAllBots();
    await admin.destroy();
    fake.assertNoViolations();
    await fake.close();
    await t.destroy();
  });

  const appName = () => `kms_fault_${t.schema}`;
  const startVictim = () =>
    startBot({ databaseUrl: `${t.processUrl}&application_name=${appName()}`, fake });
  /** Terminates the bot's backends (all of them, or those waiting on a lock); returns how many. */
  const terminate = async (onlyWaitingOnLock = false) => {
    const r = await admin.raw(
      `SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity
        WHERE application_name = ? AND pid <> pg_backend_pid() ${onlyWaitingOnLock ? "AND wait_event_type = 'Lock'" : ""}`,
      [appName()],
    );
    return Number(r.rows[0]?.n ?? 0);
  };
  /** Waits until one of the bot's backends is blocked on a lock. */
  const blockedOnLock = async () => {
    for (let i = 0; i < 100; i++) {
      const r = await admin.raw(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = ? AND wait_event_type = 'Lock'",
        [appName()],
      );
      if (Number(r.rows[0]?.n ?? 0) > 0) return;
      await sleep(50);
    }
    throw new Error("the bot never waited on the lock");
  };
  /** Holds a table lock in the test's schema until `release` is called. */
  const lockTable = async (table: string) => {
    const trx = await t.db.transaction();
    await trx.raw(`LOCK TABLE ?? IN EXCLUSIVE MODE`, [table]);
    return () => trx.commit();
  };
  const clearRefusal = (outcome: Outcome) =>
    /nothing was changed/i.test(Object.values(fieldErrors(outcome) ?? {}).join(" "));

  it("backends killed at random mid-stream: each renewal completes (modal closed, DM) or rolls back; the bot survives; retries go through once", async () => {
    const bot = await startVictim();
    const outcomes = new Map<string, Outcome>();
    let next = 0;
    const worker = async () => {
      while (next < 32) {
        next += 1;
        const n = next;
        const viewId = `V-PGKILL-${n}`;
        const instanceId = INSTANCES[n % INSTANCES.length] ?? "kst-p1";
        outcomes.set(
          viewId,
          await send(bot.url, renewSubmission(viewId, instanceId, 1, MEMBER_ID)),
        );
      }
    };
    const workers = Promise.all([worker(), worker(), worker(), worker()]);
    let terminated = 0;
    for (let i = 0; i < 6; i++) {
      await sleep(120);
      terminated += await terminate();
    }
    await workers;
    expect(terminated).toBeGreaterThan(0);
    expect(bot.running(), bot.output()).toBe(true);

    const books = await checkBooks(t.db, seeded);
    const orderFor = (viewId: string) =>
      books.orders.filter((o) => o.idempotency_key === `renew:${viewId}`);
    const failed: string[] = [];
    for (const [viewId, outcome] of outcomes) {
      if (closedModal(outcome)) {
        expect(orderFor(viewId), `${viewId} was confirmed`).toHaveLength(1);
      } else {
        failed.push(viewId);
        expect(orderFor(viewId), `${viewId} was refused: ${JSON.stringify(outcome)}`).toHaveLength(
          0,
        );
        // A refusal from the renewal itself says nothing changed (a bare HTTP 500 comes from the
        // request guard: see the test below).
        if (outcome.kind === "response" && outcome.response.status === 200)
          expect(clearRefusal(outcome), JSON.stringify(outcome)).toBe(true);
      }
    }
    // Every completed renewal is confirmed by DM, once.
    await sleep(500);
    const dms = fake
      .callsTo("chat.postMessage")
      .filter((c) => c.args.channel === MEMBER_ID && c.response?.ok === true);
    expect(dms).toHaveLength(books.orders.length);

    // The database is back: the bot serves again, and the refused ones go through when retried.
    const health = await fetch(`${bot.url}/healthz`);
    expect(health.status).toBe(200);
    for (const viewId of failed) {
      const n = Number(viewId.split("-").at(-1));
      const instanceId = INSTANCES[n % INSTANCES.length] ?? "kst-p1";
      const again = await send(bot.url, renewSubmission(viewId, instanceId, 1, MEMBER_ID));
      expect(closedModal(again), JSON.stringify(again)).toBe(true);
    }
    const after = await checkBooks(t.db, seeded);
    expect(after.orders).toHaveLength(outcomes.size);
    expect(after.balance).toBe(FUNDS * 10 - outcomes.size * PRICE);
  }, 40_000);

  it("the connection of a renewal waiting to debit is killed: rolled back, the modal says nothing was changed, a retry charges once", async () => {
    const bot = await startVictim();
    const release = await lockTable("accounts");
    const pending = send(bot.url, renewSubmission("V-PG-DEBIT", "kst-p1", 1, MEMBER_ID));
    await blockedOnLock();
    expect(await terminate(true)).toBeGreaterThan(0);
    const outcome = await pending;
    await release();
    expect(clearRefusal(outcome), JSON.stringify(outcome)).toBe(true);
    const books = await checkBooks(t.db, seeded);
    expect(books.orders).toEqual([]);
    expect(books.balance).toBe(FUNDS * 10);
    const again = await send(bot.url, renewSubmission("V-PG-DEBIT", "kst-p1", 1, MEMBER_ID));
    expect(closedModal(again), JSON.stringify(again)).toBe(true);
    expect((await checkBooks(t.db, seeded)).balance).toBe(FUNDS * 10 - PRICE);
  });

  it("the connection of the request guard (replay check) is killed: the person still gets the modal's answer, not a bare HTTP 500", async () => {
    // A new FAQ entry is not keyed by its view id, so the guard records its signature in the
    // shared table (a renewal no longer needs that: its view id keys it).
    const bot = await startVictim();
    const entries = async () => Number((await t.db("faq_entries").count({ n: "*" }).first())?.n);
    const before = await entries();
    const release = await lockTable("seen_requests");
    const field = (f: { block: string; action: string }, value: string) => ({
      [f.block]: { [f.action]: { type: "plain_text_input", value } },
    });
    const pending = send(
      bot.url,
      viewSubmission({
        callbackId: FAQ_VIEW,
        userId: BOT_ADMIN,
        privateMetadata: "new",
        values: {
          ...field(FAQ_FIELDS.question, "Can I pay by invoice?"),
          ...field(FAQ_FIELDS.phrasings, "invoice payment"),
          ...field(FAQ_FIELDS.answer, "No: prepaid balance only."),
          ...field(FAQ_FIELDS.source, "Billing of Dedicated KMS"),
        },
      }),
    );
    await blockedOnLock();
    expect(await terminate(true)).toBeGreaterThan(0);
    const outcome = await pending;
    await release();
    // Either it went on (modal closed, saved once) or it says nothing was changed.
    if (closedModal(outcome)) expect(await entries()).toBe(before + 1);
    else {
      expect(await entries()).toBe(before);
      expect(clearRefusal(outcome), `answered ${JSON.stringify(outcome)}`).toBe(true);
    }
  });
});

describe("Slack failing around a renewal", () => {
  let s: TestBot;
  beforeEach(async () => {
    s = await startTestBot({ db: "sqlite" });
    await seedInstance(s.db, { id: "kst-a", expires_at: T0 + 20 * DAY });
    await topup(s.billing, cliActor, FUNDS);
  });
  afterEach(async () => {
    s.fake.assertNoViolations();
    await s.close();
  });

  const submit = (viewId: string) =>
    s.submit({ viewId, userId: MEMBER_ID, ...renewForm("kst-a", 1) });

  it("the confirmation DM answering HTTP 500 on every attempt: the order stays, once; a retry of the submission charges nothing", async () => {
    s.fake.failNext("chat.postMessage", { status: 500, times: 10 });
    const res = await submit("V-DM-500");
    expect(res.status).toBe(200);
    expect(res.text).toBe("");
    await s.fake.waitFor("views.publish", (c) => c.args.user_id === MEMBER_ID, 8_000);
    const attempts = s.fake.callsTo("chat.postMessage");
    expect(attempts.length).toBeGreaterThanOrEqual(1);
    expect(attempts.every((c) => c.status === 500)).toBe(true);
    const again = await submit("V-DM-500");
    expect(again.text).toBe("");
    expect(await listOrders({ tx: s.db }, "kst-a")).toHaveLength(1);
    expect(await balance(s.billing)).toBe(FUNDS - PRICE);
    await checkBooks(s.db, new Map([["kst-a", T0 + 20 * DAY]]));
  });

  it("the confirmation DM timing out (Slack answers after the client's 10 s timeout): the order stays, once, and the bot keeps serving", async () => {
    s.fake.failNext("chat.postMessage", { delayMs: 10_500 });
    const res = await submit("V-DM-SLOW");
    expect(res.text).toBe("");
    await s.fake.waitFor("views.publish", (c) => c.args.user_id === MEMBER_ID, 20_000);
    expect(await listOrders({ tx: s.db }, "kst-a")).toHaveLength(1);
    expect(await balance(s.billing)).toBe(FUNDS - PRICE);
    // Other money operations go through after it.
    const topped = await s.command("topup 10", ADMIN);
    expect(String(topped.reply.text)).toContain("Recharged USD 10.00");
    const again = await submit("V-DM-SLOW");
    expect(again.text).toBe("");
    expect(await listOrders({ tx: s.db }, "kst-a")).toHaveLength(1);
    expect(await balance(s.billing)).toBe(FUNDS - PRICE + 1_000);
    await checkBooks(s.db, new Map([["kst-a", T0 + 20 * DAY]]));
  }, 30_000);

  it("views.open answering 429 (Retry-After: 1) until the trigger id has expired: the person is told once, nothing is charged", async () => {
    s.fake.failNext("views.open", { status: 429, retryAfter: 1, times: 5 });
    await s.command("renew kst-a");
    const told = await s.fake.waitForResponse(undefined, 10_000);
    expect(told.body.response_type).toBe("ephemeral");
    expect(String(told.body.text)).toMatch(/try again|run the command again/i);
    expect(s.fake.callsTo("views.open").length).toBeGreaterThanOrEqual(2);
    expect(s.fake.callsTo("views.open").every((c) => c.status === 429)).toBe(true);
    await sleep(300);
    expect(s.fake.responses).toHaveLength(1);
    expect(s.fake.findView(RENEW_VIEW)).toBeUndefined();
    expect(await listOrders({ tx: s.db }, "kst-a")).toEqual([]);
    expect(await balance(s.billing)).toBe(FUNDS);
  });
});

describe("Slack unreachable when the bot process (re)starts", () => {
  let t: TestDatabase;
  let fake: FakeSlack;
  beforeEach(async () => {
    t = await createTestDatabase("sqlite");
    fake = await startFakeSlack();
    await seedInstanceRow(t.db, "kst-a", Date.now() + 60 * DAY);
    await topup(
      { db: t.db, clock: systemClock, timezone: "UTC", envAdmins: [BOT_ADMIN] },
      cliActor,
      FUNDS,
    );
  });
  afterEach(async () => {
    await killAllBots();
    await fake.close();
    await t.destroy();
  });

  it("keeps running through the outage and serves renewals once Slack is back", async () => {
    fake.down(true);
    const bot = await startBot({ databaseUrl: t.processUrl, fake });
    await sleep(4_000);
    expect(bot.running(), `the bot died while Slack was down:\n${bot.output()}`).toBe(true);
    fake.down(false);
    const res = await send(
      bot.url,
      renewSubmission("V-AFTER-OUTAGE", "kst-a", 1, SLACK_TEST_IDS.userId),
    );
    expect(closedModal(res), JSON.stringify(res)).toBe(true);
    expect(await t.db("orders").pluck("idempotency_key")).toEqual(["renew:V-AFTER-OUTAGE"]);
  }, 20_000);
});
