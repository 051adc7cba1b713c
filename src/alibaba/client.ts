import type { AlibabaSettings } from "./settings.js";

/** One subscription instance as the account lists it. */
export interface AccountInstance {
  instanceId: string;
  /** `EndTime`, epoch ms. */
  endTime: number;
  /** `AutoRenewal`, `ManualRenewal` or `NotRenewal`. */
  renewStatus: string;
  /** Months of each automatic renewal (`RenewalDuration` x `RenewalDurationUnit`), or null. */
  autoRenewMonths: number | null;
}

/** One line of `QueryInstanceBill`. */
export interface AccountBillItem {
  instanceId: string;
  /** `BillingDate`, `YYYY-MM-DD`. */
  billingDate: string;
  /** `Item`: `SubscriptionOrder`, `Refund`, ... */
  item: string;
  amountCents: number;
  months: number | null;
}

export interface Page<T> {
  total: number;
  rows: T[];
}

/** The operations of the BSS OpenAPI that kms-bot calls, in its own types. */
export interface BssClient {
  queryInstances(page: number, size: number, ids?: string[]): Promise<Page<AccountInstance>>;
  availableBalanceCents(): Promise<number>;
  renewalPriceCents(instanceId: string, months: number): Promise<number>;
  /** Returns the account's OrderId. */
  renewInstance(instanceId: string, months: number, clientToken: string): Promise<string>;
  /** `{ months }` turns auto-renewal on for that period; null turns it off (ManualRenewal). */
  setRenewal(instanceId: string, setting: { months: number } | null): Promise<void>;
  instanceBill(cycle: string, page: number, size: number): Promise<Page<AccountBillItem>>;
}

/**
 * - `credentials`: the AccessKey is unknown or the secret wrong;
 * - `forbidden`: the RAM policy does not allow the action;
 * - `throttled`: `Throttling.*` after the retries;
 * - `unavailable`: no definite answer (timeout, connection refused, 5xx): it may have happened;
 * - `refused`: a definite refusal (insufficient balance, unknown instance, bad parameter).
 */
export type BssErrorKind = "credentials" | "forbidden" | "throttled" | "unavailable" | "refused";

export class BssError extends Error {
  constructor(
    readonly operation: string,
    readonly kind: BssErrorKind,
    readonly code: string,
    message: string,
  ) {
    super(`${operation}: ${code}: ${message}`);
    this.name = "BssError";
  }
}

const CREDENTIAL_CODES = /^(InvalidAccessKeyId|SignatureDoesNotMatch|IncompleteSignature)/;
const FORBIDDEN_CODES = /^(Forbidden|NoPermission|NotAuthorized)/;

/** Sorts what the SDK threw into a BssError; the secret is never part of its message. */
export function classify(operation: string, error: unknown): BssError {
  if (error instanceof BssError) return error;
  const e = error as { code?: unknown; statusCode?: unknown; message?: unknown; name?: unknown };
  const code = typeof e?.code === "string" ? e.code : "";
  const status = typeof e?.statusCode === "number" ? e.statusCode : undefined;
  const text = String(e?.message ?? error);
  if (CREDENTIAL_CODES.test(code)) return new BssError(operation, "credentials", code, text);
  if (FORBIDDEN_CODES.test(code)) return new BssError(operation, "forbidden", code, text);
  if (code.startsWith("Throttling")) return new BssError(operation, "throttled", code, text);
  if (status !== undefined && status >= 400 && status < 500 && code !== "")
    return new BssError(operation, "refused", code, text);
  return new BssError(
    operation,
    "unavailable",
    code || (status ? `HTTP ${status}` : "network"),
    text,
  );
}

/**
 * The BSS OpenAPI through the official SDK; `sleep` paces the throttling retries. The SDK
 * (about 40 MB in memory) is loaded on the first call, so a bot on the local ledger never
 * loads it.
 */
export function createBssClient(
  settings: AlibabaSettings,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): BssClient {
  let sdk: Promise<BssClient> | undefined;
  const client = () => {
    sdk ??= import("./sdk.js").then((m) => m.sdkBssClient(settings, sleep));
    return sdk;
  };
  return {
    queryInstances: async (page, size, ids) => (await client()).queryInstances(page, size, ids),
    availableBalanceCents: async () => (await client()).availableBalanceCents(),
    renewalPriceCents: async (id, months) => (await client()).renewalPriceCents(id, months),
    renewInstance: async (id, months, token) => (await client()).renewInstance(id, months, token),
    setRenewal: async (id, setting) => (await client()).setRenewal(id, setting),
    instanceBill: async (cycle, page, size) => (await client()).instanceBill(cycle, page, size),
  };
}
