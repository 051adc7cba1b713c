// SIGTERM drains: the real bot process stops taking connections at once, lets the requests in
// flight (work after the acknowledgement included) and a running sweep finish, then exits 0.
import { connect } from "node:net";
import sqlite3 from "sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { topup } from "../../src/billing/account.js";
import { type BillingContext, cliActor } from "../../src/billing/context.js";
import { systemClock } from "../../src/clock.js";
import { parseDatabaseUrl } from "../../src/store/db.js";
import { getBalance } from "../../src/store/ledger.js";
import { createTestDatabase, DATABASES, type TestDatabase } from "../helpers/databases.js";
import { type FakeSlack, startFakeSlack } from "../helpers/fake-slack.js";
import { SLACK_TEST_IDS } from "../helpers/slack-requests.js";
import { postsPerWarningId, warnings } from "../timer/harness.js";
import {
  acceptedSubmission,
  BOT_ADMIN,
  type BotProcess,
  closedModal,
  DAY,
  killAllBots,
  renewSubmission,
  seedInstanceRow,
  send,
  sleep,
  startBot,
} from "./bot-process.js";

const MEMBER = SLACK_TEST_IDS.userId;
const FUNDS = 1_000_000;
const PRICE = 179_900;

/** Whether a new TCP connection to the port is accepted. */
function connects(port: number): Promise<"accepted" | string> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: "127.0.0.1" });
    socket.once("connect", () => {
      socket.destroy();
      resolve("accepted");
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

/** Right after the signal: new connections are refused while the process is still draining. */
async function refusedWhileRunning(bot: BotProcess): Promise<string> {
  let answer = "accepted";
  for (let i = 0; i < 40 && answer === "accepted"; i++) {
    await sleep(25);
    answer = await connects(bot.port);
  }
  expect(bot.running(), "still draining").toBe(true);
  return answer;
}

describe.each(DATABASES)("SIGTERM drains the bot (%s)", (dbId) => {
  let t: TestDatabase;
  let fake: FakeSlack;
  let ctx: BillingContext;
  let bot: BotProcess | undefined;
  const expiresAt = Date.now() + 60 * DAY;

  beforeEach(async () => {
    t = await createTestDatabase(dbId);
    fake = await startFakeSlack();
    ctx = { db: t.db, clock: systemClock, timezone: "UTC", envAdmins: [BOT_ADMIN] };
    await seedInstanceRow(t.db, "kst-a", expiresAt);
    await topup(ctx, cliActor, FUNDS);
  });
  afterEach(async () => {
    await killAllBots();
    bot = undefined;
    fake.assertNoViolations();
    await fake.close();
    await t.destroy();
  });

  it("a renewal whose confirmation DM is in flight: new connections are refused at once, the DM and App Home finish, the order is committed, exit 0", async () => {
    bot = await startBot({ databaseUrl: t.processUrl, fake });
    fake.failNext("chat.postMessage", { delayMs: 1_500 });
    const res = await send(bot.url, renewSubmission("V-TERM-1", "kst-a", 1, MEMBER));
    expect(closedModal(res)).toBe(true);
    const dm = await fake.waitFor("chat.postMessage", (c) => c.args.channel === MEMBER, 5_000);
    expect(dm.response).toBeUndefined(); // still waiting for Slack
    const signalledAt = Date.now();
    bot.child.kill("SIGTERM");
    // The process is still there, draining, and takes no new connection.
    expect(await refusedWhileRunning(bot)).toBe("ECONNREFUSED");
    const late = await send(bot.url, renewSubmission("V-TERM-LATE", "kst-a", 1, MEMBER));
    expect(late.kind).toBe("network");

    const exit = await bot.exited;
    expect(exit.code).toBe(0);
    expect(exit.signal).toBeNull();
    // It waited for Slack to answer the DM (1.5 s after it was sent), and the App Home refresh after it.
    expect(exit.at - dm.at).toBeGreaterThanOrEqual(1_400);
    expect(dm.response).toMatchObject({ ok: true });
    const home = fake.callsTo("views.publish").filter((c) => c.args.user_id === MEMBER);
    expect(home).toHaveLength(1);
    expect(home[0]?.response).toMatchObject({ ok: true });
    expect(exit.at).toBeGreaterThan(signalledAt);
    expect(bot.output()).toContain("kms-bot: SIGTERM, finishing requests in flight");
    expect(bot.output()).toContain("kms-bot: stopped");

    const orders = (await t.db("orders").select("idempotency_key", "amount_cents")).map((o) => ({
      idempotency_key: o.idempotency_key,
      amount_cents: Number(o.amount_cents),
    }));
    expect(orders).toEqual([{ idempotency_key: "renew:V-TERM-1", amount_cents: PRICE }]);
    expect(await getBalance({ tx: t.db })).toBe(FUNDS - PRICE);
    expect(String(dm.args.text)).toContain("ORD-");
  });

  it("a sweep posting a warning when SIGTERM arrives: the post completes and is recorded sent, the lease is released, exit 0", async () => {
    await seedInstanceRow(t.db, "kst-soon", Date.now() + 5 * DAY, { channel: "C0TEAM" });
    fake.failNext("chat.postMessage", { delayMs: 1_500 });
    bot = await startBot({
      databaseUrl: t.processUrl,
      fake,
      env: { KMS_SWEEP_CRON: "* * * * * *" },
    });
    const post = await fake.waitFor("chat.postMessage", (c) => c.args.channel === "C0TEAM", 5_000);
    expect(post.response).toBeUndefined();
    bot.child.kill("SIGTERM");
    const exit = await bot.exited;
    expect(exit.code).toBe(0);
    expect(exit.at - post.at).toBeGreaterThanOrEqual(1_400);
    expect(post.response).toMatchObject({ ok: true });
    const rows = await warnings(t.db);
    expect(rows.map((w) => [w.instance_id, w.kind, w.status])).toEqual([
      ["kst-soon", "pre_expiry", "sent"],
    ]);
    expect(rows[0]?.message_ts).toBe(post.response?.ts);
    expect([...postsPerWarningId(fake).values()]).toEqual([1]);
    const lease = await t.db("leases").where({ name: "sweep" }).first();
    expect(lease?.holder ?? null).toBeNull();
  });

  it.skipIf(dbId !== "sqlite")(
    "a renewal still waiting for the SQLite write lock when SIGTERM arrives is answered, committed and confirmed before exit",
    async () => {
      bot = await startBot({ databaseUrl: t.processUrl, fake });
      const file = parseDatabaseUrl(t.url)?.location ?? "";
      const locker = new sqlite3.Database(file);
      const run = (sql: string) =>
        new Promise<void>((resolve, reject) =>
          locker.run(sql, (error) => (error ? reject(error) : resolve())),
        );
      await run("BEGIN IMMEDIATE");
      const pending = send(bot.url, renewSubmission("V-TERM-LOCK", "kst-a", 2, MEMBER));
      await sleep(300);
      bot.child.kill("SIGTERM");
      expect(await refusedWhileRunning(bot)).toBe("ECONNREFUSED");
      await sleep(700);
      await run("COMMIT");
      await new Promise<void>((resolve) => locker.close(() => resolve()));
      const res = await pending;
      const answeredAt = Date.now();
      expect(acceptedSubmission(res)).toBe(true);
      const exit = await bot.exited;
      expect(exit.at - answeredAt).toBeLessThan(10_000);
      expect(exit.code).toBe(0);
      const dm = fake.callsTo("chat.postMessage").filter((c) => c.args.channel === MEMBER);
      expect(dm).toHaveLength(1);
      expect(dm[0]?.response).toMatchObject({ ok: true });
      expect(await t.db("orders").pluck("idempotency_key")).toEqual(["renew:V-TERM-LOCK"]);
      expect(await getBalance({ tx: t.db })).toBe(FUNDS - 2 * PRICE);
    },
  );
});
