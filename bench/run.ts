/**
 * `npm run bench [-- --quick] [-- --only sweep,money]`: kms-bot measured against its physical
 * limits on this machine, in one run. Prints tables and a summary of the targets; never fails
 * on a timing (only when a benchmark itself breaks or an invariant does).
 */
import { cpus, loadavg } from "node:os";
import knex from "knex";
import type { Dialect } from "../src/store/db.js";
import { ackBench } from "./ack.js";
import { cleanupAll } from "./lib/db.js";
import { loadText, machineInfo } from "./lib/machine.js";
import { parseOptions } from "./lib/options.js";
import { fmt, printTable, verdicts } from "./lib/table.js";
import { memoryBench } from "./memory.js";
import { moneyBench } from "./money.js";
import { startupBench } from "./startup.js";
import { sweepBench } from "./sweep.js";

const options = parseOptions(process.argv.slice(2), process.env);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    console.error(`\n${signal}: dropping the benchmark databases`);
    void cleanupAll().finally(() => process.exit(130));
  });
}

async function pgReachable(url: string | undefined): Promise<boolean> {
  if (!url) return false;
  const pg = knex({ client: "pg", connection: url, pool: { min: 0, max: 1 } });
  try {
    await pg.raw("select 1");
    return true;
  } catch {
    return false;
  } finally {
    await pg.destroy();
  }
}

const started = performance.now();
const machine = await machineInfo(options.pgUrl);
console.log(
  `# kms-bot benchmarks${options.quick ? " (quick: tiny sizes, proves they run; numbers mean little)" : ""}`,
);
console.log(`cpu:        ${machine.cpu} (${machine.cores} cores)`);
console.log(`memory:     ${machine.memory}`);
console.log(`os:         ${machine.os}`);
console.log(`node:       ${machine.node}`);
console.log(`sqlite:     ${machine.sqlite}`);
console.log(
  `postgresql: ${machine.postgres}${options.pgUrl ? ` (${options.pgUrl.replace(/\/\/[^@]*@/, "//")})` : ""}`,
);
console.log(`started:    ${new Date().toISOString()}`);
console.log(
  `load avg:   ${machine.load}${(loadavg()[0] ?? 0) > machine.cores / 2 ? "  (the machine is busy: timings will be noisy)" : ""}`,
);

const dialects: Dialect[] = ["sqlite"];
if (await pgReachable(options.pgUrl)) dialects.push("postgres");
else console.log("PostgreSQL unreachable or disabled: its rows are skipped");

const failures: string[] = [];
const benches = [
  ["ack", () => ackBench(options)],
  ["sweep", () => sweepBench(options, dialects)],
  ["money", () => moneyBench(options, dialects)],
  ["memory", () => memoryBench(options)],
  ["startup", () => startupBench(options)],
] as const;
for (const [name, bench] of benches) {
  if (!options.only.has(name)) continue;
  const t = performance.now();
  try {
    await bench();
  } catch (error) {
    failures.push(name);
    console.error(`\n!! benchmark ${name} failed: ${(error as Error).stack ?? String(error)}`);
  }
  console.log(`(${name}: ${fmt((performance.now() - t) / 1000, 1)} s)`);
}
await cleanupAll();

printTable(
  "Targets (each against its baseline measured in this run; load = 1-minute load average when judged)",
  ["benchmark", "target", "measured", "load", "met"],
  verdicts.map((v) => [
    v.bench,
    v.target,
    v.measured,
    fmt(v.load, 2),
    v.met === "n/a" ? "n/a" : v.met ? "yes" : "MISSED",
  ]),
);
console.log(`load avg at the end: ${loadText()} on ${cpus().length} cores`);
const missed = verdicts.filter((v) => v.met === false).length;
console.log(
  `\n${verdicts.length - missed} of ${verdicts.length} targets met; total ${fmt((performance.now() - started) / 1000, 1)} s` +
    (options.quick ? " (quick mode: sizes too small for the targets to mean anything)" : ""),
);
if (failures.length > 0) {
  console.error(`benchmark(s) failed to run: ${failures.join(", ")}`);
  process.exit(1);
}
process.exit(0);
