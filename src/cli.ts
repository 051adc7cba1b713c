#!/usr/bin/env node
import { existsSync, realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { accountDeps, alibabaProvider } from "./alibaba/provider.js";
import { alibabaSettings } from "./alibaba/settings.js";
import type { BillingContext } from "./billing/context.js";
import { BillingError } from "./billing/errors.js";
import { localProvider } from "./billing/provider.js";
import {
  backupCommand,
  billsCommand,
  importCommand,
  renewCommand,
  sweepCommand,
  syncCommand,
  topupCommand,
} from "./cli/commands.js";
import { type CliIo, fail, USAGE, usage } from "./cli/io.js";
import { systemClock } from "./clock.js";
import {
  type BaseConfig,
  ConfigError,
  loadBaseConfig,
  loadTimerConfig,
  type TimerConfig,
} from "./config.js";
import { openDatabase } from "./store/db.js";
import { applyMigrations } from "./store/migrate.js";

export { importReport } from "./cli/commands.js";
export { type CliIo, USAGE } from "./cli/io.js";

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
      case "topup":
        return await topupCommand(io, ctx, provider, rest);
      case "bills":
        return await billsCommand(io, ctx, provider, rest);
      case "backup":
        return await backupCommand(io, ctx, rest);
      case "sweep":
        return await sweepCommand(io, ctx, rest, config as TimerConfig, provider);
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
