import type { BillingContext } from "../src/billing/context.js";
import { DAY_MS } from "../src/billing/lifecycle.js";
import type { Dialect } from "../src/store/db.js";
import { type Poster, type SweepSummary, sweep, timerSettings } from "../src/timer/sweep.js";
import { createBenchDb, seedInstances } from "./lib/db.js";
import { QueryMeter } from "./lib/meter.js";
import type { BenchOptions } from "./lib/options.js";
import { ALERT_CHANNEL } from "./lib/proc.js";
import { fmt, judge, printTable } from "./lib/table.js";

/** A Poster that answers ok at once: the sweep's own cost, not Slack's, is measured. */
function noopPoster(): Poster & { posts: number } {
  let ts = 0;
  const poster = {
    posts: 0,
    async post(channel: string) {
      poster.posts++;
      return { ok: true as const, channel, ts: `1700000000.${String(++ts).padStart(6, "0")}` };
    },
    async join() {
      return { ok: true as const };
    },
    async find() {
      return undefined;
    },
  };
  return poster;
}

interface SweepRun {
  ms: number;
  statements: number;
  dbMs: number;
  summary: SweepSummary;
}

const SETTINGS = timerSettings({
  KMS_WARN_DAYS: [30, 14, 7, 3, 1],
  KMS_RELEASE_WARN_DAYS: [7, 3, 1],
  KMS_ALERT_CHANNEL: ALERT_CHANNEL,
});

/**
 * 2. One sweep (src/timer/sweep.ts `sweep`, what `bot.sweep()` and the cron run) over fleets of
 * growing size where 1% of the instances are due a warning.
 */
export async function sweepBench(options: BenchOptions, dialects: Dialect[]): Promise<void> {
  const sizes = options.quick ? [1_000, 10_000] : [1_000, 10_000, 100_000, 1_000_000];
  console.log(
    `\n## 2. Sweep cost (1% due: expiring in 6-7 h, each with its own channel; the rest expire in 31-395 days;\n` +
      `   no-op Poster answering ok at once and a no-op \`sleep\`, so neither Slack nor the 1 msg/s/channel pacing is timed;\n` +
      `   default maxPosts 500 per sweep; PostgreSQL tables ANALYZEd after the bulk load as autovacuum would)`,
  );
  const rows: Array<Array<string | number>> = [];
  const profiles: string[] = [];
  for (const dialect of dialects) {
    const byFleet = new Map<
      number,
      { empty: SweepRun; first: SweepRun; second: SweepRun; due: number }
    >();
    for (const size of sizes) {
      const bench = await createBenchDb(dialect, { pgUrl: options.pgUrl, name: `sweep${size}` });
      try {
        const t0 = Math.floor(Date.now() / 60_000) * 60_000;
        const seedStart = performance.now();
        const due = await seedInstances(bench.db, { count: size, dueEvery: 100, now: t0 });
        const seedS = (performance.now() - seedStart) / 1000;
        let now = t0;
        const ctx: BillingContext = {
          db: bench.db,
          clock: () => now,
          timezone: "UTC",
          envAdmins: [],
        };
        const poster = noopPoster();
        let sleeps = 0;
        const meter = new QueryMeter(bench.db);
        const run = async (at: number): Promise<SweepRun> => {
          now = at;
          meter.reset();
          const start = performance.now();
          const summary = await sweep(ctx, SETTINGS, poster, {
            holder: "bench",
            sleep: async () => {
              sleeps++;
            },
          });
          const ms = performance.now() - start;
          if (summary.skipped) throw new Error("sweep skipped: lease held");
          return { ms, statements: meter.statements, dbMs: meter.dbMs, summary };
        };
        // Nothing in reach (100 days earlier): the part of a sweep that depends on the fleet alone.
        // The median of three, as it takes milliseconds and one sample is at the mercy of a GC.
        const empties = [
          await run(t0 - 100 * DAY_MS),
          await run(t0 - 100 * DAY_MS),
          await run(t0 - 100 * DAY_MS),
        ].sort((a, b) => a.ms - b.ms);
        const empty = empties[1] as SweepRun;
        const first = await run(t0);
        if (size === sizes[sizes.length - 1]) {
          profiles.push(
            `${dialect}, ${fmt(size, 0)} instances, first sweep: ${fmt(first.statements, 0)} statements, ` +
              `${fmt(first.dbMs, 0)} ms waiting on the database of ${fmt(first.ms, 0)} ms`,
          );
        }
        const top = meter.top(4);
        const second = await run(t0 + 5 * 60_000);
        if (size === sizes[sizes.length - 1]) {
          for (const q of top)
            profiles.push(
              `    ${fmt(q.count, 0).padStart(7)} x ${fmt(q.ms, 0).padStart(6)} ms  ${q.shape}`,
            );
          profiles.push(
            `  next sweep (5 min later): ${fmt(second.statements, 0)} statements, ${fmt(second.dbMs, 0)} ms on the database of ${fmt(second.ms, 0)} ms`,
          );
          for (const q of meter.top(4))
            profiles.push(
              `    ${fmt(q.count, 0).padStart(7)} x ${fmt(q.ms, 0).padStart(6)} ms  ${q.shape}`,
            );
        }
        meter.detach();
        if (first.summary.checked !== due) {
          throw new Error(
            `sweep checked ${first.summary.checked} instances, expected the ${due} due`,
          );
        }
        byFleet.set(size, { empty, first, second, due });
        rows.push([
          dialect,
          fmt(size, 0),
          fmt(due, 0),
          fmt(seedS, 1),
          fmt(empty.ms, 1),
          fmt(first.ms, 0),
          `${fmt(first.summary.posted, 0)}`,
          fmt(first.ms / due, 2),
          fmt(first.statements, 0),
          fmt((first.dbMs / first.ms) * 100, 0),
          fmt(second.ms, 0),
          `${fmt(second.summary.posted, 0)}`,
          fmt(second.statements, 0),
        ]);
        if (sleeps > 0)
          console.log(
            `  (${dialect} ${size}: pacing asked to sleep ${sleeps} time(s); not waited)`,
          );
      } finally {
        await bench.destroy();
      }
    }
    const largest = sizes[sizes.length - 1] ?? 0;
    const big = byFleet.get(largest);
    const small = byFleet.get(sizes[0] ?? 0);
    // The next size down: in a full run both it and the largest have more due than one
    // sweep posts (500), so their sweeps do the same kind of work.
    const midSize = sizes[sizes.length - 2] ?? 0;
    const mid = byFleet.get(midSize);
    if (big && small && mid) {
      const perDueBig = big.first.ms / big.due;
      const perDueMid = mid.first.ms / mid.due;
      judge(
        "2. sweep",
        `${dialect}: nothing-due sweep independent of fleet size (${fmt(largest, 0)} vs ${fmt(sizes[0] ?? 0, 0)})`,
        `${fmt(big.empty.ms, 1)} ms vs ${fmt(small.empty.ms, 1)} ms`,
        big.empty.ms <= 2 * small.empty.ms + 10,
      );
      judge(
        "2. sweep",
        `${dialect}: first sweep cost per due instance flat (${fmt(largest, 0)} vs ${fmt(midSize, 0)})`,
        `${fmt(perDueBig, 2)} vs ${fmt(perDueMid, 2)} ms per due instance`,
        perDueBig <= 2 * perDueMid,
      );
      judge(
        "2. sweep",
        `${dialect}: next sweep (nothing new due) per due instance flat (${fmt(largest, 0)} vs ${fmt(midSize, 0)})`,
        `${fmt(big.second.ms / big.due, 2)} vs ${fmt(mid.second.ms / mid.due, 2)} ms per due instance`,
        big.second.ms / big.due <= 2 * (mid.second.ms / mid.due),
      );
      if (largest === 1_000_000) {
        judge(
          "2. sweep",
          `${dialect}: sweep of 1,000,000 with 1% due ${dialect === "sqlite" ? "< 2 s" : "(reported; 2 s as for SQLite)"}`,
          `${fmt(big.first.ms / 1000, 2)} s (next sweep ${fmt(big.second.ms / 1000, 2)} s)`,
          dialect === "sqlite" ? big.first.ms < 2_000 && big.second.ms < 2_000 : "n/a",
        );
      }
    }
  }
  printTable(
    "Sweep: one sweep at each fleet size (ms); 'empty' = the same database 100 days earlier, nothing in reach (median of 3)",
    [
      "db",
      "fleet",
      "due",
      "seed s",
      "empty ms",
      "first ms",
      "posted",
      "ms/due",
      "stmts",
      "db %",
      "next ms",
      "posted",
      "stmts",
    ],
    rows,
  );
  console.log(
    "'first' creates the due warnings and posts up to maxPosts (500); 'next' is the sweep 5 minutes later",
  );
  console.log(
    "(no new thresholds; it posts the next 500 of the backlog). Where the time of the largest fleet goes:",
  );
  for (const p of profiles) console.log(`  ${p}`);
}
