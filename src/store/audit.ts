import type { StoreCtx } from "./db.js";
import { type AuditRow, auditRow } from "./rows.js";

export interface AuditEntry {
  at: number;
  actor: string;
  action: string;
  subject: string | null;
  inputs: Record<string, unknown>;
}

export async function insertAudit({ tx }: StoreCtx, entry: AuditEntry): Promise<void> {
  await tx("audit_log").insert({ ...entry, inputs: JSON.stringify(entry.inputs) });
}

export async function listAudit({ tx }: StoreCtx, limit = 100): Promise<AuditRow[]> {
  const rows = await tx("audit_log").orderBy("id", "desc").limit(limit);
  return rows.map((r) => auditRow.parse(r));
}
