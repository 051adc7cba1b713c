import { createHash, randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { type Db, transaction } from "../store/db.js";
import {
  type ImportRow as ImportRecord,
  insertImport,
  insertImportChange,
  setImportStatus,
} from "../store/imports.js";
import {
  getInstance,
  type InstancePatch,
  insertInstance,
  updateInstance,
} from "../store/instances.js";
import { listOrders } from "../store/orders.js";
import type { InstanceRow } from "../store/rows.js";
import { audit, requireAdmin } from "./admins.js";
import { orderLabel } from "./bills.js";
import { type Actor, actorId, type BillingContext } from "./context.js";
import { BillingError } from "./errors.js";
import { type ImportRow, type ParseOptions, parseInstanceCsv } from "./import.js";
import { applyingImport, changesOf, rollbackImport } from "./import-undo.js";

export { rollbackImport };

import { isoInZone } from "./time.js";

export interface ImportOptions extends ParseOptions {
  /** Move the expiry of existing instances to the file's date (audited; never before a period the bot sold). */
  forceDates?: boolean;
  /** Most rows written per transaction (default 500). */
  batchRows?: number;
  /** A transaction takes no more rows once it has run this long (default 200 ms). */
  batchMs?: number;
  /** Monotonic milliseconds for batch lengths (default `performance.now`). */
  elapsed?: () => number;
  /** Called after each batch commits, outside any transaction (progress). */
  afterBatch?: (p: { importId: string; written: number; total: number }) => Promise<void> | void;
}

/** What the import did with one row of the file. */
export interface RowOutcome {
  line: number;
  instanceId: string;
  outcome: "created" | "updated" | "unchanged";
  /** Fields written. */
  changed: string[];
  /** Changes the file asked for and the import refused, each in words. */
  refused: string[];
}

export interface ImportResult {
  importId: string;
  created: number;
  updated: number;
  unchanged: number;
  /** Rows with at least one refused change. */
  refused: number;
  rows: RowOutcome[];
}

const FIELDS = ["name", "site", "channel", "owner"] as const;

interface Decision {
  row: RowOutcome;
  patch: Partial<InstanceRow>;
  forcedFrom?: number;
}

/** Why the file's expiry is not applied to `current`, or undefined when it may be. */
async function dateRefusal(
  ctx: BillingContext,
  tx: Db,
  current: InstanceRow,
  wanted: number,
  force: boolean,
): Promise<string | undefined> {
  const iso = (at: number) => isoInZone(at, ctx.timezone);
  const keeps = `kept expires_at ${iso(current.expires_at)} (the file says ${iso(wanted)}`;
  if (current.released_at !== null) return `${keeps}; the instance is released)`;
  if (!force) return `${keeps}; --force-dates moves it)`;
  const paid = (await listOrders({ tx }, current.id)).filter(
    (o) => o.refunded_cents < o.amount_cents,
  );
  const last = paid.reduce((a, o) => (a && a.period_end >= o.period_end ? a : o), paid[0]);
  if (last && wanted < last.period_end)
    return `${keeps}; ${orderLabel(last.id)} paid through the bot up to ${iso(last.period_end)}, which an import never shortens)`;
  return undefined;
}

async function decide(
  ctx: BillingContext,
  tx: Db,
  row: ImportRow,
  current: InstanceRow | undefined,
  force: boolean,
): Promise<Decision> {
  const base = { line: row.line, instanceId: row.instance_id, changed: [], refused: [] };
  if (!current) return { row: { ...base, outcome: "created" }, patch: {} };
  const out: RowOutcome = { ...base, outcome: "unchanged", changed: [], refused: [] };
  const patch: Partial<InstanceRow> = {};
  for (const f of FIELDS) {
    if (row[f] === current[f]) continue;
    Object.assign(patch, { [f]: row[f] });
    out.changed.push(f);
  }
  let forcedFrom: number | undefined;
  if (row.expires_at !== null && row.expires_at !== current.expires_at) {
    const why = await dateRefusal(ctx, tx, current, row.expires_at, force);
    if (why) out.refused.push(why);
    else {
      Object.assign(patch, { expires_at: row.expires_at, anniversary_at: null });
      out.changed.push("expires_at");
      forcedFrom = current.expires_at;
    }
  }
  if (out.changed.length > 0) out.outcome = "updated";
  return { row: out, patch, forcedFrom };
}

function notOnAccount(line: number, id: string): BillingError {
  return new BillingError({
    code: "INVALID_INPUT",
    field: `CSV line ${line}`,
    problem: `expires_at is empty and ${id} is not on the Alibaba Cloud account`,
  });
}

/** Refuses the file, before anything is written, when a row without a date names an unknown instance. */
async function checkAccountDates(ctx: BillingContext, rows: ImportRow[]): Promise<void> {
  for (const row of rows) {
    if (row.expires_at === null && !(await getInstance({ tx: ctx.db }, row.instance_id)))
      throw notOnAccount(row.line, row.instance_id);
  }
}

/** Writes one row under the import's id: the instance, its before-image, the audit of a forced date. */
async function writeRow(
  ctx: BillingContext,
  tx: Db,
  actor: Actor,
  imp: ImportRecord,
  row: ImportRow,
): Promise<RowOutcome> {
  const now = ctx.clock();
  const current = await getInstance({ tx }, row.instance_id);
  const d = await decide(ctx, tx, row, current, imp.force_dates);
  const { instance_id: id, line, expires_at, ...metadata } = row;
  if (!current) {
    if (expires_at === null) throw notOnAccount(line, id);
    await insertInstance(
      { tx },
      {
        id,
        ...metadata,
        expires_at,
        admin_disabled_at: null,
        released_at: null,
        auto_renew_months: null,
        snoozed_until: null,
        wont_renew_expires_at: null,
        created_at: now,
        updated_at: now,
      },
    );
  } else if (d.row.changed.length > 0) {
    await updateInstance({ tx }, id, { ...(d.patch as InstancePatch), updated_at: now });
  }
  if (d.forcedFrom !== undefined)
    await audit(ctx, tx, actor, "instance.import_force_date", id, {
      importId: imp.id,
      from: d.forcedFrom,
      to: row.expires_at,
    });
  const before = current
    ? JSON.stringify(
        Object.fromEntries(
          Object.keys(d.patch).map((k) => [k, current[k as keyof InstanceRow] ?? null]),
        ),
      )
    : null;
  await insertImportChange(
    { tx },
    {
      import_id: imp.id,
      instance_id: id,
      line: row.line,
      before,
      after: JSON.stringify(d.patch),
      outcome: JSON.stringify(d.row),
    },
  );
  return d.row;
}

/** Writes the rows not yet written, in transactions of bounded length. */
async function writeRows(
  ctx: BillingContext,
  actor: Actor,
  imp: ImportRecord,
  rows: ImportRow[],
  options: ImportOptions,
): Promise<void> {
  const written = new Set<string>();
  for await (const c of changesOf(ctx, imp.id)) written.add(c.instance_id);
  const todo = rows.filter((r) => !written.has(r.instance_id));
  const elapsed = options.elapsed ?? (() => performance.now());
  const maxRows = options.batchRows ?? 500;
  const maxMs = options.batchMs ?? 200;
  for (let i = 0; i < todo.length; ) {
    const started = elapsed();
    const taken = await transaction(ctx.db, async (tx) => {
      let n = 0;
      while (i + n < todo.length && n < maxRows && (n === 0 || elapsed() - started < maxMs)) {
        await writeRow(ctx, tx, actor, imp, todo[i + n]);
        n++;
      }
      return n;
    });
    i += taken;
    await options.afterBatch?.({
      importId: imp.id,
      written: written.size + i,
      total: rows.length,
    });
  }
}

async function finish(ctx: BillingContext, actor: Actor, imp: ImportRecord): Promise<ImportResult> {
  const rows: RowOutcome[] = [];
  for await (const c of changesOf(ctx, imp.id)) rows.push(JSON.parse(c.outcome) as RowOutcome);
  const count = (o: RowOutcome["outcome"]) => rows.filter((r) => r.outcome === o).length;
  const result = {
    importId: imp.id,
    created: count("created"),
    updated: count("updated"),
    unchanged: count("unchanged"),
    refused: rows.filter((r) => r.refused.length > 0).length,
    rows,
  };
  await transaction(ctx.db, async (tx) => {
    await setImportStatus({ tx }, imp.id, "done", ctx.clock());
    const { rows: _rows, ...counts } = result;
    await audit(ctx, tx, actor, "instance.import", null, { ...counts, rows: rows.length });
  });
  return result;
}

/** Runs (or continues) an import; on a failure undoes what it wrote and says so. */
async function run(
  ctx: BillingContext,
  actor: Actor,
  imp: ImportRecord,
  rows: ImportRow[],
  options: ImportOptions,
): Promise<ImportResult> {
  try {
    await writeRows(ctx, actor, imp, rows, options);
  } catch (error) {
    const problem = error instanceof Error ? error.message : String(error);
    const undone = await rollbackImport(ctx, actor, imp.id).then(
      () => true,
      () => false,
    );
    throw new BillingError({
      code: "INVALID_INPUT",
      field: `import ${imp.id}`,
      problem: undone
        ? `failed (${problem}); everything it had written is rolled back`
        : `failed (${problem}) and is not rolled back yet: run kms-bot import --rollback ${imp.id}, or --resume ${imp.id} <file>`,
    });
  }
  return finish(ctx, actor, imp);
}

const sha256 = (file: string | Uint8Array) => createHash("sha256").update(file).digest("hex");

/**
 * Imports instances from a CSV file (admins only). The whole file is validated first (a bad
 * row refuses it, naming its line, before anything is written); then rows are written in
 * short transactions under an import id, so the bot keeps answering meanwhile. A failure
 * rolls back what was written; a crash leaves the id to `resumeImport` or `rollbackImport`.
 * Existing instances keep their expiry unless `forceDates` (audited), and never lose a
 * period the bot sold.
 */
export async function importInstances(
  ctx: BillingContext,
  actor: Actor,
  file: string | Uint8Array,
  options: ImportOptions = {},
): Promise<ImportResult> {
  const rows = parseInstanceCsv(file, ctx.timezone, options);
  await requireAdmin(ctx, ctx.db, actor, "import instances");
  await checkAccountDates(ctx, rows);
  const now = ctx.clock();
  const imp: ImportRecord = {
    id: `imp-${now.toString(36)}-${randomBytes(4).toString("hex")}`,
    file_sha256: sha256(file),
    rows: rows.length,
    force_dates: options.forceDates === true,
    status: "applying",
    actor: actorId(actor),
    created_at: now,
    updated_at: now,
  };
  await transaction(ctx.db, (tx) => insertImport({ tx }, imp));
  return run(ctx, actor, imp, rows, options);
}

/** Continues an import a crash interrupted, with the same file (checked by its hash). */
export async function resumeImport(
  ctx: BillingContext,
  actor: Actor,
  id: string,
  file: string | Uint8Array,
  options: Omit<ImportOptions, "forceDates"> = {},
): Promise<ImportResult> {
  const rows = parseInstanceCsv(file, ctx.timezone, options);
  await requireAdmin(ctx, ctx.db, actor, "import instances");
  await checkAccountDates(ctx, rows);
  const imp = await applyingImport(ctx, id);
  if (imp.file_sha256 !== sha256(file))
    throw new BillingError({
      code: "INVALID_INPUT",
      field: `import ${id}`,
      problem: "was started with another file; resume it with the same file",
    });
  return run(ctx, actor, imp, rows, options);
}
