import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import knex, { type Knex } from "knex";
import { topup } from "../../src/billing/account.js";
import { cliActor } from "../../src/billing/context.js";
import { DAY_MS } from "../../src/billing/lifecycle.js";
import { type Dialect, openDatabase } from "../../src/store/db.js";
import { applyMigrations } from "../../src/store/migrate.js";

/** A fresh, migrated database for one benchmark: a SQLite file or a PostgreSQL schema. */
export interface BenchDb {
  dialect: Dialect;
  /** The handle the benchmark uses (opened the way the bot opens it). */
  db: Knex;
  /** `DATABASE_URL` for a spawned bot process. */
  url: string;
  /** Opens another handle on the same database (closed by `destroy`). */
  another(options?: { poolMax?: number }): Knex;
  /** Closes the handles opened so far (the database stays, for a spawned process). */
  closeHandles(): Promise<void>;
  /** Closes every handle and deletes the file or drops the schema. */
  destroy(): Promise<void>;
}

/** Cleanups still owed, so an interrupted run (Ctrl-C) still drops its schemas and files. */
const pending = new Set<() => Promise<void>>();

export async function cleanupAll(): Promise<void> {
  for (const cleanup of [...pending]) await cleanup().catch(() => undefined);
}

let tempRoot: string | undefined;

/** The run's temporary directory (removed by `cleanupAll`). */
export function benchTempDir(): string {
  if (!tempRoot) {
    const dir = mkdtempSync(join(tmpdir(), "kms-bench-"));
    tempRoot = dir;
    const cleanup = async () => {
      rmSync(dir, { recursive: true, force: true });
      pending.delete(cleanup);
    };
    pending.add(cleanup);
  }
  return tempRoot;
}

export async function createBenchDb(
  dialect: Dialect,
  options: { pgUrl?: string; name: string; migrate?: boolean },
): Promise<BenchDb> {
  const handles: Knex[] = [];
  let url: string;
  let processUrl: string;
  let schema: string | undefined;
  let drop: () => Promise<void>;
  if (dialect === "sqlite") {
    const dir = mkdtempSync(join(benchTempDir(), `${options.name}-`));
    url = `sqlite:${join(dir, "kms.sqlite3")}`;
    processUrl = url;
    drop = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    const pgUrl = options.pgUrl;
    if (!pgUrl) throw new Error("no PostgreSQL URL");
    schema = `kms_bench_${options.name.replace(/\W/g, "_")}_${randomBytes(4).toString("hex")}`;
    const admin = knex({ client: "pg", connection: pgUrl, pool: { min: 0, max: 1 } });
    await admin.raw("CREATE SCHEMA ??", [schema]);
    await admin.destroy();
    url = pgUrl;
    processUrl = `${pgUrl}${pgUrl.includes("?") ? "&" : "?"}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    const name = schema;
    drop = async () => {
      const dropper = knex({ client: "pg", connection: pgUrl, pool: { min: 0, max: 1 } });
      await dropper.raw("DROP SCHEMA IF EXISTS ?? CASCADE", [name]);
      await dropper.destroy();
    };
  }
  const closeHandles = async () => {
    await Promise.all(handles.splice(0).map((h) => h.destroy()));
  };
  const cleanup = async () => {
    pending.delete(cleanup);
    await closeHandles();
    await drop();
  };
  pending.add(cleanup);
  const another = (o: { poolMax?: number } = {}) => {
    const handle = openDatabase(url, { searchPath: schema, poolMax: o.poolMax });
    handles.push(handle);
    return handle;
  };
  const db = another();
  if (options.migrate !== false) await applyMigrations(db);
  return { dialect, db, url: processUrl, another, closeHandles, destroy: cleanup };
}

export interface SeedOptions {
  count: number;
  /** Every `dueEvery`-th instance expires within a day (a 1-day warning is due); 0: none. */
  dueEvery: number;
  /** "Now" for the fleet: due instances expire 6 to 7 hours after it, the rest 31 to 395 days after. */
  now: number;
}

export const BENCH_OWNER = "U0MEMBER1";

/** The id of the n-th seeded instance. */
export function benchInstanceId(n: number): string {
  return `kst-bench${String(n).padStart(8, "0")}`;
}

/**
 * Inserts `count` instances with one INSERT ... SELECT (a recursive CTE on SQLite,
 * generate_series on PostgreSQL): ids `kst-bench00000000`..., alternating sites, owner
 * U0MEMBER1. Due instances have a channel of their own (CB<n>) so posts are not paced
 * behind each other; the others use the alert channel. Returns how many are due.
 */
export async function seedInstances(db: Knex, options: SeedOptions): Promise<number> {
  const { count, dueEvery, now } = options;
  const dialect = (db.client.config.client as string) === "pg" ? "postgres" : "sqlite";
  const cols =
    "id, name, site, expires_at, admin_disabled_at, released_at, channel, owner, auto_renew_months, snoozed_until, wont_renew_expires_at, created_at, updated_at";
  const pad = (expr: string) =>
    dialect === "sqlite" ? `printf('%08d', ${expr})` : `lpad((${expr})::text, 8, '0')`;
  const big = (expr: string) => (dialect === "sqlite" ? expr : `(${expr})::bigint`);
  const due = dueEvery > 0 ? `(n % ${Math.floor(dueEvery)} = 0)` : "(1 = 0)";
  const select = `SELECT 'kst-bench' || ${pad("n")}, 'bench instance ' || n,
      CASE WHEN n % 2 = 0 THEN 'international' ELSE 'china' END,
      CASE WHEN ${due} THEN ${big(String(now + 6 * 3_600_000))} + ${big("n % 3600")} * 1000
           ELSE ${big(String(now + 31 * DAY_MS))} + ${big("n % 365")} * ${DAY_MS} END,
      NULL, NULL,
      CASE WHEN ${due} THEN 'CB' || ${pad("n")} ELSE NULL END,
      '${BENCH_OWNER}', NULL, NULL, NULL, ${big(String(now - 30 * DAY_MS))}, ${big(String(now - 30 * DAY_MS))}`;
  if (dialect === "sqlite") {
    await db.raw(
      `INSERT INTO instances (${cols})
       WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n + 1 < ${count})
       ${select} FROM seq`,
    );
  } else {
    await db.raw(
      `INSERT INTO instances (${cols}) ${select} FROM generate_series(0, ${count - 1}) AS n`,
    );
    // Autovacuum analyses a freshly loaded table shortly after a load like this one.
    await db.raw("ANALYZE instances");
  }
  return dueEvery > 0 ? Math.floor((count - 1) / dueEvery) + 1 : 0;
}

/** Tops the balance up by `usd` (in recharges of at most USD 10,000,000, as the CLI would). */
export async function fund(db: Knex, usd: number): Promise<void> {
  const ctx = { db, clock: Date.now, timezone: "UTC", envAdmins: [] };
  for (let left = usd; left > 0; left -= 10_000_000) {
    await topup(ctx, cliActor, Math.min(left, 10_000_000) * 100);
  }
}
