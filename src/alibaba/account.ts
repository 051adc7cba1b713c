import { audit, isAdmin, listAdmins } from "../billing/admins.js";
import { checkPeriod } from "../billing/charge.js";
import type { Actor, BillingContext } from "../billing/context.js";
import { BillingError } from "../billing/errors.js";
import { lifecycleOf } from "../billing/lifecycle.js";
import { renewalPeriod } from "../billing/orders.js";
import type { ProviderQuote } from "../billing/provider.js";
import { transaction } from "../store/db.js";
import { getInstance, lockInstance, updateInstance } from "../store/instances.js";
import { priceAt } from "../store/prices.js";
import type { InstanceRow } from "../store/rows.js";
import { type BssClient, BssError } from "./client.js";
import type { AlibabaSettings } from "./settings.js";

/** The balance read from the account, reused for a few seconds and dropped after a renewal. */
export class BalanceCache {
  private value: { cents: number; at: number } | undefined;

  constructor(private readonly ttlMs: number) {}

  async get(now: number, read: () => Promise<number>): Promise<number> {
    if (this.value && now - this.value.at < this.ttlMs) return this.value.cents;
    const cents = await read();
    this.value = { cents, at: now };
    return cents;
  }

  invalidate(): void {
    this.value = undefined;
  }
}

/** What the account operations share: the API client, the settings and the balance cache. */
export interface AccountDeps {
  bss: BssClient;
  settings: AlibabaSettings;
  balance: BalanceCache;
}

/** A BssError in the words of the billing core: a person reads it, the secret never appears. */
export function accountFailure(error: unknown): BillingError | unknown {
  if (!(error instanceof BssError)) return error;
  if (error.kind === "unavailable" || error.kind === "throttled") {
    return new BillingError({
      code: "ACCOUNT_UNAVAILABLE",
      operation: error.operation,
      problem: error.code,
    });
  }
  const problem =
    error.kind === "credentials"
      ? "the AccessKey (ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET) is not accepted."
      : error.kind === "forbidden"
        ? "the AccessKey's RAM policy does not allow this action (see the README's RAM policy)."
        : "the account refused it.";
  return new BillingError({
    code: "ACCOUNT_REFUSED",
    operation: error.operation,
    accountCode: error.code,
    problem,
  });
}

async function fromAccount<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw accountFailure(error);
  }
}

/** `AvailableAmount` of the account in cents (cached for `balanceTtlMs`). */
export function accountBalance(ctx: BillingContext, deps: AccountDeps): Promise<number> {
  return fromAccount(() => deps.balance.get(ctx.clock(), () => deps.bss.availableBalanceCents()));
}

/** The balance read fresh, after the bot's own renewal changed it. */
export function freshBalance(ctx: BillingContext, deps: AccountDeps): Promise<number> {
  deps.balance.invalidate();
  return accountBalance(ctx, deps);
}

/**
 * The price of renewing `instanceId` for `months` from `GetSubscriptionPrice` (OrderType
 * Renewal), with the account's balance. When the quote can't be had, the local catalogue's
 * price, labelled `source: "catalogue"`.
 */
export async function quoteOnAccount(
  ctx: BillingContext,
  deps: AccountDeps,
  instanceId: string,
  months: number,
): Promise<ProviderQuote> {
  const period = checkPeriod(months);
  const instance = await getInstance({ tx: ctx.db }, instanceId);
  if (!instance) throw new BillingError({ code: "NOT_FOUND", entity: "instance", id: instanceId });
  const now = ctx.clock();
  const { start, end, anniversary } = renewalPeriod(instance, now, period, ctx.timezone);
  let amountCents: number;
  let source: ProviderQuote["source"] = "account";
  try {
    amountCents = await deps.bss.renewalPriceCents(instanceId, period);
  } catch (error) {
    if (!(error instanceof BssError)) throw error;
    source = "catalogue";
    amountCents = (await priceAt({ tx: ctx.db }, instance.site, now)).unit_cents * period;
  }
  const balanceCents = await accountBalance(ctx, deps);
  return {
    instance,
    months: period,
    anniversary,
    // The account quotes a total; the monthly figure is its share, for display.
    unitCents: Math.floor(amountCents / period),
    amountCents,
    balanceCents,
    balanceAfterCents: balanceCents - amountCents,
    periodStart: start,
    periodEnd: end,
    source,
  };
}

/** Admins, or the owner of the instance, may change its auto-renewal (as in local mode). */
async function requireAdminOrOwner(ctx: BillingContext, actor: Actor, instance: InstanceRow) {
  if (await isAdmin(ctx, ctx.db, actor)) return;
  if (actor.type === "user" && instance.owner === actor.userId) return;
  throw new BillingError({
    code: "FORBIDDEN",
    action: "change auto-renewal",
    admins: await listAdmins(ctx, ctx.db),
    ownerAllowed: true,
  });
}

/**
 * Auto-renewal on the account through `SetRenewal` (`AutoRenewal` for `months`, `ManualRenewal`
 * for null); the account renews by itself and the next sync shows the result.
 */
export async function setAutoRenewOnAccount(
  ctx: BillingContext,
  deps: AccountDeps,
  actor: Actor,
  instanceId: string,
  months: number | null,
): Promise<InstanceRow> {
  if (months !== null) checkPeriod(months);
  const instance = await getInstance({ tx: ctx.db }, instanceId);
  if (!instance) throw new BillingError({ code: "NOT_FOUND", entity: "instance", id: instanceId });
  await requireAdminOrOwner(ctx, actor, instance);
  if (lifecycleOf(instance, ctx.clock()).state === "released")
    throw new BillingError({ code: "INSTANCE_RELEASED", instanceId });
  await fromAccount(() => deps.bss.setRenewal(instanceId, months === null ? null : { months }));
  return transaction(ctx.db, async (tx) => {
    const now = ctx.clock();
    await updateInstance({ tx }, instanceId, { auto_renew_months: months, updated_at: now });
    await audit(ctx, tx, actor, "instance.autorenew", instanceId, { months, account: true });
    const row = await lockInstance({ tx }, instanceId);
    if (!row) throw new BillingError({ code: "NOT_FOUND", entity: "instance", id: instanceId });
    return row;
  });
}

export type CredentialCheck =
  | { ok: true; balanceCents: number }
  | { ok: false; fatal: true; message: string }
  | { ok: false; fatal: false; message: string };

/**
 * One cheap call (`QueryAccountBalance`) at start-up. A rejected AccessKey is fatal (one line
 * naming the problem, never the secret); an unreachable account is not.
 */
export async function checkCredentials(deps: AccountDeps): Promise<CredentialCheck> {
  const keyId = deps.settings.accessKeyId;
  try {
    return { ok: true, balanceCents: await deps.bss.availableBalanceCents() };
  } catch (error) {
    if (!(error instanceof BssError)) throw error;
    switch (error.kind) {
      case "credentials":
        return {
          ok: false,
          fatal: true,
          message:
            error.code === "SignatureDoesNotMatch"
              ? `Alibaba Cloud rejected the signature of AccessKey ${keyId} (SignatureDoesNotMatch): ALIBABA_CLOUD_ACCESS_KEY_SECRET is not this key's secret.`
              : `Alibaba Cloud does not know AccessKey ${keyId} (${error.code}): check ALIBABA_CLOUD_ACCESS_KEY_ID.`,
        };
      case "forbidden":
        return {
          ok: false,
          fatal: true,
          message: `AccessKey ${keyId} may not read the account (${error.code}): grant its RAM user bssapi:QueryAccountBalance and the other actions of the README's RAM policy.`,
        };
      default:
        return {
          ok: false,
          fatal: false,
          message: `Alibaba Cloud could not be reached at ${deps.settings.endpoint} (${error.code}); starting anyway and retrying.`,
        };
    }
  }
}
