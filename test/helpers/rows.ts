// What the database holds, for tests that check a request changed nothing (or only what it
// should): row counts, and whole tables compared before and after.
import type { Knex } from "knex";
import { balance } from "../../src/billing/account.js";
import type { BillingContext } from "../../src/billing/context.js";

export async function countRows(db: Knex, table: string): Promise<number> {
  const row = await db(table).count({ n: "*" }).first();
  return Number(row?.n ?? 0);
}

/** Row counts of `tables` and the balance. */
export async function countsAndBalance(
  billing: BillingContext,
  tables: readonly string[],
): Promise<{ counts: Record<string, number>; balance: number }> {
  const counts: Record<string, number> = {};
  for (const t of tables) counts[t] = await countRows(billing.db, t);
  return { counts, balance: await balance(billing) };
}

/** Every row of `tables`, as sorted JSON lines per table. */
export async function tablesSnapshot<T extends string>(
  db: Knex,
  tables: readonly T[],
): Promise<Record<T, string[]>> {
  const out = {} as Record<T, string[]>;
  for (const table of tables) {
    const rows = await db(table).select("*");
    out[table] = rows.map((r) => JSON.stringify(r)).sort();
  }
  return out;
}

/** The tables whose rows differ between two snapshots. */
export function changedTables<T extends string>(
  tables: readonly T[],
  before: Record<T, string[]>,
  after: Record<T, string[]>,
): T[] {
  return tables.filter((t) => JSON.stringify(before[t]) !== JSON.stringify(after[t]));
}
