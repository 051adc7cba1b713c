import type { BaseConfig } from "../config.js";
import { type AccountDeps, type CredentialCheck, checkCredentials } from "./account.js";
import { accountDeps } from "./provider.js";
import { alibabaSettings } from "./settings.js";

/** The account as last seen from this process, for `/healthz` and the logs. */
export interface AccountHealth {
  ok: boolean;
  message: string;
}

let health: AccountHealth = { ok: true, message: "local ledger" };

export function accountHealth(): AccountHealth {
  return health;
}

/**
 * Start-up check of KMS_PROVIDER=alibaba: one QueryAccountBalance. Returns the one line to
 * print before exiting with 2 when the AccessKey is rejected (never the secret). An account
 * that merely can't be reached lets the bot start, and is retried in the background (with
 * backoff, up to 5 minutes apart) until it answers.
 */
export async function checkAccountAtStart(
  config: BaseConfig,
  log: (line: string) => void = (line) => console.warn(line),
  deps: AccountDeps | undefined = undefined,
): Promise<string | undefined> {
  const settings = alibabaSettings(config);
  if (!settings) return undefined;
  const account = deps ?? accountDeps(settings);
  const note = (check: CredentialCheck) => {
    health = check.ok
      ? { ok: true, message: `Alibaba Cloud account reachable at ${settings.endpoint}` }
      : { ok: false, message: check.message };
  };
  const first = await checkCredentials(account);
  note(first);
  if (!first.ok && first.fatal) return `kms-bot: ${first.message}`;
  if (first.ok) return undefined;
  log(`kms-bot: ${first.message}`);
  const retry = (delayMs: number) => {
    setTimeout(async () => {
      const check = await checkCredentials(account);
      note(check);
      if (check.ok) log(`kms-bot: ${health.message}`);
      else if (check.fatal) log(`kms-bot: ${check.message}`);
      else retry(Math.min(delayMs * 2, 300_000));
    }, delayMs).unref();
  };
  retry(5_000);
  return undefined;
}
