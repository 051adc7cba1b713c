import type { Knex } from "knex";
import { type Db, dialectOf, isTransientConflict } from "./db.js";
import { fleetWritten } from "./fleet-cache.js";

/** The parts of a node-sqlite3 `Database` and `Statement` used here. */
interface SqliteStatement {
  all(
    params: unknown[],
    callback: (error: Error | null, rows: Record<string, unknown>[]) => void,
  ): void;
  run(params: unknown[], callback: (this: { changes: number }, error: Error | null) => void): void;
}
interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
}

/** Statements on one open transaction, each prepared once per connection and then reused. */
export interface SqliteQueries {
  all(sql: string, params: unknown[]): Promise<Record<string, unknown>[]>;
  /** Resolves with the number of rows the statement changed. */
  run(sql: string, params: unknown[]): Promise<number>;
}

const prepared = new WeakMap<SqliteDatabase, Map<string, SqliteStatement>>();

function statementsOf(conn: SqliteDatabase): SqliteQueries {
  let cache = prepared.get(conn);
  if (!cache) {
    cache = new Map();
    prepared.set(conn, cache);
  }
  const statement = (sql: string) => {
    let s = cache.get(sql);
    if (!s) {
      s = conn.prepare(sql);
      cache.set(sql, s);
    }
    return s;
  };
  return {
    all: (sql, params) =>
      new Promise((resolve, reject) =>
        statement(sql).all(params, (error, rows) => (error ? reject(error) : resolve(rows))),
      ),
    run: (sql, params) =>
      new Promise((resolve, reject) =>
        statement(sql).run(params, function (error) {
          if (error) reject(error);
          else resolve(this.changes);
        }),
      ),
  };
}

const MAX_ATTEMPTS = 8;

/**
 * Runs `fn` in one `BEGIN IMMEDIATE` transaction on the handle's connection, through
 * prepared statements: for a hot write path, where knex's per-statement work and the extra
 * lock statement of `transaction()` cost more than SQLite itself. The connection is held
 * from the pool meanwhile, so nothing else interleaves; a lock held by another process past
 * the busy timeout retries the whole transaction, as `transaction()` does.
 */
export async function sqliteTransaction<T>(
  db: Knex,
  fn: (q: SqliteQueries) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const conn: SqliteDatabase = await db.client.acquireConnection();
    const q = statementsOf(conn);
    let begun = false;
    try {
      await q.run("BEGIN IMMEDIATE", []);
      begun = true;
      const result = await fn(q);
      await q.run("COMMIT", []);
      fleetWritten(db);
      return result;
    } catch (error) {
      if (begun) await q.run("ROLLBACK", []).catch(() => undefined);
      if (attempt >= MAX_ATTEMPTS || !isTransientConflict(error)) throw error;
    } finally {
      await db.client.releaseConnection(conn);
    }
    await new Promise((r) => setTimeout(r, Math.min(200, 5 * 2 ** attempt) * Math.random()));
  }
}

/** True for a SQLite handle outside any transaction: where `sqliteStatement` may run. */
export function isSqliteHandle(db: Db): boolean {
  return dialectOf(db) === "sqlite" && !(db as Knex.Transaction).isTransaction;
}

/**
 * Runs one statement, atomic by itself (no transaction around it), on the handle's
 * connection through its prepared statement: for a hot path where knex's per-statement work
 * costs several times what SQLite does. The caller retries transient conflicts
 * (`singleStatement`).
 */
export async function sqliteStatement<T>(
  db: Knex,
  fn: (q: SqliteQueries) => Promise<T>,
): Promise<T> {
  const conn: SqliteDatabase = await db.client.acquireConnection();
  try {
    return await fn(statementsOf(conn));
  } finally {
    await db.client.releaseConnection(conn);
  }
}
