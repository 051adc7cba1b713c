import type { StoreCtx } from "./db.js";
import { type OrderRow, orderRow } from "./rows.js";

export type NewOrder = Omit<OrderRow, "id" | "refunded_cents">;

export async function insertOrder({ tx }: StoreCtx, order: NewOrder): Promise<OrderRow> {
  const [row] = await tx("orders").insert(order).returning("*");
  return orderRow.parse(row);
}

export async function getOrderByKey({ tx }: StoreCtx, key: string): Promise<OrderRow | undefined> {
  const row = await tx("orders").where({ idempotency_key: key }).first();
  return row ? orderRow.parse(row) : undefined;
}

/** Orders of one instance, oldest period first. */
export async function listOrders({ tx }: StoreCtx, instanceId: string): Promise<OrderRow[]> {
  const rows = await tx("orders")
    .where({ instance_id: instanceId })
    .orderBy([{ column: "period_start" }, { column: "id" }]);
  return rows.map((r) => orderRow.parse(r));
}

export async function addRefunded({ tx }: StoreCtx, orderId: number, cents: number): Promise<void> {
  await tx("orders").where({ id: orderId }).increment("refunded_cents", cents);
}
