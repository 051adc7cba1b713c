import { startFakeSlack } from "../test/helpers/fake-slack.js";
import { createBenchDb, fund, seedInstances } from "./lib/db.js";
import type { BenchOptions } from "./lib/options.js";
import { BARE_MAIN, spawnServer, waitForHttp } from "./lib/proc.js";
import { fmt, judge, median, printTable } from "./lib/table.js";

/**
 * 5. Start-up: from spawning `node dist-bench/src/main.js` to `GET /healthz` answering 200,
 * on a database already migrated and seeded, against the bare Bolt app's start-up.
 */
export async function startupBench(options: BenchOptions): Promise<void> {
  const fleetSize = options.quick ? 1_000 : 100_000;
  const repeats = options.quick ? 1 : 5;
  console.log(
    `\n## 5. Start-up (process spawn to /healthz 200, polled every 5 ms; SQLite already migrated; ${repeats} start(s) each, median)`,
  );
  const fake = await startFakeSlack();
  const emptyDb = await createBenchDb("sqlite", { name: "startup-empty" });
  const fullDb = await createBenchDb("sqlite", { name: "startup" });
  try {
    await seedInstances(fullDb.db, { count: fleetSize, dueEvery: 0, now: Date.now() });
    await fund(fullDb.db, 1_000_000);
    await fullDb.closeHandles();
    await emptyDb.closeHandles();
    const startOnce = async (name: string, main: string | undefined, databaseUrl?: string) => {
      const server = await spawnServer({
        main,
        databaseUrl,
        slackApiUrl: fake.url,
        name: `startup-${name}`,
        cpuProfDir: options.cpuProfDir,
      });
      try {
        return (await waitForHttp(server, "/healthz", 60_000, 5)) - server.spawnedAt;
      } finally {
        await server.stop();
      }
    };
    // Interleaved, so a busy moment on the machine hits all three alike.
    const bare: number[] = [];
    const empty: number[] = [];
    const full: number[] = [];
    for (let i = 0; i < repeats; i++) {
      bare.push(await startOnce("bare", BARE_MAIN));
      empty.push(await startOnce("empty", undefined, emptyDb.url));
      full.push(await startOnce("full", undefined, fullDb.url));
    }
    const row = (name: string, t: number[]) => [
      name,
      fmt(median(t), 0),
      fmt(Math.min(...t), 0),
      fmt(Math.max(...t), 0),
      `${fmt(median(t) / median(bare), 1)}x`,
    ];
    printTable(
      "Start-up: ms from spawn to /healthz 200",
      ["process", "median", "min", "max", "vs bare"],
      [
        row("bare Bolt app", bare),
        row("kms-bot, empty database", empty),
        row(`kms-bot, ${fmt(fleetSize, 0)} instances`, full),
      ],
    );
    judge(
      "5. start-up",
      `start to /healthz 200 < 2 s with ${fmt(fleetSize, 0)} instances`,
      `median ${fmt(median(full), 0)} ms, max ${fmt(Math.max(...full), 0)} ms`,
      Math.max(...full) < 2_000,
    );
  } finally {
    await fake.close();
    await emptyDb.destroy();
    await fullDb.destroy();
  }
}
