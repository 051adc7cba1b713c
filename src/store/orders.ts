import type { StoreCtx } from "./db.js";
import { type OrderRow, type OrderStatus, orderRow } from "./rows.js";

type AccountFields = "status" | "account_order_id" | "client_token" | "last_error";

/** A new order: paid unless it says otherwise (an account order starts `submitted`). */
export type NewOrder = Omit<OrderRow, "id" | "refunded_cents" | AccountFields> &
  Partial<Pick<OrderRow, AccountFields>>;

export async function insertOrder({ tx }: StoreCtx, order: NewOrder): Promise<OrderRow> {
  const [row] = await tx("orders").insert(order).returning("*");
  return orderRow.parse(row);
}

export async function getOrder({ tx }: StoreCtx, id: number): Promise<OrderRow | undefined> {
  const row = await tx("orders").where({ id }).first();
  return row ? orderRow.parse(row) : undefined;
}

export async function getOrderByKey({ tx }: StoreCtx, key: string): Promise<OrderRow | undefined> {
  const row = await tx("orders").where({ idempotency_key: key }).first();
  return row ? orderRow.parse(row) : undefined;
}

/** Paid orders of one instance, oldest period first. */
export async function listOrders({ tx }: StoreCtx, instanceId: string): Promise<OrderRow[]> {
  const rows = await tx("orders")
    .where({ instance_id: instanceId, status: "paid" })
    .orderBy([{ column: "period_start" }, { column: "id" }]);
  return rows.map((r) => orderRow.parse(r));
}

/** Orders in one status, oldest first (the account orders still waiting for an answer). */
export async function listOrdersByStatus(
  { tx }: StoreCtx,
  status: OrderStatus,
  limit = 100,
): Promise<OrderRow[]> {
  const rows = await tx("orders").where({ status }).orderBy("id").limit(limit);
  return rows.map((r) => orderRow.parse(r));
}

/** Paid orders created in [from, to), oldest first. */
export async function listPaidOrdersBetween(
  { tx }: StoreCtx,
  from: number,
  to: number,
): Promise<OrderRow[]> {
  const rows = await tx("orders")
    .where({ status: "paid" })
    .andWhere("created_at", ">=", from)
    .andWhere("created_at", "<", to)
    .orderBy("id");
  return rows.map((r) => orderRow.parse(r));
}

export type OrderPatch = Partial<
  Pick<OrderRow, AccountFields | "idempotency_key" | "amount_cents" | "period_start" | "period_end">
>;

/**
 * Updates an order only while it is still `submitted`; returns false when another process
 * recorded the answer first.
 */
export async function settleSubmittedOrder(
  { tx }: StoreCtx,
  id: number,
  patch: OrderPatch,
): Promise<boolean> {
  const count = await tx("orders").where({ id, status: "submitted" }).update(patch);
  return Number(count) === 1;
}

export async function addRefunded({ tx }: StoreCtx, orderId: number, cents: number): Promise<void> {
  await tx("orders").where({ id: orderId }).increment("refunded_cents", cents);
}
