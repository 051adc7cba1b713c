import type { BillingContext } from "../billing/context.js";
import { BillingError } from "../billing/errors.js";
import type { BillingProvider, ProviderRefundEstimate } from "../billing/provider.js";
import { computeRefund } from "../billing/refunds.js";
import { getInstance, updateInstance } from "../store/instances.js";
import { listOrders } from "../store/orders.js";
import {
  type AccountDeps,
  accountBalance,
  BalanceCache,
  quoteOnAccount,
  setAutoRenewOnAccount,
} from "./account.js";
import { accountMonthBill } from "./bills.js";
import { type BssClient, createBssClient } from "./client.js";
import { renewOnAccount, retrySubmitted } from "./renew.js";
import type { AlibabaSettings } from "./settings.js";
import { syncFleet } from "./sync.js";

export function accountDeps(
  settings: AlibabaSettings,
  bss: BssClient = createBssClient(settings),
): AccountDeps {
  return { bss, settings, balance: new BalanceCache(settings.balanceTtlMs) };
}

/**
 * The unsubscription estimate from the account's data: the instance's expiry re-read from the
 * account, the seed's rule over the orders the bot placed. It is an estimate: the refund
 * itself is decided by Alibaba Cloud on the ticket the admin submits.
 */
export async function estimateRefundOnAccount(
  ctx: BillingContext,
  deps: AccountDeps,
  instanceId: string,
): Promise<ProviderRefundEstimate> {
  const seen = (await deps.bss.queryInstances(1, 1, [instanceId]).catch(() => undefined))?.rows[0];
  if (seen) {
    await updateInstance({ tx: ctx.db }, instanceId, {
      expires_at: seen.endTime,
      auto_renew_months: seen.autoRenewMonths,
      updated_at: ctx.clock(),
    });
  }
  const instance = await getInstance({ tx: ctx.db }, instanceId);
  if (!instance) throw new BillingError({ code: "NOT_FOUND", entity: "instance", id: instanceId });
  const orders = await listOrders({ tx: ctx.db }, instanceId);
  return { ...computeRefund(instance, orders, ctx.clock()), estimate: true };
}

/** KMS_PROVIDER=alibaba: the Alibaba Cloud account through the BSS OpenAPI. */
export function alibabaProvider(deps: AccountDeps): BillingProvider {
  return {
    kind: "alibaba",
    canTopUp: false,
    chargesAutoRenewals: false,
    balance: (ctx) => accountBalance(ctx, deps),
    quoteRenewal: (ctx, instanceId, months) => quoteOnAccount(ctx, deps, instanceId, months),
    renew: (ctx, actor, input) => renewOnAccount(ctx, deps, actor, input),
    setAutoRenew: (ctx, actor, instanceId, months) =>
      setAutoRenewOnAccount(ctx, deps, actor, instanceId, months),
    bill: async (ctx, month) => ({
      kind: "account",
      bill: await accountMonthBill(ctx, deps, month),
    }),
    estimateRefund: (ctx, instanceId) => estimateRefundOnAccount(ctx, deps, instanceId),
    sync: (ctx, actor) => syncFleet(ctx, deps, actor),
    retrySubmitted: (ctx) => retrySubmitted(ctx, deps),
  };
}
