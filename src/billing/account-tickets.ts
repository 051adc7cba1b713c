import { transaction } from "../store/db.js";
import { listOrders } from "../store/orders.js";
import type { TicketRow } from "../store/rows.js";
import { closeTicket, lockTicket, setTicketRefunded } from "../store/tickets.js";
import { audit, requireAdmin } from "./admins.js";
import { type Actor, actorId, type BillingContext } from "./context.js";
import { BillingError, ticketLabel } from "./errors.js";
import { estimateRefundIn, type RefundEstimate } from "./refunds.js";
import { lockOpen } from "./tickets.js";

// KMS_PROVIDER=alibaba: the account is the source of truth, so approving an unsubscribe ticket
// changes nothing locally (no refund in the ledger, no release: the next sync shows what Alibaba
// Cloud did). The ticket is `approved` with `refunded_cents` NULL until an admin confirms the
// refund Alibaba Cloud made; then `refunded_cents` holds it.

export interface AccountApproval {
  ticket: TicketRow;
  refund: RefundEstimate;
  /** The account's OrderId of each refund line's order, where known. */
  accountOrderIds: Record<number, string | null>;
}

/** True while an approved ticket waits for the admin to confirm Alibaba Cloud's refund. */
export function awaitingRefund(ticket: TicketRow): boolean {
  return ticket.status === "approved" && ticket.refunded_cents === null;
}

/** Approves an open ticket (admins only), recording the decision and the estimate only. */
export async function approveForAccount(
  ctx: BillingContext,
  actor: Actor,
  id: number,
): Promise<AccountApproval> {
  return transaction(ctx.db, async (tx) => {
    await requireAdmin(ctx, tx, actor, "approve unsubscribe tickets");
    const ticket = await lockOpen(tx, id);
    const refund = await estimateRefundIn(ctx, tx, ticket.instance_id);
    const now = ctx.clock();
    await closeTicket({ tx }, id, {
      status: "approved",
      by: actorId(actor),
      at: now,
      note: null,
      estimateCents: refund.totalCents,
    });
    await audit(ctx, tx, actor, "ticket.approve", ticketLabel(id), {
      estimateCents: refund.totalCents,
      awaitingAccountRefund: true,
    });
    const orders = await listOrders({ tx }, ticket.instance_id);
    const accountOrderIds = Object.fromEntries(orders.map((o) => [o.id, o.account_order_id]));
    return {
      ticket: {
        ...ticket,
        status: "approved",
        open_instance_id: null,
        decided_by: actorId(actor),
        decided_at: now,
        estimate_cents: refund.totalCents,
        refunded_cents: null,
        updated_at: now,
      },
      refund,
      accountOrderIds,
    };
  });
}

/**
 * Marks an approved ticket refunded (admins only) with its estimate, once Alibaba Cloud has
 * refunded. Idempotent: a second mark (a double click, another admin) returns `marked: false`.
 */
export async function markTicketRefunded(
  ctx: BillingContext,
  actor: Actor,
  id: number,
): Promise<{ ticket: TicketRow; marked: boolean }> {
  return transaction(ctx.db, async (tx) => {
    await requireAdmin(ctx, tx, actor, "mark unsubscribe tickets refunded");
    const ticket = await lockTicket({ tx }, id);
    if (!ticket)
      throw new BillingError({ code: "NOT_FOUND", entity: "ticket", id: ticketLabel(id) });
    if (ticket.status !== "approved") {
      throw new BillingError({
        code: "INVALID_STATE",
        instanceId: ticket.instance_id,
        problem: `${ticketLabel(id)} is ${ticket.status}, not approved; only an approved ticket can be marked refunded.`,
      });
    }
    if (!awaitingRefund(ticket)) return { ticket, marked: false };
    const now = ctx.clock();
    const marked = await setTicketRefunded({ tx }, id, { cents: ticket.estimate_cents, at: now });
    if (marked) {
      await audit(ctx, tx, actor, "ticket.refunded", ticketLabel(id), {
        refundedCents: ticket.estimate_cents,
      });
    }
    return {
      ticket: { ...ticket, refunded_cents: ticket.estimate_cents, updated_at: now },
      marked,
    };
  });
}
