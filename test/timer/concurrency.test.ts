import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { BillingContext } from "../../src/billing/context.js";
import { slackPoster } from "../../src/timer/poster.js";
import { type SweepOptions, type SweepSummary, sweep } from "../../src/timer/sweep.js";
import { billingContext, DAY_MS, fund, seedInstance, T0 } from "../helpers/billing.js";
import { runCliProcess } from "../helpers/cli-process.js";
import { createTestDatabase, DATABASES, type TestDatabase } from "../helpers/databases.js";
import { type FakeSlack, startFakeSlack } from "../helpers/fake-slack.js";
import {
  cliEnv,
  count,
  HOUR,
  iso,
  NO_SLEEP,
  okPosts,
  postsAbout,
  SETTINGS,
  tally,
  timerAudit,
  warnings,
} from "./harness.js";

const PRICE = 179_900;
const AT = T0 + HOUR;

/** Instance id -> channel; each gets exactly one message at AT. */
const FLEET: Record<string, string> = {
  "kst-p1": "C0TEAM",
  "kst-p2": "C0P2",
  "kst-p3": "C0P3",
  "kst-p4": "C0P4",
  "kst-x1": "C0OTHER", // expired 3 days ago
  "kst-r1": "C0OTHER", // past its release
  "kst-auto": "C0TEAM", // auto-renews (the balance would cover two renewals)
};

async function seedFleet(t: TestDatabase, ctx: BillingContext): Promise<void> {
  for (const [i, id] of ["kst-p1", "kst-p2", "kst-p3", "kst-p4"].entries()) {
    await seedInstance(t.db, { id, expires_at: T0 + (5 + i) * DAY_MS, channel: FLEET[id] });
  }
  await seedInstance(t.db, { id: "kst-x1", expires_at: T0 - 3 * DAY_MS, channel: FLEET["kst-x1"] });
  await seedInstance(t.db, {
    id: "kst-r1",
    expires_at: T0 - 20 * DAY_MS,
    channel: FLEET["kst-r1"],
  });
  await seedInstance(t.db, {
    id: "kst-auto",
    expires_at: T0 + 2 * DAY_MS,
    channel: FLEET["kst-auto"],
    auto_renew_months: 1,
  });
  await fund(ctx, 2 * PRICE + 10_000);
}

describe.each(DATABASES)("expiry timer: concurrent sweepers (%s)", (db) => {
  let t: TestDatabase;
  let fake: FakeSlack;
  let ctx: BillingContext;
  const handle = (holder: string): [BillingContext, SweepOptions] => [
    billingContext(t.another(), AT),
    { ...NO_SLEEP, holder },
  ];
  const poster = () => slackPoster(fake.botToken, fake.url);

  beforeEach(async () => {
    t = await createTestDatabase(db);
    fake = await startFakeSlack();
    ctx = billingContext(t.db, AT);
    await seedFleet(t, ctx);
  });
  afterEach(async () => {
    fake.assertNoViolations();
    await fake.close();
    await t.destroy();
  });

  /** Every instance got exactly one message, every warning is settled, each change happened once. */
  async function expectEachOnce(): Promise<void> {
    const perInstance = Object.fromEntries(
      Object.keys(FLEET).map((id) => [id, postsAbout(fake, id).length]),
    );
    expect(perInstance).toEqual(Object.fromEntries(Object.keys(FLEET).map((id) => [id, 1])));
    expect(okPosts(fake)).toHaveLength(Object.keys(FLEET).length);
    for (const [id, channel] of Object.entries(FLEET)) {
      expect(postsAbout(fake, id)[0]?.args.channel, id).toBe(channel);
    }
    const rows = await warnings(t.db);
    expect(rows.filter((w) => w.status === "pending")).toEqual([]);
    const sent = rows.filter((w) => w.status === "sent");
    expect(sent).toHaveLength(Object.keys(FLEET).length);
    expect(new Set(sent.map((w) => w.message_ts)).size).toBe(sent.length);
    expect(tally(await timerAudit(t.db))).toEqual({
      "instance.expired kst-x1": 1,
      "instance.released kst-r1": 1,
      "instance.renew kst-auto": 1,
    });
    expect(await count(t.db, "orders")).toBe(1);
    const balance = await t.db("accounts").first();
    expect(Number(balance?.balance_cents)).toBe(PRICE + 10_000);
  }

  it("two sweeps at once on separate handles post every warning once and change everything once", async () => {
    const [a, aOptions] = handle("sweeper-a");
    const [b, bOptions] = handle("sweeper-b");
    for (let round = 0; round < 3; round++) {
      const results = await Promise.all([
        sweep(a, SETTINGS, poster(), aOptions),
        sweep(b, SETTINGS, poster(), bOptions),
      ]);
      if (round === 0) {
        expect(results.reduce((n, r) => n + r.posted, 0)).toBe(Object.keys(FLEET).length);
      }
    }
    await expectEachOnce();
  });

  it("a sweep that outlives its lease: the next sweeper runs alongside it and still posts nothing twice", async () => {
    const [a, aOptions] = handle("sweeper-a");
    const [b, bOptions] = handle("sweeper-b");
    let second: SweepSummary | undefined;
    const first = await sweep(a, SETTINGS, poster(), {
      ...aOptions,
      // While the first sweeper waits between two posts to one channel, its lease runs out
      // and a second sweeper does a whole sweep.
      sleep: async () => {
        if (second) return;
        await t.db("leases").where({ name: "sweep" }).update({ expires_at: 0 });
        second = await sweep(b, SETTINGS, poster(), bOptions);
      },
    });
    expect(second?.skipped).toBeUndefined();
    expect(first.posted + (second?.posted ?? 0)).toBe(Object.keys(FLEET).length);
    expect(second?.posted).toBeGreaterThan(0);
    await expectEachOnce();
  });

  it("the bot and `kms-bot sweep` at once post every warning once", async () => {
    fake.failNext("chat.postMessage", { delayMs: 100, times: 8 });
    const cli = runCliProcess(["sweep", "--at", iso(AT)], cliEnv(t, fake));
    let done = false;
    void cli.then(() => {
      done = true;
    });
    const inProcess: SweepSummary[] = [];
    while (!done) {
      inProcess.push(await sweep(ctx, SETTINGS, poster(), NO_SLEEP));
      await new Promise((r) => setTimeout(r, 20));
    }
    const result = await cli;
    expect(result.stderr).not.toMatch(/Error|error:/);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/sweep \S+: (skipped|checked \d+, transitioned \d+)/);
    // Whichever lost the race for the lease did nothing; together they did everything once.
    const posted = inProcess.reduce((n, r) => n + r.posted, 0);
    const cliPosted = Number(/posted (\d+)/.exec(result.stdout)?.[1] ?? 0);
    expect(posted + cliPosted).toBe(Object.keys(FLEET).length);
    await sweep(ctx, SETTINGS, poster(), NO_SLEEP);
    await expectEachOnce();
  });

  it("`kms-bot sweep` running while the bot's sweep is mid-delivery (lease run out) posts nothing twice", async () => {
    let cli: Awaited<ReturnType<typeof runCliProcess>> | undefined;
    const bot = await sweep(ctx, SETTINGS, poster(), {
      sleep: async () => {
        if (cli) return;
        // The bot holds a claim on the warning it is about to post; its lease has run out.
        await t.db("leases").where({ name: "sweep" }).update({ expires_at: 0 });
        cli = await runCliProcess(["sweep", "--at", iso(AT)], cliEnv(t, fake));
      },
    });
    expect(cli?.code, `${cli?.stdout}${cli?.stderr}`).toBe(0);
    const cliPosted = Number(/posted (\d+)/.exec(cli?.stdout ?? "")?.[1] ?? -1);
    expect(cliPosted).toBeGreaterThan(0);
    expect(bot.posted + cliPosted).toBe(Object.keys(FLEET).length);
    await expectEachOnce();
  });
});
