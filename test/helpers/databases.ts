import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import knex, { type Knex } from "knex";
import { openDatabase } from "../../src/store/db.js";
import { applyMigrations } from "../../src/store/migrate.js";

/** The PostgreSQL server the store suite also runs on; `.ci/run` sets it. */
export const PG_URL = process.env.KMS_TEST_PG_URL;

if (!PG_URL) {
  if (process.env.CI) {
    throw new Error("KMS_TEST_PG_URL is not set: CI must run the PostgreSQL suite (see .ci/run)");
  }
  console.warn("KMS_TEST_PG_URL is not set: skipping the PostgreSQL runs of the store suite");
}

export type DatabaseId = "sqlite" | "postgres";

/** The databases every store test runs on: SQLite always, PostgreSQL when its URL is set. */
export const DATABASES: DatabaseId[] = PG_URL ? ["sqlite", "postgres"] : ["sqlite"];

export interface TestDatabase {
  id: DatabaseId;
  /** The URL a second connection in this process would use (SQLite file or PostgreSQL URL). */
  url: string;
  /** `DATABASE_URL` for another process: for PostgreSQL it selects this database's schema. */
  processUrl: string;
  /** PostgreSQL schema isolating this database; undefined for SQLite. */
  schema?: string;
  db: Knex;
  /** Opens one more independent handle on the same database. */
  another(options?: { poolMax?: number }): Knex;
  destroy(): Promise<void>;
}

/**
 * A fresh, migrated database: a new SQLite file in a temporary folder, or a new schema on
 * the PostgreSQL server. `destroy` removes it and closes every handle opened.
 */
export async function createTestDatabase(
  id: DatabaseId,
  options: { migrate?: boolean } = {},
): Promise<TestDatabase> {
  const handles: Knex[] = [];
  let url: string;
  let schema: string | undefined;
  let cleanup: () => Promise<void>;
  if (id === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "kms-test-"));
    url = `sqlite:${join(dir, "kms.sqlite3")}`;
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    if (!PG_URL) throw new Error("KMS_TEST_PG_URL is not set");
    url = PG_URL;
    schema = `kms_test_${randomBytes(6).toString("hex")}`;
    const admin = knex({ client: "pg", connection: PG_URL, pool: { min: 0, max: 1 } });
    await admin.raw("CREATE SCHEMA ??", [schema]);
    await admin.destroy();
    const name = schema;
    cleanup = async () => {
      const dropper = knex({ client: "pg", connection: PG_URL, pool: { min: 0, max: 1 } });
      await dropper.raw("DROP SCHEMA ?? CASCADE", [name]);
      await dropper.destroy();
    };
  }
  const another = (o: { poolMax?: number } = {}) => {
    const handle = openDatabase(url, { searchPath: schema, poolMax: o.poolMax });
    handles.push(handle);
    return handle;
  };
  const db = another();
  if (options.migrate !== false) await applyMigrations(db);
  const processUrl = schema
    ? `${url}${url.includes("?") ? "&" : "?"}options=${encodeURIComponent(`-c search_path=${schema}`)}`
    : url;
  return {
    id,
    url,
    processUrl,
    schema,
    db,
    another,
    async destroy() {
      await Promise.all(handles.map((h) => h.destroy()));
      await cleanup();
    },
  };
}
