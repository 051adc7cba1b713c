import type { Db } from "../store/db.js";
import { transaction } from "../store/db.js";
import {
  deleteUnusedInstance,
  getImport,
  type ImportChangeRow,
  type ImportRow as ImportRecord,
  importChanges,
  setImportStatus,
} from "../store/imports.js";
import { getInstance, updateInstance } from "../store/instances.js";
import type { InstanceRow } from "../store/rows.js";
import { audit, requireAdmin } from "./admins.js";
import type { Actor, BillingContext } from "./context.js";
import { BillingError } from "./errors.js";

// An import's record of what it wrote, and undoing it.

const PAGE = 1000;

/** Every change an import recorded, in file order, page by page. */
export async function* changesOf(ctx: BillingContext, importId: string) {
  for (let after = 0; ; ) {
    const page = await importChanges({ tx: ctx.db }, importId, after, PAGE);
    yield* page;
    if (page.length < PAGE) return;
    after = page[page.length - 1].line;
  }
}

export async function applyingImport(ctx: BillingContext, id: string): Promise<ImportRecord> {
  const imp = await getImport({ tx: ctx.db }, id);
  if (!imp) throw new BillingError({ code: "NOT_FOUND", entity: "import", id });
  if (imp.status !== "applying")
    throw new BillingError({
      code: "INVALID_INPUT",
      field: `import ${id}`,
      problem: `is ${imp.status.replace("_", " ")}`,
    });
  return imp;
}

/** Puts back the fields one change wrote, unless something has changed them since. */
async function undoChange(ctx: BillingContext, tx: Db, c: ImportChangeRow): Promise<void> {
  if (c.before === null) {
    await deleteUnusedInstance({ tx }, c.instance_id);
    return;
  }
  const current = await getInstance({ tx }, c.instance_id);
  if (!current) return;
  const after = JSON.parse(c.after) as Record<string, unknown>;
  const before = JSON.parse(c.before) as Record<string, unknown>;
  const unchangedSince = Object.keys(after).filter(
    (k) => (current[k as keyof InstanceRow] ?? null) === after[k],
  );
  if (unchangedSince.length === 0) return;
  const patch = Object.fromEntries(unchangedSince.map((k) => [k, before[k]]));
  await updateInstance({ tx }, c.instance_id, { ...patch, updated_at: ctx.clock() });
}

/**
 * Undoes an import: instances it created and nothing refers to yet are deleted, and each
 * field it changed is put back unless something has changed it since (a renewal, say).
 */
export async function rollbackImport(ctx: BillingContext, actor: Actor, id: string): Promise<void> {
  await requireAdmin(ctx, ctx.db, actor, "import instances");
  await applyingImport(ctx, id);
  const changes: ImportChangeRow[] = [];
  for await (const c of changesOf(ctx, id)) changes.push(c);
  for (let i = 0; i < changes.length; i += 200) {
    await transaction(ctx.db, async (tx) => {
      for (const c of changes.slice(i, i + 200)) await undoChange(ctx, tx, c);
    });
  }
  await transaction(ctx.db, async (tx) => {
    await setImportStatus({ tx }, id, "rolled_back", ctx.clock());
    await audit(ctx, tx, actor, "instance.import_rollback", null, { importId: id });
  });
}
