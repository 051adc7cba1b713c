import { z } from "zod";
import type { StoreCtx } from "./db.js";

const int = z.coerce.number().int();

export const importRow = z.object({
  id: z.string(),
  file_sha256: z.string(),
  rows: int,
  force_dates: z.coerce.boolean(),
  status: z.enum(["applying", "done", "rolled_back"]),
  actor: z.string(),
  created_at: int,
  updated_at: int,
});
export type ImportRow = z.infer<typeof importRow>;

export const importChangeRow = z.object({
  import_id: z.string(),
  instance_id: z.string(),
  line: int,
  before: z.string().nullable(),
  after: z.string(),
  outcome: z.string(),
});
export type ImportChangeRow = z.infer<typeof importChangeRow>;

export async function insertImport({ tx }: StoreCtx, row: ImportRow): Promise<void> {
  await tx("imports").insert(row);
}

export async function getImport({ tx }: StoreCtx, id: string): Promise<ImportRow | undefined> {
  const row = await tx("imports").where({ id }).first();
  return row ? importRow.parse(row) : undefined;
}

export async function setImportStatus(
  { tx }: StoreCtx,
  id: string,
  status: ImportRow["status"],
  at: number,
): Promise<void> {
  await tx("imports").where({ id }).update({ status, updated_at: at });
}

export async function insertImportChange({ tx }: StoreCtx, row: ImportChangeRow): Promise<void> {
  await tx("import_changes").insert(row);
}

/** The changes of an import, in file order, `limit` at a time after line `afterLine`. */
export async function importChanges(
  { tx }: StoreCtx,
  importId: string,
  afterLine: number,
  limit: number,
): Promise<ImportChangeRow[]> {
  const rows = await tx("import_changes")
    .where({ import_id: importId })
    .andWhere("line", ">", afterLine)
    .orderBy("line")
    .limit(limit);
  return rows.map((r) => importChangeRow.parse(r));
}

/** Deletes an instance nothing refers to yet (no order, ledger line, ticket or warning). */
export async function deleteUnusedInstance({ tx }: StoreCtx, id: string): Promise<boolean> {
  for (const table of ["orders", "ledger", "tickets", "warnings"]) {
    if (await tx(table).where({ instance_id: id }).first()) return false;
  }
  return (await tx("instances").where({ id }).delete()) === 1;
}
