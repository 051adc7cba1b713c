import type { Db } from "../store/db.js";
import { getInstance } from "../store/instances.js";
import { debit, getBalance, getChargeForOrder, insertLedgerEntry } from "../store/ledger.js";
import { getOrderByKey, insertOrder, type NewOrder } from "../store/orders.js";
import type { InstanceRow, OrderRow } from "../store/rows.js";
import { type Actor, actorId, type BillingContext } from "./context.js";
import { BillingError } from "./errors.js";
import { isPeriod, type PeriodMonths } from "./periods.js";

// The money step every order shares: check the period and the price shown, debit, write the
// order and its ledger line; and the replay of an order an idempotency key already produced.

export interface OrderResult {
  order: OrderRow;
  instance: InstanceRow;
  balanceAfterCents: number;
  /** True when the idempotency key had been used already: this is the earlier order. */
  replayed: boolean;
}

export function checkPeriod(months: number): PeriodMonths {
  if (!isPeriod(months)) {
    throw new BillingError({
      code: "INVALID_INPUT",
      field: "period",
      problem: `${months} months is not on sale`,
    });
  }
  return months;
}

/** Refuses to charge a price other than the one the person saw and accepted. */
export function checkShownPrice(unitCents: number, shown: number | undefined): void {
  if (shown !== undefined && shown !== unitCents) {
    throw new BillingError({ code: "PRICE_CHANGED", unitCents, shownUnitCents: shown });
  }
}

export function shortfall(priceCents: number, balanceCents: number): BillingError {
  return new BillingError({
    code: "INSUFFICIENT_BALANCE",
    priceCents,
    balanceCents,
    shortfallCents: priceCents - balanceCents,
  });
}

/** Debits the account and writes the order and its ledger line; the caller holds the transaction. */
export async function charge(
  ctx: BillingContext,
  tx: Db,
  actor: Actor,
  order: Omit<NewOrder, "created_by" | "created_at">,
): Promise<{ order: OrderRow; balanceAfterCents: number }> {
  const now = ctx.clock();
  const after = await debit({ tx }, order.amount_cents, now);
  if (after === undefined) throw shortfall(order.amount_cents, await getBalance({ tx }));
  const row = await insertOrder({ tx }, { ...order, created_by: actorId(actor), created_at: now });
  await insertLedgerEntry(
    { tx },
    {
      kind: order.kind,
      amount_cents: -order.amount_cents,
      balance_after_cents: after,
      order_id: row.id,
      instance_id: order.instance_id,
      actor: actorId(actor),
      idempotency_key: null,
      created_at: now,
    },
  );
  return { order: row, balanceAfterCents: after };
}

/** Looks up the order an idempotency key produced, checking it is the same request. */
export async function replayOrder(
  ctx: BillingContext,
  key: string,
  matches: (order: OrderRow) => boolean,
): Promise<OrderResult | undefined> {
  const order = await getOrderByKey({ tx: ctx.db }, key);
  if (!order) return undefined;
  if (!matches(order)) throw new BillingError({ code: "IDEMPOTENCY_CONFLICT", key });
  const instance = await getInstance({ tx: ctx.db }, order.instance_id);
  const chargeLine = await getChargeForOrder({ tx: ctx.db }, order.id);
  if (!instance || !chargeLine)
    throw new Error(`order ${order.id} is missing its instance or ledger line`);
  return { order, instance, balanceAfterCents: chargeLine.balance_after_cents, replayed: true };
}
