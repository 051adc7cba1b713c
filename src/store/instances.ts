import type { Knex } from "knex";
import { forUpdate, type StoreCtx } from "./db.js";
import { type InstanceRow, instanceRow } from "./rows.js";
import { isSqliteHandle, sqliteStatement } from "./sqlite-fast.js";

export async function getInstance({ tx }: StoreCtx, id: string): Promise<InstanceRow | undefined> {
  // The hottest read (once per warning a sweep posts): a prepared statement on SQLite.
  const row = isSqliteHandle(tx)
    ? (
        await sqliteStatement(tx as Knex, (q) =>
          q.all("SELECT * FROM instances WHERE id = ?", [id]),
        )
      )[0]
    : await tx("instances").where({ id }).first();
  return row ? instanceRow.parse(row) : undefined;
}

/** Reads an instance and, on PostgreSQL, locks its row until the transaction ends. */
export async function lockInstance({ tx }: StoreCtx, id: string): Promise<InstanceRow | undefined> {
  const row = await forUpdate(tx, tx("instances").where({ id })).first();
  return row ? instanceRow.parse(row) : undefined;
}

/** Every instance, soonest expiry first. */
export async function listInstances({ tx }: StoreCtx): Promise<InstanceRow[]> {
  const rows = await tx("instances").orderBy([{ column: "expires_at" }, { column: "id" }]);
  return rows.map((r) => instanceRow.parse(r));
}

export async function insertInstance({ tx }: StoreCtx, row: InstanceRow): Promise<void> {
  await tx("instances").insert(row);
}

export type InstancePatch = Partial<Omit<InstanceRow, "id" | "created_at">> & {
  updated_at: number;
};

export async function updateInstance(
  { tx }: StoreCtx,
  id: string,
  patch: InstancePatch,
): Promise<void> {
  await tx("instances").where({ id }).update(patch);
}

/** `now` and the lifecycle's release delay: what decides which instances are released. */
export interface ReleaseRule {
  now: number;
  releaseAfterMs: number;
}

/**
 * Up to `limit` instances not released as of `now`, soonest expiry first (served by the
 * `(released_at, expires_at)` index, however large the fleet).
 */
export async function soonestInstances(
  { tx }: StoreCtx,
  { now, releaseAfterMs }: ReleaseRule,
  limit: number,
): Promise<InstanceRow[]> {
  const rows = await tx("instances")
    .where((q) => q.whereNull("released_at").orWhere("released_at", ">", now))
    .andWhere("expires_at", ">", now - releaseAfterMs)
    .orderBy([{ column: "expires_at" }, { column: "id" }])
    .limit(limit);
  return rows.map((r) => instanceRow.parse(r));
}

export interface FleetCounts {
  total: number;
  active: number;
  disabled: number;
  released: number;
}

/** How many instances are in each lifecycle state at `now`, counted by the database. */
export async function countFleet(
  { tx }: StoreCtx,
  { now, releaseAfterMs }: ReleaseRule,
): Promise<FleetCounts> {
  const released = `((released_at is not null and released_at <= ?) or expires_at <= ?)`;
  const row = await tx("instances")
    .select(
      tx.raw("count(*) as total"),
      tx.raw(`sum(case when ${released} then 1 else 0 end) as released`, [
        now,
        now - releaseAfterMs,
      ]),
      tx.raw(
        `sum(case when not ${released} and (expires_at <= ? or admin_disabled_at is not null) then 1 else 0 end) as disabled`,
        [now, now - releaseAfterMs, now],
      ),
    )
    .first();
  const total = Number(row?.total ?? 0);
  const releasedCount = Number(row?.released ?? 0);
  const disabled = Number(row?.disabled ?? 0);
  return { total, released: releasedCount, disabled, active: total - releasedCount - disabled };
}
