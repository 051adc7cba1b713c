import { renameSync, writeFileSync } from "node:fs";
import type { Clock } from "../clock.js";

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
export function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** A file system failure in words: which file, and what is wrong with it. */
export function fileProblem(path: string, error: unknown): string {
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

export function usage(io: CliIo, problem: string): number {
  io.stderr(`kms-bot: ${problem}\n\n${USAGE}\n`);
  return 2;
}

export function fail(io: CliIo, message: string): number {
  io.stderr(`kms-bot: ${message}\n`);
  return 1;
}
