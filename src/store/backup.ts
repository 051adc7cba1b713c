import { existsSync, renameSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import type { Knex } from "knex";
import { dialectOf } from "./db.js";

/**
 * A consistent online copy of a SQLite database into `file` with `VACUUM INTO`: it reads one
 * snapshot (WAL readers don't block the bot's writers, nor do they see half a transaction), so
 * the copy is a database as of one moment. PostgreSQL has pg_dump for this.
 */
export async function backupSqlite(db: Knex, file: string): Promise<string> {
  if (dialectOf(db) !== "sqlite")
    throw new Error("backup copies SQLite databases; for PostgreSQL use pg_dump");
  const target = resolve(file);
  if (existsSync(target)) throw new Error(`${target} already exists; choose a new file`);
  // Written under a temporary name and renamed when complete, so a backup killed half-way
  // leaves no file that looks like a backup.
  const partial = `${target}.${process.pid}.partial`;
  try {
    await db.raw("VACUUM INTO ?", [partial]);
    renameSync(partial, target);
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  }
  return target;
}
