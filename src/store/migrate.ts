import type { Knex } from "knex";
import { migrations } from "../../migrations/index.js";

// Migrations are imported modules rather than files knex finds on disk, so the same list
// serves the TypeScript sources (tests) and the compiled build (bot and CLI).
const source: Knex.MigrationSource<string> = {
  getMigrations: async () => migrations.map(([name]) => name),
  getMigrationName: (name) => name,
  getMigration: async (name) => {
    const found = migrations.find(([n]) => n === name);
    if (!found) throw new Error(`unknown migration ${name}`);
    return found[1];
  },
};

const config: Knex.MigratorConfig = { migrationSource: source, tableName: "kms_migrations" };

/** Applies every pending migration; returns the names applied. */
export async function applyMigrations(db: Knex): Promise<string[]> {
  const [, applied] = (await db.migrate.latest(config)) as [number, string[]];
  return applied;
}

/** Rolls back every migration (tests use it to check that `down` works). */
export async function rollbackAll(db: Knex): Promise<string[]> {
  const [, rolledBack] = (await db.migrate.rollback(config, true)) as [number, string[]];
  return rolledBack;
}

/** Applies the next pending migration only (tests step through the history with it). */
export async function migrateUp(db: Knex): Promise<string[]> {
  const [, applied] = (await db.migrate.up(config)) as [number, string[]];
  return applied;
}

/** Rolls back the last applied migration only. */
export async function migrateDown(db: Knex): Promise<string[]> {
  const [, rolledBack] = (await db.migrate.down(config)) as [number, string[]];
  return rolledBack;
}
