import type { Knex } from "knex";
import type { BillingContext } from "../src/billing/context.js";
import { userActor } from "../src/billing/context.js";
import { isBillingError } from "../src/billing/errors.js";
import { renew } from "../src/billing/orders.js";
import type { Dialect } from "../src/store/db.js";
import { getBalance, ledgerSum } from "../src/store/ledger.js";
import { benchInstanceId, createBenchDb, fund, seedInstances } from "./lib/db.js";
import type { BenchOptions } from "./lib/options.js";
import { fmt, judge, load1, pct, printTable } from "./lib/table.js";

interface Rate {
  done: number;
  failed: Record<string, number>;
  seconds: number;
  perSecond: number;
}

/** Runs `writers` loops of `op` for `seconds`; counts successes and failures by code. */
async function hammer(
  writers: number,
  seconds: number,
  op: (writer: number, i: number) => Promise<void>,
): Promise<Rate> {
  let done = 0;
  const failed: Record<string, number> = {};
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let i = 0; performance.now() < end; i++) {
        try {
          await op(w, i);
          done++;
        } catch (error) {
          const code = isBillingError(error)
            ? error.code
            : String((error as { code?: unknown }).code ?? (error as Error).message).slice(0, 60);
          failed[code] = (failed[code] ?? 0) + 1;
        }
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  return { done, failed, seconds: elapsed, perSecond: done / elapsed };
}

const emptyRate = (): Rate => ({ done: 0, failed: {}, seconds: 0, perSecond: 0 });

function addRate(total: Rate, part: Rate): void {
  total.done += part.done;
  total.seconds += part.seconds;
  total.perSecond = total.done / total.seconds;
  for (const [code, n] of Object.entries(part.failed))
    total.failed[code] = (total.failed[code] ?? 0) + n;
}

const failures = (r: Rate) =>
  Object.entries(r.failed)
    .map(([code, n]) => `${n} ${code}`)
    .join(", ") || "none";

/**
 * 3. The money path: `renew` (debit, order, ledger line, expiry, audit in one transaction) with
 * 1 and 32 concurrent writers on the one account, against single-row INSERT transactions on a
 * scratch table of the same database through the same knex handle.
 */
export async function moneyBench(options: BenchOptions, dialects: Dialect[]): Promise<void> {
  const seconds = options.quick ? 0.5 : 6;
  const rounds = options.quick ? 1 : 3;
  const writerCounts = [1, 32];
  const fleet = 64;
  console.log(
    `\n## 3. Money path (${seconds} s of each per writer count, raw and renewals alternating in ${rounds} slice(s); renewals of ${fleet} instances round-robin, one month each, each with its own` +
      `\n   idempotency key as a modal submission has; the handle is opened as the bot opens it: SQLite one connection,` +
      `\n   WAL, synchronous=NORMAL; PostgreSQL a pool of 10)`,
  );
  const rows: Array<Array<string | number>> = [];
  const invariants: string[] = [];
  let broken = 0;
  for (const dialect of dialects) {
    const bench = await createBenchDb(dialect, { pgUrl: options.pgUrl, name: "money" });
    try {
      const db: Knex = bench.db;
      await db.schema.createTable("bench_scratch", (t) => {
        t.increments("id").primary();
        t.bigInteger("v").notNullable();
        t.bigInteger("created_at").notNullable();
      });
      await seedInstances(db, { count: fleet, dueEvery: 0, now: Date.now() });
      await fund(db, 500_000_000);
      const ctx: BillingContext = { db, clock: Date.now, timezone: "UTC", envAdmins: [] };
      let renewed = 0;
      let keySeq = 0;
      for (const writers of writerCounts) {
        // Raw and renewal runs alternate in slices, so both see the same disk (an fsync's cost
        // drifts on a shared machine).
        const slice = seconds / rounds;
        const raw = emptyRate();
        const money = emptyRate();
        for (let round = 0; round < rounds; round++) {
          addRate(
            raw,
            await hammer(writers, slice, async (w, i) => {
              await db.transaction(async (tx) => {
                await tx("bench_scratch").insert({ v: w * 1_000_000 + i, created_at: Date.now() });
              });
            }),
          );
          addRate(
            money,
            await hammer(writers, slice, async (w, i) => {
              await renew(ctx, userActor("U0MEMBER1"), {
                instanceId: benchInstanceId((w + i * writers) % fleet),
                months: 1,
                idempotencyKey: `bench:${dialect}:${++keySeq}`,
              });
            }),
          );
        }
        renewed += money.done;
        // Invariants after every run: balance == ledger sum, one order per successful renewal.
        const balance = await getBalance({ tx: db });
        const sum = await ledgerSum({ tx: db });
        const orders = Number(
          (await db("orders").where({ kind: "renewal" }).count({ n: "*" }).first())?.n ?? 0,
        );
        const ledgerLines = Number(
          (await db("ledger").where({ kind: "renewal" }).count({ n: "*" }).first())?.n ?? 0,
        );
        const ok = balance === sum && orders === renewed && ledgerLines === renewed && balance >= 0;
        if (!ok) broken++;
        invariants.push(
          `${dialect} after ${writers} writer(s): balance ${balance} ${balance === sum ? "==" : "!="} ledger sum ${sum}; ` +
            `renewal orders ${orders}, ledger lines ${ledgerLines}, successful renewals ${renewed}: ${ok ? "intact" : "BROKEN"}`,
        );
        const ratio = money.perSecond / raw.perSecond;
        rows.push([
          dialect,
          writers,
          fmt(raw.perSecond, 0),
          fmt(money.perSecond, 0),
          pct(ratio),
          fmt(money.done, 0),
          failures(money),
          failures(raw),
          load1(),
        ]);
        // The targets are for one writer; 32 on the one account serialise on its balance row.
        const floor = dialect === "postgres" ? 0.5 : 0.4;
        judge(
          "3. money",
          `${dialect}, ${writers} writer(s): renewals${writers === 1 ? ` >= ${floor * 100}%` : ""} of raw insert transactions`,
          `${pct(ratio)} (${fmt(money.perSecond, 0)} vs ${fmt(raw.perSecond, 0)} per s)`,
          writers === 1 ? ratio >= floor : "n/a",
        );
      }
    } finally {
      await bench.destroy();
    }
  }
  printTable(
    "Money path: transactions per second",
    [
      "db",
      "writers",
      "raw INSERT tx/s",
      "renewals/s",
      "ratio",
      "renewals",
      "renew failures",
      "raw failures",
      "load",
    ],
    rows,
  );
  for (const line of invariants) console.log(`  ${line}`);
  judge(
    "3. money",
    "every invariant intact after every run",
    broken === 0 ? "intact" : `${broken} broken`,
    broken === 0,
  );
  if (broken > 0) throw new Error("money path: invariants broken");
}
