import { forUpdate, type StoreCtx } from "./db.js";
import { type TicketRow, type TicketStatus, ticketRow } from "./rows.js";

export type NewTicket = Pick<
  TicketRow,
  "instance_id" | "requester" | "reason" | "estimate_cents" | "idempotency_key" | "created_at"
>;

export async function insertTicket({ tx }: StoreCtx, t: NewTicket): Promise<TicketRow> {
  const [row] = await tx("tickets")
    .insert({ ...t, open_instance_id: t.instance_id, status: "open", updated_at: t.created_at })
    .returning("*");
  return ticketRow.parse(row);
}

export async function getTicket({ tx }: StoreCtx, id: number): Promise<TicketRow | undefined> {
  const row = await tx("tickets").where({ id }).first();
  return row ? ticketRow.parse(row) : undefined;
}

export async function lockTicket({ tx }: StoreCtx, id: number): Promise<TicketRow | undefined> {
  const row = await forUpdate(tx, tx("tickets").where({ id })).first();
  return row ? ticketRow.parse(row) : undefined;
}

export async function getTicketByKey(
  { tx }: StoreCtx,
  key: string,
): Promise<TicketRow | undefined> {
  const row = await tx("tickets").where({ idempotency_key: key }).first();
  return row ? ticketRow.parse(row) : undefined;
}

export async function openTicketFor(
  { tx }: StoreCtx,
  instanceId: string,
): Promise<TicketRow | undefined> {
  const row = await tx("tickets").where({ open_instance_id: instanceId }).first();
  return row ? ticketRow.parse(row) : undefined;
}

/** Open tickets, oldest first; only `requester`'s when given. */
export async function listOpenTickets({ tx }: StoreCtx, requester?: string): Promise<TicketRow[]> {
  const q = tx("tickets").where({ status: "open" });
  if (requester) q.andWhere({ requester });
  const rows = await q.orderBy("id");
  return rows.map((r) => ticketRow.parse(r));
}

/**
 * Closes an open ticket. The `status = 'open'` condition makes a second, concurrent decision
 * change nothing: returns false then.
 */
export async function closeTicket(
  { tx }: StoreCtx,
  id: number,
  close: {
    status: Exclude<TicketStatus, "open">;
    by: string;
    at: number;
    note: string | null;
    refundedCents?: number;
    /** The refund estimate as of the decision (replaces the one made at filing). */
    estimateCents?: number;
  },
): Promise<boolean> {
  const changed = await tx("tickets")
    .where({ id, status: "open" })
    .update({
      status: close.status,
      open_instance_id: null,
      decided_by: close.by,
      decided_at: close.at,
      decision_note: close.note,
      refunded_cents: close.refundedCents ?? null,
      ...(close.estimateCents === undefined ? {} : { estimate_cents: close.estimateCents }),
      updated_at: close.at,
    });
  return changed === 1;
}

/**
 * Records the refund of an approved ticket awaiting it (KMS_PROVIDER=alibaba). The
 * `refunded_cents IS NULL` condition makes a second mark change nothing: returns false then.
 */
export async function setTicketRefunded(
  { tx }: StoreCtx,
  id: number,
  refund: { cents: number; at: number },
): Promise<boolean> {
  const changed = await tx("tickets")
    .where({ id, status: "approved" })
    .whereNull("refunded_cents")
    .update({ refunded_cents: refund.cents, updated_at: refund.at });
  return changed === 1;
}

export async function setSupportMessage(
  { tx }: StoreCtx,
  id: number,
  channel: string,
  ts: string,
): Promise<void> {
  await tx("tickets").where({ id }).update({ support_channel: channel, support_ts: ts });
}

/** Rejects the open ticket of an instance, if any (the timer released the instance); returns it. */
export async function closeOpenTicketFor(
  { tx }: StoreCtx,
  instanceId: string,
  close: { by: string; at: number; note: string },
): Promise<TicketRow | undefined> {
  const rows = await tx("tickets")
    .where({ open_instance_id: instanceId, status: "open" })
    .update({
      status: "rejected",
      open_instance_id: null,
      decided_by: close.by,
      decided_at: close.at,
      decision_note: close.note,
      updated_at: close.at,
    })
    .returning("*");
  return rows[0] ? ticketRow.parse(rows[0]) : undefined;
}
