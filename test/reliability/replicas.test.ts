// Two bot processes on one PostgreSQL schema behind one URL (a round-robin proxy), each
// sweeping every second, with `kms-bot sweep` processes alongside: interleaved renewals (some
// the same view id sent to both), topups and sweeps. No double charge, no double warning, no
// lost update.
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { topup } from "../../src/billing/account.js";
import { type BillingContext, cliActor } from "../../src/billing/context.js";
import { systemClock } from "../../src/clock.js";
import { type ProcessResult, startCli } from "../helpers/cli-process.js";
import { createTestDatabase, PG_URL, type TestDatabase } from "../helpers/databases.js";
import { type FakeSlack, startFakeSlack } from "../helpers/fake-slack.js";
import { SLACK_TEST_IDS } from "../helpers/slack-requests.js";
import { cliEnv, postsAbout, postsPerWarningId, warnings } from "../timer/harness.js";
import {
  acceptedSubmission,
  BOT_ADMIN,
  checkBooks,
  DAY,
  killAllBots,
  type Outcome,
  renewSubmission,
  seededRandom,
  seedInstanceRow,
  send,
  sleep,
  startBot,
  topupBy,
} from "./bot-process.js";

const MEMBER = SLACK_TEST_IDS.userId;
const FUNDS = 50_000_000;
const TOPUP_CENTS = 50_000;

/** A round-robin HTTP proxy on 127.0.0.1 in front of `backends`; counts what each one got. */
async function roundRobin(backends: string[]): Promise<{
  url: string;
  served: number[];
  close(): Promise<void>;
}> {
  const served = backends.map(() => 0);
  let next = 0;
  const server: Server = createServer((req, res) => {
    const index = next++ % backends.length;
    served[index] = (served[index] ?? 0) + 1;
    const target = new URL(req.url ?? "/", backends[index]);
    const upstream = httpRequest(
      target,
      { method: req.method, headers: { ...req.headers, host: target.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    served,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe.skipIf(!PG_URL)("two bot replicas on one PostgreSQL database", () => {
  let t: TestDatabase;
  let fake: FakeSlack;
  let ctx: BillingContext;
  const seeded = new Map<string, number>();
  const RENEWABLE = ["kst-r1", "kst-r2", "kst-r3"];
  const WARNED = ["kst-w1", "kst-w2", "kst-w3", "kst-w4"];
  const AUTO = ["kst-auto1", "kst-auto2"];

  beforeEach(async () => {
    t = await createTestDatabase("postgres");
    fake = await startFakeSlack();
    ctx = { db: t.db, clock: systemClock, timezone: "UTC", envAdmins: [BOT_ADMIN] };
    seeded.clear();
    const now = Date.now();
    const seed = async (id: string, at: number, extra: Record<string, unknown> = {}) => {
      seeded.set(id, at);
      await seedInstanceRow(t.db, id, at, extra);
    };
    for (const id of RENEWABLE) await seed(id, now + 60 * DAY);
    for (const [i, id] of WARNED.entries())
      await seed(id, now + 5 * DAY, { channel: `C0REP${i % 2}` });
    // Due for auto-renewal (3 days before expiry has passed).
    for (const [i, id] of AUTO.entries())
      await seed(id, now + 2 * DAY, { channel: `C0AUTO${i}`, auto_renew_months: 1 });
    await topup(ctx, cliActor, FUNDS);
  });
  afterEach(async () => {
    await killAllBots();
    fake.assertNoViolations();
    await fake.close();
    await t.destroy();
  });

  it("interleaved renewals, duplicate submissions to both, topups and sweeps: one order per view id, one post per warning, balance == topups - charges == ledger", async () => {
    const env = { KMS_SWEEP_CRON: "* * * * * *" };
    const [a, b] = await Promise.all([
      startBot({ databaseUrl: t.processUrl, fake, env }),
      startBot({ databaseUrl: t.processUrl, fake, env }),
    ]);
    const proxy = await roundRobin([a.url, b.url]);
    const random = seededRandom(7);
    const sweeps: Array<Promise<ProcessResult>> = [];
    const cliSweeps = (n: number) => {
      for (let i = 0; i < n; i++) sweeps.push(startCli(["sweep"], cliEnv(t, fake)).done);
    };
    cliSweeps(3);

    const renewals = new Map<string, { instanceId: string; months: number }>();
    const outcomes: Array<[string, Outcome]> = [];
    let n = 0;
    const renewWorker = async () => {
      while (n < 24) {
        n += 1;
        const viewId = `V-REP-${n}`;
        const instanceId = RENEWABLE[Math.floor(random() * RENEWABLE.length)] ?? "kst-r1";
        const months = 1 + Math.floor(random() * 2);
        renewals.set(viewId, { instanceId, months });
        outcomes.push([
          viewId,
          await send(proxy.url, renewSubmission(viewId, instanceId, months, MEMBER)),
        ]);
        if (n === 12) cliSweeps(3);
      }
    };
    // The same submission delivered to both replicas at once, and once more through the proxy.
    const duplicates = async () => {
      for (let k = 1; k <= 6; k++) {
        const viewId = `V-DUP-${k}`;
        const instanceId = RENEWABLE[k % RENEWABLE.length] ?? "kst-r1";
        renewals.set(viewId, { instanceId, months: 1 });
        const sent = await Promise.all(
          [a.url, b.url, proxy.url].map((url) =>
            send(url, renewSubmission(viewId, instanceId, 1, MEMBER)),
          ),
        );
        for (const o of sent) outcomes.push([viewId, o]);
      }
    };
    const triggers: string[] = [];
    const topups = async () => {
      for (let k = 1; k <= 8; k++) {
        const trigger = `TRG-REP-${k}`;
        triggers.push(trigger);
        const sent = [topupBy(fake, proxy.url, trigger, "500")];
        // A retried delivery of the same command reaches the other replica.
        if (k % 3 === 0) sent.push(topupBy(fake, k % 2 ? a.url : b.url, trigger, "500"));
        for (const o of await Promise.all(sent)) {
          expect(o.kind === "said" ? o.text : o.error).toMatch(
            /(Already recharged|Recharged) USD 500\.00/,
          );
        }
      }
    };
    await Promise.all([renewWorker(), renewWorker(), renewWorker(), duplicates(), topups()]);
    await Promise.all(sweeps);

    // Let the replicas' own sweeps deliver what is due (paced one post per second per channel).
    const deadline = Date.now() + 12_000;
    const settled = async () => {
      const rows = await warnings(t.db);
      const receipts = rows.filter((w) => w.kind === "autorenew_ok" && w.status === "sent");
      const warned = WARNED.every((id) =>
        rows.some((w) => w.instance_id === id && w.status === "sent"),
      );
      return warned && receipts.length === AUTO.length && !rows.some((w) => w.status === "pending");
    };
    while (!(await settled()) && Date.now() < deadline) await sleep(200);

    a.child.kill("SIGTERM");
    b.child.kill("SIGTERM");
    expect((await a.exited).code).toBe(0);
    expect((await b.exited).code).toBe(0);
    await proxy.close();
    expect(proxy.served.every((count) => count > 10)).toBe(true);

    // Every submission closed its modal: none was refused.
    expect(outcomes.filter(([, o]) => !acceptedSubmission(o))).toEqual([]);

    const books = await checkBooks(t.db, seeded);
    // No double charge: one order per view id, one auto-renewal per due instance.
    const perKey = new Map<string, number>();
    for (const o of books.orders)
      perKey.set(String(o.idempotency_key), (perKey.get(String(o.idempotency_key)) ?? 0) + 1);
    expect([...perKey.values()].every((count) => count === 1)).toBe(true);
    // Auto-renewal keys name the period and the attempt (`autorenew:<id>:<expiry>:<slot>`):
    // one order per period is what counts here.
    const period = (key: string) => key.replace(/^(autorenew:[^:]+:\d+):\d+$/, "$1");
    expect([...perKey.keys()].map(period).sort()).toEqual(
      [
        ...[...renewals.keys()].map((v) => `renew:${v}`),
        ...AUTO.map((id) => `autorenew:${id}:${seeded.get(id)}`),
      ].sort(),
    );
    for (const [viewId, r] of renewals) {
      const order = books.orders.find((o) => o.idempotency_key === `renew:${viewId}`);
      expect(order?.instance_id).toBe(r.instanceId);
      expect(order?.amount_cents).toBe(179_900 * r.months);
    }
    // One confirmation DM per renewal order; the duplicates' replays are silent.
    const dms = fake
      .callsTo("chat.postMessage")
      .filter((c) => c.args.channel === MEMBER && c.response?.ok === true);
    expect(dms).toHaveLength(renewals.size);
    const labels = dms.map((c) => /ORD-\d+/.exec(String(c.args.text))?.[0]);
    expect(new Set(labels).size).toBe(renewals.size);

    // No lost update: every topup counted once, and the balance is what they and the charges make.
    const keyed = books.recharges.filter((r) => r.idempotency_key !== null);
    expect(keyed.map((r) => r.idempotency_key).sort()).toEqual(
      triggers.map((k) => `topup:${k}`).sort(),
    );
    const charged = books.orders.reduce((sum, o) => sum + o.amount_cents, 0);
    expect(books.balance).toBe(FUNDS + triggers.length * TOPUP_CENTS - charged);
    expect(books.ledgerSum).toBe(books.balance);

    // No double warning: each warning id posted once; each warned instance warned once; each
    // auto-renewal receipt posted once.
    const rows = await warnings(t.db);
    expect(rows.filter((w) => w.status === "pending")).toEqual([]);
    const perId = postsPerWarningId(fake);
    expect([...perId.entries()].filter(([, count]) => count !== 1)).toEqual([]);
    expect([...perId.keys()].sort()).toEqual(
      rows
        .filter((w) => w.status === "sent")
        .map((w) => String(w.id))
        .sort(),
    );
    for (const id of WARNED) expect(postsAbout(fake, id), id).toHaveLength(1);
    for (const id of AUTO) {
      expect(
        rows.filter((w) => w.instance_id === id && w.kind === "autorenew_ok").map((w) => w.status),
      ).toEqual(["sent"]);
    }
  }, 60_000);

  it("a person renews while another replica's sweep is about to auto-renew the same instance: the period is renewed once", async () => {
    const id = AUTO[0] ?? "kst-auto1";
    const botApp = `kms_race_bot_${t.schema}`;
    const sweepApp = `kms_race_sweep_${t.schema}`;
    const bot = await startBot({
      databaseUrl: `${t.processUrl}&application_name=${botApp}`,
      fake,
    });
    // Hold the instance row so both the renewal and the sweep's auto-renewal queue behind it,
    // the person's first, the sweep having already read the instance as due.
    const holder = await t.db.transaction();
    await holder("instances").where({ id }).forUpdate().first();
    const waitingOnLock = async (applicationName: string) => {
      for (let i = 0; i < 200; i++) {
        // Not from the holder's transaction: pg_stat_activity is a snapshot per transaction.
        const r = await t.db.raw(
          "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = ? AND wait_event_type = 'Lock' AND query ILIKE '%instances%'",
          [applicationName],
        );
        if (Number(r.rows[0]?.n ?? 0) > 0) return;
        await sleep(25);
      }
      throw new Error(`${applicationName} never waited on the instance`);
    };
    let manual: Promise<Outcome> | undefined;
    let sweeper: Promise<ProcessResult> | undefined;
    try {
      manual = send(bot.url, renewSubmission("V-RACE", id, 1, MEMBER));
      await waitingOnLock(botApp);
      sweeper = startCli(["sweep"], {
        ...cliEnv(t, fake),
        DATABASE_URL: `${t.processUrl}&application_name=${sweepApp}`,
      }).done;
      await waitingOnLock(sweepApp);
    } finally {
      await holder.commit();
    }
    expect(acceptedSubmission(await manual)).toBe(true);
    const swept = await sweeper;
    expect(swept.code, swept.stderr).toBe(0);

    const books = await checkBooks(t.db, seeded);
    const mine = books.orders.filter((o) => o.instance_id === id);
    // The person's renewal moved the expiry a month out: an auto-renewal is no longer due.
    expect(
      mine.map((o) => o.idempotency_key),
      "orders for the instance",
    ).toEqual(["renew:V-RACE"]);
  });
});
