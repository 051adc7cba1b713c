import { formatCsv } from "../lib/csv.js";
import { listBillLines, recentBillLines } from "../store/ledger.js";
import type { BillLineRow } from "../store/rows.js";
import type { BillingContext } from "./context.js";
import { orderLabelOf } from "./errors.js";
import { formatDecimal } from "./money.js";
import { billingCycle, isoInZone, monthRange } from "./time.js";

export const BILL_ITEMS = {
  recharge: "Recharge",
  purchase: "Purchase",
  renewal: "Renewal",
  refund: "Refund",
} as const;

export interface BillLine {
  billingCycle: string;
  at: number;
  ledgerId: number;
  orderId: number | null;
  item: (typeof BILL_ITEMS)[keyof typeof BILL_ITEMS];
  instanceId: string | null;
  site: string | null;
  periodStart: number | null;
  periodEnd: number | null;
  months: number | null;
  unitCents: number | null;
  amountCents: number;
  balanceAfterCents: number;
}

export interface MonthBill {
  month: string;
  lines: BillLine[];
  totals: { chargedCents: number; refundedCents: number; rechargedCents: number; netCents: number };
}

export function toBillLine(row: BillLineRow, zone: string): BillLine {
  return {
    billingCycle: billingCycle(row.created_at, zone),
    at: row.created_at,
    ledgerId: row.id,
    orderId: row.order_id,
    item: BILL_ITEMS[row.kind],
    instanceId: row.instance_id,
    site: row.site,
    periodStart: row.period_start,
    periodEnd: row.period_end,
    months: row.months,
    unitCents: row.unit_cents,
    amountCents: row.amount_cents,
    balanceAfterCents: row.balance_after_cents,
  };
}

/** Every money movement in billing cycle `month` (`YYYY-MM` in `KMS_TIMEZONE`), with totals. */
export async function monthBill(ctx: BillingContext, month: string): Promise<MonthBill> {
  const { start, end } = monthRange(month, ctx.timezone);
  const lines = (await listBillLines({ tx: ctx.db }, start, end)).map((r) =>
    toBillLine(r, ctx.timezone),
  );
  const sum = (items: BillLine["item"][]) =>
    lines.filter((l) => items.includes(l.item)).reduce((s, l) => s + l.amountCents, 0);
  const totals = {
    chargedCents: -sum(["Purchase", "Renewal"]),
    refundedCents: sum(["Refund"]),
    rechargedCents: sum(["Recharge"]),
    netCents: sum(["Purchase", "Renewal", "Refund", "Recharge"]),
  };
  return { month, lines, totals };
}

/** Order ids as shown to people and in CSV files: `ORD-000042`. */
export function orderLabel(orderId: number): string {
  return orderLabelOf(orderId);
}

export const BILL_CSV_HEADER = [
  "billing_cycle",
  "time",
  "order_id",
  "item",
  "instance_id",
  "site",
  "period_start",
  "period_end",
  "months",
  "unit_price_usd",
  "amount_usd",
  "balance_after_usd",
] as const;

/** The bill as RFC 4180 CSV: times in the zone with their offset, amounts as plain decimals. */
export function billCsv(bill: MonthBill, zone: string): string {
  const time = (at: number | null) => (at === null ? "" : isoInZone(at, zone));
  const rows = bill.lines.map((l) => [
    l.billingCycle,
    time(l.at),
    l.orderId === null ? "" : orderLabel(l.orderId),
    l.item,
    l.instanceId ?? "",
    l.site ?? "",
    time(l.periodStart),
    time(l.periodEnd),
    l.months === null ? "" : String(l.months),
    l.unitCents === null ? "" : formatDecimal(l.unitCents),
    formatDecimal(l.amountCents),
    formatDecimal(l.balanceAfterCents),
  ]);
  return formatCsv([[...BILL_CSV_HEADER], ...rows]);
}

/** The latest bill lines, newest first (App Home's "Recent bills"). */
export async function recentBills(ctx: BillingContext, limit: number): Promise<BillLine[]> {
  const rows = await recentBillLines({ tx: ctx.db }, limit);
  return rows.map((r) => toBillLine(r, ctx.timezone));
}
