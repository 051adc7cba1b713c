import { startFakeSlack } from "../test/helpers/fake-slack.js";
import { type SlackRequest, slashCommand } from "../test/helpers/slack-requests.js";
import { benchInstanceId, createBenchDb, fund, seedInstances } from "./lib/db.js";
import { runLoad } from "./lib/load.js";
import type { BenchOptions } from "./lib/options.js";
import { rssOf, SIGNING_SECRET, sampleRss, spawnServer, waitForHttp } from "./lib/proc.js";
import { startReplySink } from "./lib/sink.js";
import { fmt, judge, mb, median, printTable } from "./lib/table.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * 4. Resident memory of the bot process (`node dist-bench/src/main.js`) with 100,000
 * instances: idle after start-up, and under one connection of `/kms status`, then of
 * `/kms renew <id>` (each opening its modal against the fake Slack).
 */
export async function memoryBench(options: BenchOptions): Promise<void> {
  const fleetSize = options.quick ? 1_000 : 100_000;
  const loadS = options.quick ? 1 : 10;
  console.log(
    `\n## 4. Memory (SQLite, ${fmt(fleetSize, 0)} instances; RSS of the bot process sampled every 100 ms)`,
  );
  const fake = await startFakeSlack();
  // Status answers go to a response_url that reads them, as Slack would.
  const sink = await startReplySink((r) => Array.isArray((r as { blocks?: unknown }).blocks));
  const bench = await createBenchDb("sqlite", { name: "memory" });
  const bot = await (async () => {
    await seedInstances(bench.db, { count: fleetSize, dueEvery: 0, now: Date.now() });
    await fund(bench.db, 1_000_000);
    await bench.closeHandles();
    return spawnServer({
      databaseUrl: bench.url,
      slackApiUrl: fake.url,
      name: "bot-memory",
      cpuProfDir: options.cpuProfDir,
    });
  })();
  try {
    await waitForHttp(bot, "/healthz");
    await sleep(options.quick ? 500 : 3_000);
    const idleSamples = sampleRss(bot.pid);
    await sleep(1_000);
    const idle = median(idleSamples.stop());

    let seq = 0;
    const runs: Array<[string, () => SlackRequest]> = [
      [
        "/kms status",
        () =>
          slashCommand({ text: "status", triggerId: `bench.${++seq}`, responseUrl: sink.url(seq) }),
      ],
      [
        "/kms renew <id>",
        () =>
          slashCommand({
            text: `renew ${benchInstanceId(++seq % fleetSize)}`,
            triggerId: fake.newTriggerId(),
            responseUrl: fake.newResponseUrl(),
          }),
      ],
    ];
    const rows: Array<Array<string | number>> = [
      ["idle after start-up", mb(idle), mb(idle), "-", "-"],
    ];
    let peakAll = idle;
    for (const [name, next] of runs) {
      const samples = sampleRss(bot.pid);
      const r = await runLoad({
        url: bot.url,
        connections: 1,
        durationS: loadS,
        next,
        signingSecret: SIGNING_SECRET,
      });
      await sleep(500); // work after the last ack (the modal)
      const s = samples.stop();
      const peak = Math.max(...s);
      peakAll = Math.max(peakAll, peak);
      rows.push([`load 1: ${name}`, mb(median(s)), mb(peak), fmt(r.rps, 1), fmt(r.p99, 1)]);
      fake.reset();
    }
    await sleep(2_000);
    const after = rssOf(bot.pid);
    rows.push(["idle again (2 s later)", mb(after), mb(after), "-", "-"]);
    printTable(
      "Memory: resident set size of the bot",
      ["phase", "RSS median", "RSS peak", "req/s", "p99 ms"],
      rows,
    );
    judge("4. memory", `RSS idle (${fmt(fleetSize, 0)} instances)`, mb(idle), "n/a");
    judge(
      "4. memory",
      `peak RSS under load < 150 MB (${fmt(fleetSize, 0)} instances)`,
      `peak ${mb(peakAll)}`,
      peakAll < 150 * 2 ** 20,
    );
  } finally {
    await bot.stop();
    await sink.close();
    await fake.close();
    await bench.destroy();
  }
}
