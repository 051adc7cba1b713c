import { z } from "zod";
import { dialectOf, type StoreCtx } from "./db.js";

// Read-only queries behind /metrics and /healthz.

const count = z.coerce.number().int();
const tally = z.object({ kind: z.string(), count, cents: z.coerce.number().int().nullable() });

export type Tally = { kind: string; count: number; cents: number };

const toTally = (rows: unknown[]): Tally[] =>
  rows.map((r) => {
    const t = tally.parse(r);
    return { kind: t.kind, count: t.count, cents: t.cents ?? 0 };
  });

export interface WarningBacklog {
  /** Pending warnings whose time has come and whose next attempt is not being held back. */
  due: number;
  /** Every pending warning whose time has come, including those waiting to be retried. */
  backlog: number;
}

export async function warningBacklog({ tx }: StoreCtx, now: number): Promise<WarningBacklog> {
  const row = await tx("warnings")
    .where({ status: "pending" })
    .andWhere("due_at", "<=", now)
    .select(
      tx.raw("count(*) as backlog"),
      tx.raw(
        "coalesce(sum(case when next_attempt_at is null or next_attempt_at <= ? then 1 else 0 end), 0) as due",
        [now],
      ),
    )
    .first();
  const parsed = z.object({ due: count, backlog: count }).parse(row);
  return parsed;
}

/** Orders by kind (purchase, renewal): how many, and what they charged. */
export async function ordersByKind({ tx }: StoreCtx): Promise<Tally[]> {
  const rows = await tx("orders")
    .select("kind", tx.raw("count(*) as count"), tx.raw("sum(amount_cents) as cents"))
    .groupBy("kind");
  return toTally(rows);
}

/** Refunds by the kind of order they refunded: how many ledger lines, and how much. */
export async function refundsByOrderKind({ tx }: StoreCtx): Promise<Tally[]> {
  const rows = await tx("ledger as l")
    .join("orders as o", "o.id", "l.order_id")
    .where("l.kind", "refund")
    .select("o.kind as kind", tx.raw("count(*) as count"), tx.raw("sum(l.amount_cents) as cents"))
    .groupBy("o.kind");
  return toTally(rows);
}

/** True when SQLite's write lock can't be had (or PostgreSQL can't answer) within `waitMs`. */
export async function probeWritable({ tx }: StoreCtx, waitMs: number): Promise<void> {
  if (dialectOf(tx) !== "sqlite") {
    await tx.raw("select 1");
    return;
  }
  // Readers never wait in WAL mode, so take the write lock the way every write does (an empty
  // UPDATE), waiting at most `waitMs`, then put the connection's usual wait back.
  await tx.transaction(async (t) => {
    const [before] = (await t.raw("PRAGMA busy_timeout")) as Array<Record<string, unknown>>;
    const usual = Number(Object.values(before ?? {})[0] ?? 5000);
    await t.raw(`PRAGMA busy_timeout = ${Math.round(waitMs)}`);
    try {
      await t.raw("UPDATE kms_write_lock SET id = id WHERE 0 = 1");
    } finally {
      await t.raw(`PRAGMA busy_timeout = ${usual}`);
    }
  });
}
