import { createHash } from "node:crypto";
import { audit } from "../billing/admins.js";
import { checkPeriod, checkShownPrice } from "../billing/charge.js";
import { type Actor, actorId, type BillingContext, userActor } from "../billing/context.js";
import { BillingError } from "../billing/errors.js";
import { lifecycleOf } from "../billing/lifecycle.js";
import { type OrderResult, type RenewInput, renewalOrderFields } from "../billing/orders.js";
import type { RetryOutcome } from "../billing/provider.js";
import { isUniqueViolation, transaction } from "../store/db.js";
import { getInstance, lockInstance, updateInstance } from "../store/instances.js";
import {
  getOrder,
  getOrderByKey,
  insertOrder,
  listOrdersByStatus,
  settleSubmittedOrder,
} from "../store/orders.js";
import type { OrderRow } from "../store/rows.js";
import { type AccountDeps, freshBalance, quoteOnAccount } from "./account.js";
import { BssError } from "./client.js";

/**
 * The ClientToken of an order: derived from the request's idempotency key and the order row,
 * at most 64 ASCII characters. A retry of the same order sends the same token, so the account
 * answers it with its first result; an order written after a definite refusal gets a new one.
 */
export function clientToken(idempotencyKey: string, orderId: number): string {
  const digest = createHash("sha256").update(idempotencyKey).digest("hex").slice(0, 40);
  return `kms-${digest}-${orderId}`;
}

/** Writes the order `submitted`, with its token, before anything is sent to the account. */
async function submitOrder(
  ctx: BillingContext,
  deps: AccountDeps,
  actor: Actor,
  input: RenewInput,
  key: string,
): Promise<OrderRow> {
  const months = checkPeriod(input.months);
  const quote = await quoteOnAccount(ctx, deps, input.instanceId, months);
  checkShownPrice(quote.unitCents, input.expectedUnitCents);
  return transaction(ctx.db, async (tx) => {
    const instance = await lockInstance({ tx }, input.instanceId);
    if (!instance)
      throw new BillingError({ code: "NOT_FOUND", entity: "instance", id: input.instanceId });
    if (lifecycleOf(instance, ctx.clock()).state === "released")
      throw new BillingError({ code: "INSTANCE_RELEASED", instanceId: instance.id });
    if (input.expectedExpiresAt !== undefined && instance.expires_at !== input.expectedExpiresAt)
      throw new BillingError({ code: "PERIOD_CHANGED", instanceId: instance.id });
    const order = await insertOrder(
      { tx },
      {
        ...renewalOrderFields(instance, quote, key),
        created_by: actorId(actor),
        created_at: ctx.clock(),
        status: "submitted",
      },
    );
    const token = clientToken(key, order.id);
    await settleSubmittedOrder({ tx }, order.id, { client_token: token });
    await audit(ctx, tx, actor, "instance.renew.submit", instance.id, {
      months,
      orderId: order.id,
      clientToken: token,
    });
    return { ...order, client_token: token };
  });
}

/** Who placed an order, from its `created_by`. */
function creatorOf(order: OrderRow): Actor {
  const by = order.created_by;
  return by === "cli" || by === "timer" ? { type: "system", name: by } : userActor(by);
}

/** The refusal a person reads for a definite "no" from RenewInstance. */
async function refusal(ctx: BillingContext, deps: AccountDeps, order: OrderRow, error: BssError) {
  if (error.code === "PAY.INSUFFICIENT_BALANCE" || error.code === "ACCOUNT_BALANCE_EXCEEDED") {
    const balanceCents = await freshBalance(ctx, deps).catch(() => 0);
    return new BillingError({
      code: "INSUFFICIENT_BALANCE",
      priceCents: order.amount_cents,
      balanceCents,
      shortfallCents: Math.max(0, order.amount_cents - balanceCents),
      account: true,
    });
  }
  if (error.code.startsWith("InvalidInstance")) {
    return new BillingError({
      code: "INVALID_INPUT",
      field: "instance",
      problem: `Alibaba Cloud does not accept ${order.instance_id} for renewal (${error.code}); run a sync to refresh the fleet.`,
    });
  }
  const kind =
    error.kind === "forbidden"
      ? "the AccessKey's RAM policy does not allow RenewInstance."
      : "nothing was renewed.";
  return new BillingError({
    code: "ACCOUNT_REFUSED",
    operation: "RenewInstance",
    accountCode: error.code,
    problem: kind,
  });
}

/** The instance's expiry and auto-renewal as the account has them now, or undefined. */
async function accountView(deps: AccountDeps, instanceId: string) {
  try {
    return (await deps.bss.queryInstances(1, 1, [instanceId])).rows[0];
  } catch {
    return undefined;
  }
}

/** Records the account's OrderId, the amount and the expiry re-read from the account. */
async function recordPaid(
  ctx: BillingContext,
  deps: AccountDeps,
  order: OrderRow,
  accountOrderId: string,
): Promise<OrderResult> {
  const seen = await accountView(deps, order.instance_id);
  const end = seen && seen.endTime > order.period_start ? seen.endTime : order.period_end;
  const paid = await transaction(ctx.db, async (tx) => {
    const settled = await settleSubmittedOrder({ tx }, order.id, {
      status: "paid",
      account_order_id: accountOrderId,
      period_end: end,
      last_error: null,
    });
    if (settled) {
      await updateInstance({ tx }, order.instance_id, {
        expires_at: end,
        ...(seen ? { auto_renew_months: seen.autoRenewMonths } : {}),
        snoozed_until: null,
        updated_at: ctx.clock(),
      });
      await audit(ctx, tx, creatorOf(order), "instance.renew", order.instance_id, {
        months: order.months,
        orderId: order.id,
        accountOrderId,
        createdBy: order.created_by,
      });
    }
    return { row: await getOrder({ tx }, order.id), replayed: !settled };
  });
  const instance = await getInstance({ tx: ctx.db }, order.instance_id);
  if (!paid.row || !instance) throw new Error(`order ${order.id} or its instance vanished`);
  const balanceAfterCents = await freshBalance(ctx, deps).catch(() => 0);
  return { order: paid.row, instance, balanceAfterCents, replayed: paid.replayed };
}

/**
 * Sends a submitted order to RenewInstance with its ClientToken and records the answer:
 * paid, failed (a definite refusal: nothing paid, the key freed for a new attempt), or still
 * submitted (no definite answer: RENEWAL_PENDING, retried later with the same token).
 */
export async function sendOrder(
  ctx: BillingContext,
  deps: AccountDeps,
  order: OrderRow,
): Promise<OrderResult> {
  if (order.status === "paid") return replay(ctx, order);
  let accountOrderId: string;
  try {
    accountOrderId = await deps.bss.renewInstance(
      order.instance_id,
      order.months,
      order.client_token ?? "",
    );
  } catch (error) {
    if (!(error instanceof BssError)) throw error;
    if (error.kind === "unavailable" || error.kind === "throttled") {
      await settleSubmittedOrder({ tx: ctx.db }, order.id, {
        last_error: error.code.slice(0, 500),
      });
      throw new BillingError({
        code: "RENEWAL_PENDING",
        instanceId: order.instance_id,
        orderId: order.id,
      });
    }
    const failure = await refusal(ctx, deps, order, error);
    await settleSubmittedOrder({ tx: ctx.db }, order.id, {
      status: "failed",
      idempotency_key: null,
      last_error: error.code.slice(0, 500),
    });
    throw failure;
  }
  deps.balance.invalidate();
  return recordPaid(ctx, deps, order, accountOrderId);
}

async function replay(ctx: BillingContext, order: OrderRow): Promise<OrderResult> {
  const instance = await getInstance({ tx: ctx.db }, order.instance_id);
  if (!instance) throw new Error(`order ${order.id} is missing its instance`);
  return { order, instance, balanceAfterCents: 0, replayed: true };
}

/** The earlier order of this key, checked to be the same request. */
async function earlierOrder(ctx: BillingContext, actor: Actor, input: RenewInput, key: string) {
  const order = await getOrderByKey({ tx: ctx.db }, key);
  if (!order) return undefined;
  if (
    order.kind !== "renewal" ||
    order.instance_id !== input.instanceId ||
    order.months !== input.months ||
    order.created_by !== actorId(actor)
  )
    throw new BillingError({ code: "IDEMPOTENCY_CONFLICT", key });
  return order;
}

/**
 * Renews on the Alibaba Cloud account. The same idempotency key (a double click, a retry, a
 * second replica) never renews twice: it finds the order written first and, if that is still
 * submitted, sends it again with the same ClientToken.
 */
export async function renewOnAccount(
  ctx: BillingContext,
  deps: AccountDeps,
  actor: Actor,
  input: RenewInput,
): Promise<OrderResult> {
  const key = input.idempotencyKey ?? `once:${actorId(actor)}:${ctx.clock()}:${Math.random()}`;
  let order = await earlierOrder(ctx, actor, input, key);
  if (!order) {
    try {
      order = await submitOrder(ctx, deps, actor, input, key);
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      order = await earlierOrder(ctx, actor, input, key);
      if (!order) throw error;
    }
  }
  const result = await sendOrder(ctx, deps, order);
  // The balance after comes from the account; a replayed paid order reads it too.
  return result.replayed && result.balanceAfterCents === 0
    ? { ...result, balanceAfterCents: await freshBalance(ctx, deps).catch(() => 0) }
    : result;
}

/**
 * Retries every submitted order (oldest first) with its own ClientToken until the account
 * gives a definite answer. The timer calls it every sweep and tells each person the outcome.
 */
export async function retrySubmitted(
  ctx: BillingContext,
  deps: AccountDeps,
): Promise<RetryOutcome[]> {
  const outcomes: RetryOutcome[] = [];
  for (const order of await listOrdersByStatus({ tx: ctx.db }, "submitted")) {
    try {
      outcomes.push({ order, outcome: "paid", result: await sendOrder(ctx, deps, order) });
    } catch (error) {
      if (!(error instanceof BillingError)) throw error;
      outcomes.push({
        order,
        outcome: error.code === "RENEWAL_PENDING" ? "pending" : "failed",
        error,
      });
    }
  }
  return outcomes;
}
