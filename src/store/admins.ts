import type { StoreCtx } from "./db.js";
import { type AdminRow, adminRow } from "./rows.js";

export async function listAdmins({ tx }: StoreCtx): Promise<AdminRow[]> {
  const rows = await tx("admins").orderBy("added_at");
  return rows.map((r) => adminRow.parse(r));
}

export async function isAdminRow({ tx }: StoreCtx, userId: string): Promise<boolean> {
  return (await tx("admins").where({ user_id: userId }).first()) !== undefined;
}

/** Adds an admin; returns false when the user already was one. */
export async function insertAdmin({ tx }: StoreCtx, row: AdminRow): Promise<boolean> {
  const inserted = await tx("admins")
    .insert(row)
    .onConflict("user_id")
    .ignore()
    .returning("user_id");
  return inserted.length > 0;
}

export async function deleteAdmin({ tx }: StoreCtx, userId: string): Promise<boolean> {
  return (await tx("admins").where({ user_id: userId }).delete()) > 0;
}
