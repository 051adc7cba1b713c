import type { StoreCtx } from "./db.js";
import {
  type BillLineRow,
  billLineRow,
  type LedgerKind,
  type LedgerRow,
  ledgerRow,
} from "./rows.js";

export const ACCOUNT_ID = "default";

export async function getBalance({ tx }: StoreCtx): Promise<number> {
  const row = await tx("accounts").where({ id: ACCOUNT_ID }).first("balance_cents");
  return Number(row.balance_cents);
}

/**
 * Subtracts `cents` from the balance only if the balance covers it, as one conditional
 * UPDATE, so concurrent debits can never take it below zero. Returns the new balance, or
 * undefined when the balance was short.
 */
export async function debit(
  { tx }: StoreCtx,
  cents: number,
  at: number,
): Promise<number | undefined> {
  const rows: { balance_cents: unknown }[] = await tx("accounts")
    .where({ id: ACCOUNT_ID })
    .andWhere("balance_cents", ">=", cents)
    .update({ balance_cents: tx.raw("balance_cents - ?", [cents]), updated_at: at }, [
      "balance_cents",
    ]);
  return rows.length === 1 ? Number(rows[0].balance_cents) : undefined;
}

export async function credit({ tx }: StoreCtx, cents: number, at: number): Promise<number> {
  const [row]: { balance_cents: unknown }[] = await tx("accounts")
    .where({ id: ACCOUNT_ID })
    .update({ balance_cents: tx.raw("balance_cents + ?", [cents]), updated_at: at }, [
      "balance_cents",
    ]);
  return Number(row.balance_cents);
}

export interface NewLedgerEntry {
  kind: LedgerKind;
  amount_cents: number;
  balance_after_cents: number;
  order_id: number | null;
  instance_id: string | null;
  actor: string;
  idempotency_key: string | null;
  created_at: number;
}

export async function insertLedgerEntry(
  { tx }: StoreCtx,
  entry: NewLedgerEntry,
): Promise<LedgerRow> {
  const [row] = await tx("ledger")
    .insert({ ...entry, account_id: ACCOUNT_ID })
    .returning("*");
  return ledgerRow.parse(row);
}

export async function getLedgerEntryByKey(
  { tx }: StoreCtx,
  key: string,
): Promise<LedgerRow | undefined> {
  const row = await tx("ledger").where({ idempotency_key: key }).first();
  return row ? ledgerRow.parse(row) : undefined;
}

export async function ledgerSum({ tx }: StoreCtx): Promise<number> {
  const row = await tx("ledger")
    .where({ account_id: ACCOUNT_ID })
    .sum({ total: "amount_cents" })
    .first();
  return Number(row?.total ?? 0);
}

/** Ledger entries in [from, to) joined with their orders, oldest first. */
export async function listBillLines(
  { tx }: StoreCtx,
  from: number,
  to: number,
): Promise<BillLineRow[]> {
  const rows = await tx("ledger as l")
    .leftJoin("orders as o", "o.id", "l.order_id")
    .where("l.account_id", ACCOUNT_ID)
    .andWhere("l.created_at", ">=", from)
    .andWhere("l.created_at", "<", to)
    .orderBy("l.id")
    .select("l.*", "o.site", "o.months", "o.unit_cents", "o.period_start", "o.period_end");
  return rows.map((r) => billLineRow.parse(r));
}

/** The most recent ledger entries joined with their orders, newest first. */
export async function recentBillLines({ tx }: StoreCtx, limit: number): Promise<BillLineRow[]> {
  const rows = await tx("ledger as l")
    .leftJoin("orders as o", "o.id", "l.order_id")
    .where("l.account_id", ACCOUNT_ID)
    .orderBy("l.id", "desc")
    .limit(limit)
    .select("l.*", "o.site", "o.months", "o.unit_cents", "o.period_start", "o.period_end");
  return rows.map((r) => billLineRow.parse(r));
}

/** The ledger entry that paid for an order. */
export async function getChargeForOrder(
  { tx }: StoreCtx,
  orderId: number,
): Promise<LedgerRow | undefined> {
  const row = await tx("ledger")
    .where({ order_id: orderId })
    .whereIn("kind", ["purchase", "renewal"])
    .first();
  return row ? ledgerRow.parse(row) : undefined;
}
