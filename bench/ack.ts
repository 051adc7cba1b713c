import { startFakeSlack } from "../test/helpers/fake-slack.js";
import { type SlackRequest, slashCommand } from "../test/helpers/slack-requests.js";
import { benchInstanceId, createBenchDb, fund, seedInstances } from "./lib/db.js";
import { type LoadResult, runLoad } from "./lib/load.js";
import type { BenchOptions } from "./lib/options.js";
import {
  BARE_MAIN,
  QUIET_CRON,
  type Server,
  SIGNING_SECRET,
  spawnServer,
  waitForHttp,
} from "./lib/proc.js";
import { fmt, judge, pct, percentile, printTable } from "./lib/table.js";

/** How long the bot takes to answer GET /healthz (which runs `select 1`). */
async function healthzMs(server: Server): Promise<number> {
  const start = performance.now();
  const res = await fetch(`${server.url}/healthz`);
  await res.arrayBuffer();
  return performance.now() - start;
}

/** What the post-acknowledgement work of `/kms renew` achieved: opening the modal. */
interface ModalOutcome {
  expected: number;
  opened: number;
  failed: Record<string, number>;
  /** From the trigger id being issued (the request being built) to views.open reaching Slack. */
  lagP50: number;
  lagP99: number;
  drainS: number;
}

/**
 * 1. Acknowledgement latency and throughput of signed `/kms status` and `/kms renew <id>`
 * against a bare Bolt app that only acks, at 1, 10 and 50 connections.
 */
export async function ackBench(options: BenchOptions): Promise<void> {
  const fleetSize = options.quick ? 200 : 10_000;
  const durationS = options.quick ? 1 : 8;
  const warmupS = options.quick ? 0.5 : 2;
  const connectionCounts = [1, 10, 50];
  console.log(
    `\n## 1. Acknowledgement (SQLite, ${fmt(fleetSize, 0)} instances, ${durationS} s per run, ` +
      `bot and bare app each a separate process; autocannon and the fake Slack in the bench process)`,
  );

  const fake = await startFakeSlack();
  const bench = await createBenchDb("sqlite", { name: "ack" });
  const servers: Server[] = [];
  try {
    await seedInstances(bench.db, { count: fleetSize, dueEvery: 0, now: Date.now() });
    await fund(bench.db, 1_000_000);
    await bench.closeHandles();

    const bare = await spawnServer({ main: BARE_MAIN, slackApiUrl: fake.url, name: "bare" });
    servers.push(bare);
    const bot = await spawnServer({
      databaseUrl: bench.url,
      slackApiUrl: fake.url,
      name: "bot-ack",
      cpuProfDir: options.cpuProfDir,
    });
    servers.push(bot);
    await Promise.all([waitForHttp(bare, "/healthz"), waitForHttp(bot, "/healthz")]);

    let seq = 0;
    let renewsSent = 0;
    const status = (): SlackRequest =>
      slashCommand({ text: "status", triggerId: `bench.${++seq}.${Date.now()}` });
    const renew = (): SlackRequest => {
      renewsSent++;
      return slashCommand({
        text: `renew ${benchInstanceId(++seq % fleetSize)}`,
        triggerId: fake.newTriggerId(),
        responseUrl: fake.newResponseUrl(),
      });
    };
    const help = (): SlackRequest =>
      slashCommand({ text: "help", triggerId: `bench.${++seq}.${Date.now()}` });
    const helpOk = (body: string) => body.includes("/kms");
    const statusOk = (body: string) => body.includes(`${fleetSize} Dedicated KMS instance(s)`);
    const renewOk = (body: string) => !body.includes("already handled");

    const load = (
      server: Server,
      next: () => SlackRequest,
      connections: number,
      seconds: number,
      check?: (b: string) => boolean,
    ) =>
      runLoad({
        url: server.url,
        connections,
        durationS: seconds,
        next,
        signingSecret: SIGNING_SECRET,
        check,
      });

    /**
     * Waits until the bot has called views.open for every renewal sent since `from` (those
     * acknowledged, and those autocannon abandoned in flight when the run ended: the bot
     * still handles them), or nothing moved for 5 s.
     */
    let callsSeen = 0;
    const drainModals = async (): Promise<ModalOutcome> => {
      const start = performance.now();
      const expected = renewsSent;
      renewsSent = 0;
      let last = -1;
      let stableSince = performance.now();
      const current = () =>
        fake.calls
          .slice(callsSeen)
          .filter((c) => c.method === "views.open" && c.status !== undefined);
      for (;;) {
        const n = current().length;
        if (n !== last) {
          last = n;
          stableSince = performance.now();
        }
        const waited = performance.now();
        if (n >= expected || waited - start > 120_000) break;
        // Quiet for a second: done if the bot answers /healthz (a query) promptly, i.e. its
        // database queue is empty and no modal is still being built.
        if (waited - stableSince > 1_000 && (await healthzMs(bot)) < 100) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const calls = current();
      callsSeen = fake.calls.length;
      const failed: Record<string, number> = {};
      const lags: number[] = [];
      let opened = 0;
      for (const call of calls) {
        const issuedAt = Number(String(call.args.trigger_id).split(".")[1]);
        if (Number.isFinite(issuedAt)) lags.push(call.at - issuedAt);
        if (call.response?.ok === true) opened++;
        else {
          const error = String(call.response?.error ?? "no answer");
          failed[error] = (failed[error] ?? 0) + 1;
        }
      }
      const missing = expected - calls.length;
      if (missing > 0) failed["never called"] = missing;
      return {
        expected,
        opened,
        failed,
        lagP50: percentile(lags, 50),
        lagP99: percentile(lags, 99),
        drainS: (performance.now() - start) / 1000,
      };
    };

    // Warm-up (JIT, connection pools, the bot's one auth.test), not reported.
    await load(bare, status, 10, warmupS);
    await load(bot, help, 10, warmupS);
    await load(bot, status, 10, warmupS);
    await load(bot, renew, 10, warmupS);
    await drainModals();

    const rows: Array<Array<string | number>> = [];
    const modalRows: Array<Array<string | number>> = [];
    const problems: string[] = [];
    let broken = 0;
    for (const connections of connectionCounts) {
      const base = await load(bare, status, connections, durationS);
      const hp = await load(bot, help, connections, durationS, helpOk);
      const st = await load(bot, status, connections, durationS, statusOk);
      const rn = await load(bot, renew, connections, durationS, renewOk);
      const modal = await drainModals();
      const row = (name: string, r: LoadResult) => {
        const ratio = name === "bare Bolt app" ? 1 : r.rps / base.rps;
        rows.push([
          name,
          connections,
          fmt(r.rps, 1),
          fmt(r.p50, 2),
          fmt(r.p99, 2),
          fmt(r.max, 1),
          pct(ratio),
          fmt(r.p99 / base.p99, 1),
          `${r.notAcked}/${r.otherNon2xx}/${r.errors}/${r.wrong}`,
        ]);
        broken += r.otherNon2xx + r.wrong;
        if (r.otherNon2xx + r.errors + r.wrong > 0)
          problems.push(
            `${name} at ${connections}: ${r.otherNon2xx} non-2xx other than 404, ${r.errors} errors, ${r.wrong} wrong bodies`,
          );
      };
      row("bare Bolt app", base);
      row("/kms help", hp);
      row("/kms status", st);
      row("/kms renew <id>", rn);
      const failedText = Object.entries(modal.failed)
        .map(([e, n]) => `${n} ${e}`)
        .join(", ");
      modalRows.push([
        connections,
        modal.expected,
        modal.opened,
        failedText || "none",
        fmt(modal.lagP50, 1),
        fmt(modal.lagP99, 1),
        fmt(modal.drainS, 1),
      ]);
      if (connections === 50) {
        for (const [name, r] of [
          ["/kms status", st],
          ["/kms renew", rn],
        ] as const) {
          judge(
            "1. ack",
            `${name} p99 < 100 ms at 50 connections`,
            `${fmt(r.p99, 1)} ms`,
            r.p99 < 100,
          );
          judge(
            "1. ack",
            `${name} throughput >= 70% of bare at 50 connections`,
            `${pct(r.rps / base.rps)} (${fmt(r.rps, 1)} vs ${fmt(base.rps, 1)} req/s)`,
            r.rps / base.rps >= 0.7,
          );
        }
      }
    }
    printTable(
      "Acknowledgement: answers per second and latency until Slack gets the HTTP answer (the ack)",
      [
        "request",
        "conns",
        "req/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "req/s vs bare",
        "p99 / bare p99",
        "404/other/err/wrong",
      ],
      rows,
    );
    printTable(
      "/kms renew after its ack: views.open against the fake Slack (trigger ids live 3 s, as on Slack)",
      [
        "conns",
        "sent",
        "modals opened",
        "views.open failed",
        "trigger->open p50 ms",
        "p99 ms",
        "drain s",
      ],
      modalRows,
    );
    console.log(
      "404 = Bolt's own answer when a listener has not acknowledged within 3 s (Slack would show the person an error);\n" +
        "req/s counts 2xx answers only; latencies include every answer. 'other' non-2xx (e.g. 401) would mean a broken benchmark.",
    );
    console.log(
      `(The bot is \`node dist-bench/src/main.js\` with KMS_SWEEP_CRON="${QUIET_CRON}" so no sweep runs during the measurement.)`,
    );
    for (const p of problems) console.log(`! ${p}`);
    // Refused (non-2xx) or wrong answers mean the benchmark itself is broken (signing, replays).
    if (broken > 0)
      throw new Error(`acknowledgement benchmark: ${broken} refused or wrong answer(s)`);
  } finally {
    for (const s of servers) await s.stop();
    await fake.close();
    await bench.destroy();
  }
}
