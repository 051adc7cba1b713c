import { getInstance } from "../store/instances.js";
import type { InstanceRow, OrderRow } from "../store/rows.js";
import { balance } from "./account.js";
import { type MonthBill, monthBill } from "./bills.js";
import type { Actor, BillingContext } from "./context.js";
import { BillingError } from "./errors.js";
import { setAutoRenew } from "./instances.js";
import {
  type OrderResult,
  quoteRenewal,
  type RenewalQuote,
  type RenewInput,
  renew,
} from "./orders.js";
import { estimateRefund, type RefundEstimate } from "./refunds.js";

/** One line of an account bill (`QueryInstanceBill`), tied to the bot's order where it placed it. */
export interface AccountBillLine {
  billingCycle: string;
  /** `YYYY-MM-DD`: the account's BillingDate, or the day the bot's order was paid. */
  date: string;
  instanceId: string;
  /** The account's `Item` (`SubscriptionOrder`, `Refund`, ...), or `Renewal` for a bot-only line. */
  item: string;
  months: number | null;
  amountCents: number;
  /** The bot's order (`ORD-...`), when the bot placed it. */
  orderId: number | null;
  /** The account's OrderId of the bot's order. */
  accountOrderId: string | null;
  /**
   * `both`: on the account and placed by the bot; `account`: the account only (a console or
   * automatic renewal); `bot`: paid through the bot, not yet on the account's bill.
   */
  source: "both" | "account" | "bot";
}

export interface AccountBill {
  month: string;
  lines: AccountBillLine[];
  totals: { chargedCents: number; refundedCents: number; netCents: number };
}

/** A renewal quote, saying where its price came from. */
export interface ProviderQuote extends RenewalQuote {
  /**
   * `account`: Alibaba Cloud's GetSubscriptionPrice; `catalogue`: the bot's price table (the
   * local ledger, or the fallback when the account could not quote: label it so).
   */
  source: "account" | "catalogue";
}

/**
 * A month's bill: the local ledger's lines (balance after each), or the account's bill lines
 * merged with the bot's own orders (src/alibaba/bills.ts; CSV with accountBillCsv).
 */
export type ProviderBill =
  | { kind: "ledger"; bill: MonthBill }
  | { kind: "account"; bill: AccountBill };

export type ProviderRefundEstimate = RefundEstimate & { estimate: boolean };

/** What one sync with the account changed. */
export interface SyncResult {
  added: string[];
  updated: string[];
  released: string[];
  unchanged: number;
  /** One line per change, for `kms-bot sync` and `/kms sync`. */
  changes: string[];
}

/** What became of one submitted account order on a retry. */
export interface RetryOutcome {
  order: OrderRow;
  outcome: "paid" | "failed" | "pending";
  /** The paid result (outcome `paid`). */
  result?: OrderResult;
  /** Why it failed or is still pending: the words for the person (`created_by`). */
  error?: BillingError;
}

/**
 * Where money and the fleet live. `local` (the default) is the bot's own ledger, exactly as
 * before; `alibaba` is the Alibaba Cloud account through the BSS OpenAPI (src/alibaba/).
 */
export interface BillingProvider {
  readonly kind: "local" | "alibaba";
  /** `/kms topup` changes the balance only on the local ledger. */
  readonly canTopUp: boolean;
  /** The timer charges auto-renewals itself only locally; the account renews by itself. */
  readonly chargesAutoRenewals: boolean;
  balance(ctx: BillingContext): Promise<number>;
  quoteRenewal(ctx: BillingContext, instanceId: string, months: number): Promise<ProviderQuote>;
  renew(ctx: BillingContext, actor: Actor, input: RenewInput): Promise<OrderResult>;
  setAutoRenew(
    ctx: BillingContext,
    actor: Actor,
    instanceId: string,
    months: number | null,
  ): Promise<InstanceRow>;
  bill(ctx: BillingContext, month: string): Promise<ProviderBill>;
  /**
   * What unsubscribing would refund by the seed's rule. With the account it is an estimate
   * (`estimate: true`): Alibaba Cloud decides the refund on the ticket the admin submits.
   */
  estimateRefund(ctx: BillingContext, instanceId: string): Promise<ProviderRefundEstimate>;
  /** Pulls the account's instances (alibaba); WRONG_PROVIDER locally. */
  sync(ctx: BillingContext, actor: Actor): Promise<SyncResult>;
  /** Retries every submitted account order with its own ClientToken; nothing to do locally. */
  retrySubmitted(ctx: BillingContext): Promise<RetryOutcome[]>;
}

/** The bot's own ledger: today's behaviour, unchanged. */
export const localProvider: BillingProvider = {
  kind: "local",
  canTopUp: true,
  chargesAutoRenewals: true,
  balance,
  quoteRenewal: async (ctx, instanceId, months) => ({
    ...(await quoteRenewal(ctx, instanceId, months)),
    source: "catalogue",
  }),
  renew,
  async setAutoRenew(ctx, actor, instanceId, months) {
    await setAutoRenew(ctx, actor, instanceId, months);
    const row = await getInstance({ tx: ctx.db }, instanceId);
    if (!row) throw new BillingError({ code: "NOT_FOUND", entity: "instance", id: instanceId });
    return row;
  },
  bill: async (ctx, month) => ({ kind: "ledger", bill: await monthBill(ctx, month) }),
  estimateRefund: async (ctx, instanceId) => ({
    ...(await estimateRefund(ctx, instanceId)),
    estimate: false,
  }),
  sync: async () => {
    throw new BillingError({ code: "WRONG_PROVIDER", action: "sync", needs: "alibaba" });
  },
  retrySubmitted: async () => [],
};
