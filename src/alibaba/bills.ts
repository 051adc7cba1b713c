import { orderLabel } from "../billing/bills.js";
import type { BillingContext } from "../billing/context.js";
import { DAY_MS } from "../billing/lifecycle.js";
import { formatDecimal } from "../billing/money.js";
import type { AccountBill, AccountBillLine } from "../billing/provider.js";
import { monthRange } from "../billing/time.js";
import { formatCsv } from "../lib/csv.js";
import { listPaidOrdersBetween } from "../store/orders.js";
import type { OrderRow } from "../store/rows.js";
import { type AccountDeps, accountFailure } from "./account.js";
import type { AccountBillItem } from "./client.js";
import { PAGE_SIZE } from "./sync.js";

/** One line of a month on the account, tied to the bot's order when there is one. */
async function billItems(deps: AccountDeps, month: string): Promise<AccountBillItem[]> {
  const items: AccountBillItem[] = [];
  for (let page = 1; ; page++) {
    const { total, rows } = await deps.bss.instanceBill(month, page, PAGE_SIZE);
    items.push(...rows);
    if (rows.length === 0 || items.length >= total) return items;
  }
}

const dayOf = (at: number) => new Date(at).toISOString().slice(0, 10);

/**
 * QueryInstanceBill has no OrderId: a bill line is tied to the bot's paid order of the same
 * instance and amount whose payment day is within a day of the BillingDate.
 */
function matchOrder(item: AccountBillItem, orders: OrderRow[]): OrderRow | undefined {
  const at = Date.parse(`${item.billingDate}T00:00:00Z`);
  return orders.find(
    (o) =>
      o.instance_id === item.instanceId &&
      o.amount_cents === item.amountCents &&
      Math.abs(Date.parse(`${dayOf(o.created_at)}T00:00:00Z`) - at) <= DAY_MS,
  );
}

/**
 * The account's bill lines of the product for `month` (`QueryInstanceBill`, paged), merged
 * with the bot's paid orders of the month.
 */
export async function accountMonthBill(
  ctx: BillingContext,
  deps: AccountDeps,
  month: string,
): Promise<AccountBill> {
  const { start, end } = monthRange(month, ctx.timezone);
  let items: AccountBillItem[];
  try {
    items = await billItems(deps, month);
  } catch (error) {
    throw accountFailure(error);
  }
  const unmatched = (await listPaidOrdersBetween({ tx: ctx.db }, start, end)).filter(
    (o) => o.account_order_id !== null,
  );
  const lines: AccountBillLine[] = items.map((item) => {
    const order = matchOrder(item, unmatched);
    if (order) unmatched.splice(unmatched.indexOf(order), 1);
    return {
      billingCycle: month,
      date: item.billingDate,
      instanceId: item.instanceId,
      item: item.item,
      months: item.months,
      amountCents: item.amountCents,
      orderId: order?.id ?? null,
      accountOrderId: order?.account_order_id ?? null,
      source: order ? "both" : "account",
    };
  });
  for (const o of unmatched) {
    lines.push({
      billingCycle: month,
      date: dayOf(o.created_at),
      instanceId: o.instance_id,
      item: "Renewal",
      months: o.months,
      amountCents: o.amount_cents,
      orderId: o.id,
      accountOrderId: o.account_order_id,
      source: "bot",
    });
  }
  lines.sort((a, b) => a.date.localeCompare(b.date) || a.instanceId.localeCompare(b.instanceId));
  const chargedCents = lines
    .filter((l) => l.amountCents > 0)
    .reduce((s, l) => s + l.amountCents, 0);
  const refundedCents = -lines
    .filter((l) => l.amountCents < 0)
    .reduce((s, l) => s + l.amountCents, 0);
  return {
    month,
    lines,
    totals: { chargedCents, refundedCents, netCents: chargedCents - refundedCents },
  };
}

export const ACCOUNT_BILL_CSV_HEADER = [
  "billing_cycle",
  "date",
  "order_id",
  "account_order_id",
  "item",
  "instance_id",
  "months",
  "amount_usd",
  "source",
] as const;

/** The account bill as RFC 4180 CSV. */
export function accountBillCsv(bill: AccountBill): string {
  const rows = bill.lines.map((l) => [
    l.billingCycle,
    l.date,
    l.orderId === null ? "" : orderLabel(l.orderId),
    l.accountOrderId ?? "",
    l.item,
    l.instanceId,
    l.months === null ? "" : String(l.months),
    formatDecimal(l.amountCents),
    l.source,
  ]);
  return formatCsv([[...ACCOUNT_BILL_CSV_HEADER], ...rows]);
}
