#!/usr/bin/env node
import { existsSync, readFileSync, realpathSync, renameSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { accountBillCsv } from "./alibaba/bills.js";
import { accountDeps, alibabaProvider } from "./alibaba/provider.js";
import { alibabaSettings } from "./alibaba/settings.js";
import { topup } from "./billing/account.js";
import { billCsv, orderLabel } from "./billing/bills.js";
import { type BillingContext, cliActor } from "./billing/context.js";
import { BillingError } from "./billing/errors.js";
import { timerSettings } from "./billing/expiry.js";
import {
  type ImportResult,
  importInstances,
  resumeImport,
  rollbackImport,
} from "./billing/import-run.js";
import { formatUsd, parseAmount } from "./billing/money.js";
import { parsePeriod, periodLabel } from "./billing/periods.js";
import { type BillingProvider, localProvider } from "./billing/provider.js";
import { billingCycle, isoInZone, parseIsoInstant } from "./billing/time.js";
import { type Clock, systemClock } from "./clock.js";
import {
  type BaseConfig,
  ConfigError,
  loadBaseConfig,
  loadTimerConfig,
  type TimerConfig,
} from "./config.js";
import { backupSqlite } from "./store/backup.js";
import { openDatabase } from "./store/db.js";
import { applyMigrations } from "./store/migrate.js";
import { slackPoster } from "./timer/poster.js";
import { rehearse, summaryLine, sweep } from "./timer/sweep.js";

export const USAGE = `Usage: kms-bot <command>

  migrate                                  apply database migrations
  import <file.csv> [--force-dates]        upsert instances (instance_id,name,site,expires_at,channel,owner),
                                           reporting per row what changed and what was refused; an existing
                                           expiry moves only with --force-dates (audited), never before a
                                           period the bot sold
  import --resume <id> <file.csv>          finish an import a crash interrupted (same file)
  import --rollback <id>                   undo an interrupted import
  topup <amount>                           add a recharge to the prepaid balance, e.g. 1,000.50
  bills [--month YYYY-MM] [--out file.csv] export a month's bill lines as CSV (default: this month, to stdout)
  backup <file.sqlite3>                    consistent online copy of the SQLite database (restore: stop the
                                           bot, put the copy at the DATABASE_URL path, start it)
  sweep [--at <ISO time>] [--dry-run]      run the expiry timer once, as of now or of the given time;
                                           --dry-run prints what it would post and change, and changes nothing
  sync                                     KMS_PROVIDER=alibaba: finish submitted renewals, then pull the
                                           account's instances and print what changed
  renew <instance> <months> [--key <key>]  renew from the shell; a repeated --key never renews twice

Configuration comes from the environment (and ./.env): DATABASE_URL, KMS_TIMEZONE, KMS_ADMIN_USERS,
KMS_PROVIDER and, with alibaba, ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET, KMS_ALIBABA_SITE/_ENDPOINT/_PRODUCT_CODE;
sweep also reads SLACK_BOT_TOKEN, SLACK_API_URL, KMS_ALERT_CHANNEL, KMS_WARN_DAYS, KMS_RELEASE_WARN_DAYS.`;

export interface CliIo {
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  clock: Clock;
}

/** Writes a file whole or not at all: a killed process leaves the old file or none. */
function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** Runs one CLI command and returns the process exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    io.stdout(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  const dryRun = command === "sweep" && argv.includes("--dry-run");
  let config: BaseConfig | TimerConfig;
  try {
    config = command === "sweep" ? loadTimerConfig(io.env, { dryRun }) : loadBaseConfig(io.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const db = openDatabase(config.DATABASE_URL);
  const ctx: BillingContext = {
    db,
    clock: io.clock,
    timezone: config.KMS_TIMEZONE,
    envAdmins: config.KMS_ADMIN_USERS,
  };
  const settings = alibabaSettings(config);
  const provider = settings ? alibabaProvider(accountDeps(settings)) : localProvider;
  try {
    // Every command brings the schema up to date, except backup: a backup copies the database
    // exactly as it is (a new release's backup taken before upgrading must not upgrade it).
    const applied = command === "backup" ? [] : await applyMigrations(db);
    switch (command) {
      case "migrate":
        io.stdout(
          applied.length > 0 ? `Applied ${applied.join(", ")}\n` : "Database is up to date.\n",
        );
        return 0;
      case "import":
        return await importCommand(io, ctx, provider, rest);
      case "topup": {
        if (rest.length !== 1) return usage(io, "topup takes one amount: kms-bot topup 1,000.50");
        if (!provider.canTopUp)
          throw new BillingError({ code: "WRONG_PROVIDER", action: "topup", needs: "local" });
        const { entry } = await topup(ctx, cliActor, parseAmount(rest[0]));
        io.stdout(
          `Recharged ${formatUsd(entry.amount_cents)}. Balance: ${formatUsd(entry.balance_after_cents)}\n`,
        );
        return 0;
      }
      case "bills":
        return await billsCommand(io, ctx, provider, rest);
      case "backup": {
        const [file, extra] = rest;
        if (file === undefined || extra !== undefined)
          return usage(io, "backup takes one file: kms-bot backup <file.sqlite3>");
        try {
          io.stdout(`Backed up to ${await backupSqlite(db, file)}\n`);
        } catch (error) {
          return fail(io, (error as Error).message);
        }
        return 0;
      }
      case "sweep":
        return await sweepCommand(io, ctx, rest, config as TimerConfig);
      case "sync":
        if (rest.length > 0) return usage(io, "sync takes no arguments");
        return await syncCommand(ctx, provider, io);
      case "renew":
        return await renewCommand(ctx, provider, rest, io);
      default:
        return usage(io, `unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof BillingError) return fail(io, error.message);
    if (
      error instanceof TypeError &&
      (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")
    ) {
      return usage(io, error.message);
    }
    throw error;
  } finally {
    await db.destroy();
  }
}

/** Finishes submitted account renewals, then pulls the account's fleet; prints each change. */
async function syncCommand(ctx: BillingContext, provider: BillingProvider, io: CliIo) {
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

async function renewCommand(
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
async function importCommand(
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
async function billsCommand(
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
async function sweepCommand(
  io: CliIo,
  ctx: BillingContext,
  args: string[],
  timer: TimerConfig,
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
    ? await rehearse({ ...ctx, clock }, settings)
    : await sweep(
        { ...ctx, clock },
        settings,
        slackPoster(timer.SLACK_BOT_TOKEN ?? "", timer.SLACK_API_URL),
      );
  for (const action of summary.actions) io.stdout(`${action}\n`);
  io.stdout(`${dryRun ? "dry run, nothing changed: " : ""}${summaryLine(summary)}\n`);
  return summary.failed > 0 ? 1 : 0;
}

/** A file system failure in words: which file, and what is wrong with it. */
function fileProblem(path: string, error: unknown): string {
  switch ((error as { code?: string }).code) {
    case "ENOENT":
      return `No such file or folder: ${path}`;
    case "EISDIR":
      return `${path} is a folder, not a file`;
    case "EACCES":
      return `Permission denied: ${path}`;
    default:
      return `Can't use ${path}: ${(error as Error).message}`;
  }
}

function usage(io: CliIo, problem: string): number {
  io.stderr(`kms-bot: ${problem}\n\n${USAGE}\n`);
  return 2;
}

function fail(io: CliIo, message: string): number {
  io.stderr(`kms-bot: ${message}\n`);
  return 1;
}

function isMain(): boolean {
  const entry = process.argv[1];
  return entry !== undefined && realpathSync(entry) === fileURLToPath(import.meta.url);
}

if (isMain()) {
  if (existsSync(".env")) process.loadEnvFile(".env");
  const code = await runCli(process.argv.slice(2), {
    env: process.env,
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    clock: systemClock,
  });
  process.exitCode = code;
}
