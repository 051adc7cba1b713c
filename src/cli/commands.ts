import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { accountBillCsv } from "../alibaba/bills.js";
import { topup } from "../billing/account.js";
import { billCsv, orderLabel } from "../billing/bills.js";
import { type BillingContext, cliActor } from "../billing/context.js";
import { BillingError } from "../billing/errors.js";
import { timerSettings } from "../billing/expiry.js";
import {
  type ImportResult,
  importInstances,
  resumeImport,
  rollbackImport,
} from "../billing/import-run.js";
import { formatUsd, parseAmount } from "../billing/money.js";
import { parsePeriod, periodLabel } from "../billing/periods.js";
import type { BillingProvider } from "../billing/provider.js";
import { billingCycle, isoInZone, parseIsoInstant } from "../billing/time.js";
import type { TimerConfig } from "../config.js";
import { backupSqlite } from "../store/backup.js";
import { slackPoster } from "../timer/poster.js";
import { rehearse, summaryLine, sweep } from "../timer/sweep.js";
import { type CliIo, fail, fileProblem, usage, writeAtomically } from "./io.js";

/** Finishes submitted account renewals, then pulls the account's fleet; prints each change. */
export async function syncCommand(ctx: BillingContext, provider: BillingProvider, io: CliIo) {
  for (const r of await provider.retrySubmitted(ctx)) {
    const what = `${orderLabel(r.order.id)} (${r.order.instance_id}, ${periodLabel(r.order.months)})`;
    io.stdout(`${what}: ${r.outcome}${r.error ? `: ${r.error.message}` : ""}\n`);
  }
  const result = await provider.sync(ctx, cliActor);
  for (const change of result.changes) io.stdout(`${change}\n`);
  io.stdout(
    `Synced with the Alibaba Cloud account: ${result.added.length} added, ${result.updated.length} updated, ${result.released.length} released, ${result.unchanged} unchanged.\n`,
  );
  return 0;
}

export async function renewCommand(
  ctx: BillingContext,
  provider: BillingProvider,
  rest: string[],
  io: CliIo,
) {
  const { values, positionals } = parseArgs({
    args: rest,
    options: { key: { type: "string" } },
    strict: true,
    allowPositionals: true,
  });
  const [instanceId, period, extra] = positionals;
  if (instanceId === undefined || period === undefined || extra !== undefined)
    return usage(io, "renew takes an instance and a period: kms-bot renew kst-... 3");
  const r = await provider.renew(ctx, cliActor, {
    instanceId,
    months: parsePeriod(period),
    idempotencyKey: values.key ?? null,
  });
  io.stdout(
    `${r.replayed ? "Already renewed" : "Renewed"} ${instanceId} for ${periodLabel(r.order.months)}: ${orderLabel(r.order.id)}${r.order.account_order_id ? ` (Alibaba Cloud order ${r.order.account_order_id})` : ""}, ${formatUsd(r.order.amount_cents)}. Expires ${isoInZone(r.instance.expires_at, ctx.timezone)}. Balance: ${formatUsd(r.balanceAfterCents)}.\n`,
  );
  return 0;
}

/** `kms-bot import`: a file, or `--resume <id> <file>`, or `--rollback <id>`. */
export async function importCommand(
  io: CliIo,
  ctx: BillingContext,
  provider: BillingProvider,
  args: string[],
): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      "force-dates": { type: "boolean" },
      resume: { type: "string" },
      rollback: { type: "string" },
    },
    strict: true,
    allowPositionals: true,
  });
  if (values.rollback !== undefined) {
    if (positionals.length > 0) return usage(io, "import --rollback takes an import id only");
    await rollbackImport(ctx, cliActor, values.rollback);
    io.stdout(`Rolled back import ${values.rollback}.\n`);
    return 0;
  }
  const [file, extra] = positionals;
  if (file === undefined || extra !== undefined)
    return usage(io, "import takes one file: kms-bot import <file.csv>");
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    return fail(io, fileProblem(file, error));
  }
  // With the account, rows with an empty expires_at take the account's date: sync first.
  const emptyExpiry = provider.kind === "alibaba";
  if (emptyExpiry) await provider.sync(ctx, cliActor);
  const result =
    values.resume !== undefined
      ? await resumeImport(ctx, cliActor, values.resume, bytes, { emptyExpiry })
      : await importInstances(ctx, cliActor, bytes, {
          forceDates: values["force-dates"],
          emptyExpiry,
        });
  io.stdout(importReport(result));
  return 0;
}

/** One line per row that changed or was refused something, then the totals. */
export function importReport(r: ImportResult): string {
  const lines = r.rows
    .filter((row) => row.outcome !== "unchanged" || row.refused.length > 0)
    .map((row) => {
      const parts = [
        row.outcome === "created" ? "created" : "",
        row.outcome === "updated" ? `updated ${row.changed.join(", ")}` : "",
        ...row.refused.map((why) => `refused: ${why}`),
      ].filter(Boolean);
      return `line ${row.line} ${row.instanceId}: ${parts.join("; ")}\n`;
    });
  const refused = r.refused > 0 ? `; ${r.refused} row(s) with a refused change` : "";
  return `${lines.join("")}Imported ${r.rows.length} instance(s): ${r.created} new, ${r.updated} updated, ${r.unchanged} unchanged${refused}. Import id ${r.importId}.\n`;
}

/** `kms-bot bills [--month YYYY-MM] [--out file.csv]`. */
export async function billsCommand(
  io: CliIo,
  ctx: BillingContext,
  provider: BillingProvider,
  args: string[],
): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { month: { type: "string" }, out: { type: "string" } },
    strict: true,
    allowPositionals: true,
  });
  if (positionals.length > 0) return usage(io, `unexpected argument ${positionals[0]}`);
  const month = values.month ?? billingCycle(io.clock(), ctx.timezone);
  const bill = await provider.bill(ctx, month);
  const csv = bill.kind === "ledger" ? billCsv(bill.bill, ctx.timezone) : accountBillCsv(bill.bill);
  if (values.out) {
    try {
      writeAtomically(values.out, csv);
    } catch (error) {
      return fail(io, fileProblem(values.out, error));
    }
    io.stdout(`Wrote ${values.out}\n`);
  } else {
    io.stdout(csv);
  }
  return 0;
}

/** `kms-bot sweep [--at <ISO time>] [--dry-run]`. */
export async function sweepCommand(
  io: CliIo,
  ctx: BillingContext,
  args: string[],
  timer: TimerConfig,
  provider: BillingProvider,
): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { at: { type: "string" }, "dry-run": { type: "boolean" } },
    strict: true,
    allowPositionals: true,
  });
  const dryRun = values["dry-run"] === true;
  if (positionals.length > 0) return usage(io, `unexpected argument ${positionals[0]}`);
  let clock = io.clock;
  if (values.at !== undefined) {
    const at = parseIsoInstant(values.at, ctx.timezone);
    if (at === undefined)
      return usage(io, `--at "${values.at}" is not an ISO 8601 time such as 2026-12-01T09:00:00Z`);
    clock = () => at;
  }
  const settings = timerSettings(timer);
  const summary = dryRun
    ? await rehearse({ ...ctx, clock }, settings, { provider })
    : await sweep(
        { ...ctx, clock },
        settings,
        slackPoster(timer.SLACK_BOT_TOKEN ?? "", timer.SLACK_API_URL),
        { provider },
      );
  for (const action of summary.actions) io.stdout(`${action}\n`);
  io.stdout(`${dryRun ? "dry run, nothing changed: " : ""}${summaryLine(summary)}\n`);
  return summary.failed > 0 ? 1 : 0;
}

/** `kms-bot topup <amount>` (local ledger only). */
export async function topupCommand(
  io: CliIo,
  ctx: BillingContext,
  provider: BillingProvider,
  rest: string[],
): Promise<number> {
  if (rest.length !== 1) return usage(io, "topup takes one amount: kms-bot topup 1,000.50");
  if (!provider.canTopUp)
    throw new BillingError({ code: "WRONG_PROVIDER", action: "topup", needs: "local" });
  const { entry } = await topup(ctx, cliActor, parseAmount(rest[0]));
  io.stdout(
    `Recharged ${formatUsd(entry.amount_cents)}. Balance: ${formatUsd(entry.balance_after_cents)}\n`,
  );
  return 0;
}

/** `kms-bot backup <file.sqlite3>`: a consistent copy of the SQLite database. */
export async function backupCommand(
  io: CliIo,
  ctx: BillingContext,
  rest: string[],
): Promise<number> {
  const [file, extra] = rest;
  if (file === undefined || extra !== undefined)
    return usage(io, "backup takes one file: kms-bot backup <file.sqlite3>");
  try {
    io.stdout(`Backed up to ${await backupSqlite(ctx.db, file)}\n`);
  } catch (error) {
    return fail(io, (error as Error).message);
  }
  return 0;
}
