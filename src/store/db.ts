import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import knex, { type Knex } from "knex";

/** A knex handle or an open transaction: every store function takes one as `{ tx }`. */
export type Db = Knex | Knex.Transaction;

export type Dialect = "sqlite" | "postgres";

export interface DatabaseTarget {
  dialect: Dialect;
  /** File path for SQLite, connection string for PostgreSQL. */
  location: string;
}

/** Parses `sqlite:<path>` or `postgres://...` (also `postgresql://`). */
export function parseDatabaseUrl(url: string): DatabaseTarget | undefined {
  if (url.startsWith("sqlite:")) {
    const path = url.slice("sqlite:".length);
    return path.length > 0 ? { dialect: "sqlite", location: path } : undefined;
  }
  if (/^postgres(ql)?:\/\/./.test(url)) return { dialect: "postgres", location: url };
  return undefined;
}

export interface OpenOptions {
  /** PostgreSQL schema to use (tests isolate themselves this way). */
  searchPath?: string;
  /** Largest number of pooled connections (PostgreSQL). */
  poolMax?: number;
  /** Where knex's own warnings go (default: the console). */
  log?: Knex.Config["log"];
}

/** How long a SQLite connection waits for another process's write lock before giving up. */
const SQLITE_BUSY_TIMEOUT_MS = 5_000;

/**
 * Opens the database named by `DATABASE_URL`. SQLite runs in WAL mode with a busy timeout and
 * enforced foreign keys, so the bot and the CLI can share one file.
 */
export function openDatabase(url: string, options: OpenOptions = {}): Knex {
  const target = parseDatabaseUrl(url);
  if (!target)
    throw new Error(`DATABASE_URL must be sqlite:<path> or postgres://..., got "${url}"`);
  if (target.dialect === "sqlite") {
    const filename = target.location === ":memory:" ? ":memory:" : resolve(target.location);
    if (filename !== ":memory:") mkdirSync(dirname(filename), { recursive: true });
    return knex({
      client: "sqlite3",
      connection: { filename },
      useNullAsDefault: true,
      log: options.log,
      pool: {
        min: 1,
        max: 1,
        afterCreate(conn: SqliteConnection, done: (err: Error | null, conn: unknown) => void) {
          conn.serialize(() => {
            conn.run(`PRAGMA busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
            conn.run("PRAGMA journal_mode = WAL");
            conn.run("PRAGMA synchronous = NORMAL");
            conn.run("PRAGMA foreign_keys = ON", (err) => done(err, conn));
          });
        },
      },
    });
  }
  return knex({
    client: "pg",
    connection: target.location,
    searchPath: options.searchPath ? [options.searchPath] : undefined,
    log: options.log,
    pool: { min: 0, max: options.poolMax ?? 10 },
  });
}

interface SqliteConnection {
  serialize(fn: () => void): void;
  run(sql: string, cb?: (err: Error | null) => void): void;
}

export function dialectOf(db: Db): Dialect {
  const client = (db as Knex).client.config.client;
  return client === "pg" ? "postgres" : "sqlite";
}

const MAX_ATTEMPTS = 8;

/**
 * Runs `fn` in one transaction, retrying it whole when the database reports a transient
 * conflict (a SQLite lock held by another process past the busy timeout, a PostgreSQL
 * serialization failure or deadlock). `fn` must therefore only touch the database.
 *
 * On SQLite the transaction takes the write lock with its first statement (the effect of
 * BEGIN IMMEDIATE, which knex cannot issue): a transaction that read first and wrote later
 * could otherwise fail with SQLITE_BUSY without waiting once another process had written.
 */
export async function transaction<T>(
  db: Knex,
  fn: (tx: Knex.Transaction) => Promise<T>,
): Promise<T> {
  const sqlite = dialectOf(db) === "sqlite";
  return retryingConflicts(() =>
    db.transaction(async (tx) => {
      if (sqlite) await tx.raw("UPDATE kms_write_lock SET id = id WHERE 0 = 1");
      return fn(tx);
    }),
  );
}

/**
 * Runs a mutation that is one statement, atomic by itself, without `BEGIN` and `COMMIT`
 * around it: retried whole on a transient conflict, as `transaction()` is. For a hot path
 * where the transaction's three extra statements would cost more than the write.
 */
export function singleStatement<T>(db: Knex, fn: (db: Knex) => Promise<T>): Promise<T> {
  return retryingConflicts(() => fn(db));
}

async function retryingConflicts<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (attempt >= MAX_ATTEMPTS || !isTransientConflict(error)) throw error;
      await new Promise((r) => setTimeout(r, Math.min(200, 5 * 2 ** attempt) * Math.random()));
    }
  }
}

/** A lock timeout or serialization failure: the whole transaction can be tried again. */
export function isTransientConflict(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return code === "SQLITE_BUSY" || code === "40001" || code === "40P01";
}

/** True for a unique-constraint violation on either database. */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown };
  if (e?.code === "23505") return true;
  return e?.code === "SQLITE_CONSTRAINT" && String(e.message).includes("UNIQUE");
}

/** Applies `FOR UPDATE` where the database has row locks; SQLite already holds the write lock. */
export function forUpdate<T extends Knex.QueryBuilder>(db: Db, query: T): T {
  return dialectOf(db) === "postgres" ? (query.forUpdate() as T) : query;
}

/** What every store function takes first: the handle or transaction to run on. */
export interface StoreCtx {
  tx: Db;
}
