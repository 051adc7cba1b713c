import type { Knex } from "knex";
import type { Db } from "./db.js";

/**
 * How long a fleet read (the soonest instances, the counts) is reused. Every `/kms status`,
 * App Home and renew modal makes one, so a burst of them shares a single query.
 */
export const FLEET_CACHE_MS = 1_000;
/** Statements after which the fleet may have changed (over-matching only costs a re-read). */
const WRITES = /\b(insert|update|delete|commit)\b/i;

interface Entry {
  value: Promise<unknown>;
  /** performance.now() and the billing clock when it was read. */
  readAt: number;
  clockAt: number;
}

const memos = new WeakMap<Knex, Map<string, Entry>>();

function memoOf(db: Knex): Map<string, Entry> {
  let memo = memos.get(db);
  if (!memo) {
    const entries = new Map<string, Entry>();
    memo = entries;
    memos.set(db, entries);
    // Cleared when a write is sent and again when it is answered (its commit), so a read
    // that ran meanwhile is not kept.
    const clear = (query: { sql?: unknown } | undefined) => {
      if (WRITES.test(String(query?.sql ?? ""))) entries.clear();
    };
    db.on("query", clear);
    db.on("query-response", (_response: unknown, query: { sql?: unknown }) => clear(query));
  }
  return memo;
}

/**
 * The result of `read` under `key`, reused for up to FLEET_CACHE_MS (of real time and of the
 * billing clock) unless this process writes to the database meanwhile. Another process's
 * writes (a replica, the CLI) show within that second. Inside a transaction it just reads.
 */
export function cachedFleetRead<T>(
  db: Db,
  key: string,
  now: number,
  read: () => Promise<T>,
): Promise<T> {
  if ((db as Knex.Transaction).isTransaction) return read();
  const memo = memoOf(db as Knex);
  const hit = memo.get(key);
  const real = performance.now();
  if (hit && real - hit.readAt < FLEET_CACHE_MS && Math.abs(now - hit.clockAt) < FLEET_CACHE_MS)
    return hit.value as Promise<T>;
  const value = read();
  const entry = { value, readAt: real, clockAt: now };
  memo.set(key, entry);
  value.catch(() => {
    if (memo.get(key) === entry) memo.delete(key);
  });
  return value;
}

/** Forgets the fleet reads of `db`: for writes that bypass knex's query events. */
export function fleetWritten(db: Knex): void {
  memos.get(db)?.clear();
}
