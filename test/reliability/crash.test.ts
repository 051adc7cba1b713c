// kill -9 of the real bot process at seeded random points while renewals, topups and sweeps
// stream in, then a restart on the same database: nothing half-written, nothing charged twice,
// every "done" the person saw is in the books, and no warning lost or doubled.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { topup } from "../../src/billing/account.js";
import { type BillingContext, cliActor } from "../../src/billing/context.js";
import { systemClock } from "../../src/clock.js";
import { slackPoster } from "../../src/timer/poster.js";
import { sweep } from "../../src/timer/sweep.js";
import { type ProcessResult, startCli } from "../helpers/cli-process.js";
import { createTestDatabase, DATABASES, type TestDatabase } from "../helpers/databases.js";
import { type FakeSlack, startFakeSlack } from "../helpers/fake-slack.js";
import { SLACK_TEST_IDS } from "../helpers/slack-requests.js";
import {
  cliEnv,
  okPosts,
  postsAbout,
  postsPerWarningId,
  SETTINGS,
  warnings,
} from "../timer/harness.js";
import {
  acceptedSubmission,
  BOT_ADMIN,
  type BotProcess,
  checkBooks,
  closedModal,
  DAY,
  killAllBots,
  MINUTE,
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
const RENEWABLE = ["kst-r1", "kst-r2", "kst-r3"];
// Two channels, three warnings each: paced at one post per second per channel, a sweep that
// posts them takes a few seconds, so kills land in the middle of one.
const WARNED = ["kst-w1", "kst-w2", "kst-w3", "kst-w4", "kst-w5", "kst-w6"];
/** USD 50,000,000.00 in five top-ups (the largest one allowed): renewals never run short, however fast the bot. */
const FUNDS = 5 * 1_000_000_000;
const KILLS = 3;
const SEED = 20_261_126;

describe.each(DATABASES)("kill -9 of the bot during a stream of money operations (%s)", (dbId) => {
  let t: TestDatabase;
  let fake: FakeSlack;
  let ctx: BillingContext;
  const seeded = new Map<string, number>();

  beforeEach(async () => {
    t = await createTestDatabase(dbId);
    fake = await startFakeSlack();
    ctx = { db: t.db, clock: systemClock, timezone: "UTC", envAdmins: [BOT_ADMIN] };
    const now = Date.now();
    seeded.clear();
    for (const id of RENEWABLE) {
      seeded.set(id, now + 60 * DAY);
      await seedInstanceRow(t.db, id, now + 60 * DAY);
    }
    for (const [i, id] of WARNED.entries()) {
      seeded.set(id, now + 5 * DAY);
      await seedInstanceRow(t.db, id, now + 5 * DAY, { channel: `C0WARN${i % 2}` });
    }
    for (let i = 0; i < 5; i++) await topup(ctx, cliActor, FUNDS / 5);
  });
  afterEach(async () => {
    await killAllBots();
    fake.assertNoViolations();
    await fake.close();
    await t.destroy();
  });

  it("restarts with the ledger equal to the balance, one charge per order, expiries matching orders, re-submissions charging nothing and each warning posted once", async () => {
    const random = seededRandom(SEED + (dbId === "postgres" ? 1 : 0));
    const renewals = new Map<string, { instanceId: string; months: number }>();
    const topups = new Set<string>();
    const confirmedRenewals: string[] = [];
    const confirmedTopups: string[] = [];
    let seq = 0;

    for (let round = 0; round < KILLS; round++) {
      const bot: BotProcess = await startBot({
        databaseUrl: t.processUrl,
        fake,
        // A sweep every second inside the bot, so kills also land mid-sweep.
        env: { KMS_SWEEP_CRON: "* * * * * *" },
      });
      // Slow posts (warnings and DMs alike) widen the window in which a kill interrupts one.
      fake.failNext("chat.postMessage", { delayMs: 300, times: 3 });
      let stop = false;
      const worker = async () => {
        while (!stop) {
          seq += 1;
          let outcome: Outcome;
          if (random() < 0.8) {
            const viewId = `V-CRASH-${round}-${seq}`;
            const instanceId = RENEWABLE[Math.floor(random() * RENEWABLE.length)] ?? "kst-r1";
            const months = 1 + Math.floor(random() * 3);
            renewals.set(viewId, { instanceId, months });
            outcome = await send(bot.url, renewSubmission(viewId, instanceId, months, MEMBER));
            if (closedModal(outcome)) confirmedRenewals.push(viewId);
          } else {
            const trigger = `TRG-CRASH-${round}-${seq}`;
            topups.add(trigger);
            const topped = await topupBy(fake, bot.url, trigger, "100");
            if (topped.kind === "network") return; // the bot is gone
            if (/Recharged/.test(topped.text)) confirmedTopups.push(trigger);
            continue;
          }
          if (outcome.kind === "network") return; // the bot is gone
        }
      };
      const workers = [worker(), worker(), worker()];
      const sweeps: Array<Promise<ProcessResult>> = [];
      const sweepAfter = random() * 600;
      const sweeper = sleep(sweepAfter).then(() => {
        sweeps.push(startCli(["sweep"], cliEnv(t, fake)).done);
      });
      await sleep(400 + random() * 1_000);
      const exit = await bot.kill();
      expect(exit.signal).toBe("SIGKILL");
      stop = true;
      await Promise.all(workers);
      await sweeper;
      await Promise.all(sweeps);
      // Straight after the crash, before any restart: the books hold together.
      await checkBooks(t.db, seeded);
    }

    expect(renewals.size).toBeGreaterThan(5);
    const bot = await startBot({ databaseUrl: t.processUrl, fake });
    const before = await checkBooks(t.db, seeded);
    const orderOf = (books: typeof before, viewId: string) =>
      books.orders.filter((o) => o.idempotency_key === `renew:${viewId}`);

    // Everything the person was told was done is in the books.
    const lost = confirmedRenewals.filter((v) => orderOf(before, v).length !== 1);
    expect(lost, "confirmed renewals without exactly one order").toEqual([]);
    const rechargeKeys = new Set(before.recharges.map((r) => r.idempotency_key));
    expect(confirmedTopups.filter((k) => !rechargeKeys.has(`topup:${k}`))).toEqual([]);
    // No order other than the renewals sent (one per view id at most).
    expect(before.orders.every((o) => renewals.has(String(o.idempotency_key).slice(6)))).toBe(true);

    // Re-submit every view id: the ones already charged charge nothing; the ones the crash
    // cut off before their commit are charged now, once.
    const dmsBefore = fake.callsTo("chat.postMessage").filter((c) => c.args.channel === MEMBER);
    const uncharged = [...renewals.keys()].filter((v) => orderOf(before, v).length === 0);
    const resubmit = async () => {
      const results: Outcome[] = [];
      for (const [viewId, r] of renewals) {
        results.push(await send(bot.url, renewSubmission(viewId, r.instanceId, r.months, MEMBER)));
      }
      return results;
    };
    const first = await resubmit();
    expect(first.filter((o) => !acceptedSubmission(o))).toEqual([]);
    const afterFirst = await checkBooks(t.db, seeded);
    for (const viewId of renewals.keys()) expect(orderOf(afterFirst, viewId)).toHaveLength(1);
    // Orders that existed are untouched; only the cut-off ones were added.
    expect(afterFirst.orders.slice(0, before.orders.length)).toEqual(before.orders);
    const added = afterFirst.orders.slice(before.orders.length);
    expect(added.map((o) => String(o.idempotency_key).slice(6)).sort()).toEqual(
      [...uncharged].sort(),
    );
    expect(afterFirst.balance).toBe(
      before.balance - added.reduce((sum, o) => sum + o.amount_cents, 0),
    );
    // Only the new orders are confirmed by DM; replays are silent.
    const deadline = Date.now() + 5_000;
    const newDms = () =>
      fake.callsTo("chat.postMessage").filter((c) => c.args.channel === MEMBER).length -
      dmsBefore.length;
    while (newDms() < added.length && Date.now() < deadline) await sleep(50);
    await sleep(200);
    expect(newDms()).toBe(added.length);

    // A second round changes nothing at all.
    const second = await resubmit();
    expect(second.filter((o) => !acceptedSubmission(o))).toEqual([]);
    const afterSecond = await checkBooks(t.db, seeded);
    expect(afterSecond).toEqual(afterFirst);

    // Topups sent again: applied at most once per trigger id.
    for (const trigger of topups) {
      const again = await topupBy(fake, bot.url, trigger, "100");
      const said = again.kind === "said" ? again.text : again.error;
      expect(said).toMatch(/(Already recharged|Recharged) USD 100\.00/);
    }
    const afterTopups = await checkBooks(t.db, seeded);
    const keyed = afterTopups.recharges.filter((r) => r.idempotency_key !== null);
    expect(keyed.map((r) => r.idempotency_key).sort()).toEqual(
      [...topups].map((k) => `topup:${k}`).sort(),
    );
    expect(afterTopups.balance).toBe(
      FUNDS + 100_00 * topups.size - afterTopups.orders.reduce((sum, o) => sum + o.amount_cents, 0),
    );

    // Warnings: stop the bot cleanly, then a sweep once the dead sweepers' leases and claims
    // have run out (wall clock +6 minutes) settles them: none lost, none posted twice.
    bot.child.kill("SIGTERM");
    expect((await bot.exited).code).toBe(0);
    const poster = slackPoster(fake.botToken, fake.url);
    const later = { sleep: async () => {}, wallClock: () => Date.now() + 6 * MINUTE };
    await sweep(ctx, SETTINGS, poster, later);
    await sweep(ctx, SETTINGS, poster, later);
    const rows = await warnings(t.db);
    expect(rows.filter((w) => w.status === "pending")).toEqual([]);
    for (const id of WARNED) {
      expect(
        rows.filter((w) => w.instance_id === id && w.status === "sent").map((w) => w.kind),
      ).toEqual(["pre_expiry"]);
      expect(postsAbout(fake, id), `posts about ${id}`).toHaveLength(1);
    }
    const perId = postsPerWarningId(fake);
    expect([...perId.entries()].filter(([, n]) => n !== 1)).toEqual([]);
    const sent = rows.filter((w) => w.status === "sent").map((w) => String(w.id));
    expect([...perId.keys()].sort()).toEqual(sent.sort());
    expect(okPosts(fake).filter((c) => c.args.channel !== MEMBER)).toHaveLength(sent.length);
  }, 60_000);
});
