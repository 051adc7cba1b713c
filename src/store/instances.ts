import { forUpdate, type StoreCtx } from "./db.js";
import { type InstanceRow, instanceRow } from "./rows.js";

export async function getInstance({ tx }: StoreCtx, id: string): Promise<InstanceRow | undefined> {
  const row = await tx("instances").where({ id }).first();
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
