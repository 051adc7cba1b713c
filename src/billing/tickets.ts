import { type Db, transaction } from "../store/db.js";
import { lockInstance } from "../store/instances.js";
import type { TicketRow } from "../store/rows.js";
import {
  closeTicket,
  getTicket,
  getTicketByKey,
  insertTicket,
  listOpenTickets,
  lockTicket,
  openTicketFor,
  setSupportMessage,
} from "../store/tickets.js";
import { audit, isAdmin, requireAdmin } from "./admins.js";
import { type Actor, actorId, type BillingContext } from "./context.js";
import { BillingError, ticketLabel } from "./errors.js";
import { oncePerKey } from "./idempotency.js";
import { lifecycleOf } from "./lifecycle.js";
import {
  estimateRefund,
  estimateRefundIn,
  type RefundEstimate,
  type UnsubscribeResult,
  unsubscribeIn,
} from "./refunds.js";

export { ticketLabel };

const MAX_REASON = 2000;

export interface FiledTicket {
  ticket: TicketRow;
  estimate: RefundEstimate;
  /** True when this request had been filed already (a retried submission). */
  replayed: boolean;
}

function checkReason(reason: string): string {
  const trimmed = reason.trim();
  if (trimmed.length === 0)
    throw new BillingError({ code: "INVALID_INPUT", field: "reason", problem: "is required" });
  if (trimmed.length > MAX_REASON) {
    throw new BillingError({
      code: "INVALID_INPUT",
      field: "reason",
      problem: `is longer than ${MAX_REASON} characters`,
    });
  }
  return trimmed;
}

/**
 * Files an unsubscribe ticket for an instance (anyone), with the refund estimate as of now.
 * One open ticket per instance: a second request is refused, naming the first.
 */
export async function fileTicket(
  ctx: BillingContext,
  actor: Actor & { type: "user" },
  input: { instanceId: string; reason: string; idempotencyKey?: string | null },
): Promise<FiledTicket> {
  const reason = checkReason(input.reason);
  const key = input.idempotencyKey ?? null;
  const replay = async (): Promise<FiledTicket | undefined> => {
    const ticket = key ? await getTicketByKey({ tx: ctx.db }, key) : undefined;
    if (!ticket) return undefined;
    return {
      ticket,
      estimate: await estimateRefund(ctx, ticket.instance_id).catch(() => emptyEstimate(ticket)),
      replayed: true,
    };
  };
  return oncePerKey(key, replay, () =>
    transaction(ctx.db, async (tx) => {
      // Locked, so two people filing for one instance at once are serialised here.
      const instance = await lockInstance({ tx }, input.instanceId);
      if (!instance)
        throw new BillingError({ code: "NOT_FOUND", entity: "instance", id: input.instanceId });
      if (lifecycleOf(instance, ctx.clock()).state === "released") {
        throw new BillingError({ code: "INSTANCE_RELEASED", instanceId: instance.id });
      }
      const open = await openTicketFor({ tx }, instance.id);
      if (open && key !== null && open.idempotency_key === key) {
        // The same request, delivered twice at once: the first one filed it.
        return {
          ticket: open,
          estimate: await estimateRefundIn(ctx, tx, instance.id),
          replayed: true,
        };
      }
      if (open) {
        throw new BillingError({
          code: "INVALID_STATE",
          instanceId: instance.id,
          problem: `already has an open unsubscribe ticket, ${ticketLabel(open.id)} (filed by <@${open.requester}>).`,
        });
      }
      const estimate = await estimateRefundIn(ctx, tx, instance.id);
      const ticket = await insertTicket(
        { tx },
        {
          instance_id: instance.id,
          requester: actor.userId,
          reason,
          estimate_cents: estimate.totalCents,
          idempotency_key: key,
          created_at: ctx.clock(),
        },
      );
      await audit(ctx, tx, actor, "ticket.file", ticketLabel(ticket.id), {
        instanceId: instance.id,
        reason,
        estimateCents: estimate.totalCents,
      });
      return { ticket, estimate, replayed: false };
    }),
  );
}

function emptyEstimate(ticket: TicketRow): RefundEstimate {
  return {
    instanceId: ticket.instance_id,
    lifecycle: { state: "released", releasedAt: ticket.updated_at, expiresAt: 0 },
    lines: [],
    totalCents: 0,
    outcome: "released",
    expiresAfter: 0,
    nothingBecause: "The instance has been released.",
  };
}

/** An open ticket, or NOT_FOUND / TICKET_CLOSED saying what became of it. */
export async function openTicket(ctx: BillingContext, id: number): Promise<TicketRow> {
  return lockOpen(ctx.db, id, false);
}

export async function lockOpen(tx: Db, id: number, lock = true): Promise<TicketRow> {
  const ticket = lock ? await lockTicket({ tx }, id) : await getTicket({ tx }, id);
  if (!ticket) throw new BillingError({ code: "NOT_FOUND", entity: "ticket", id: ticketLabel(id) });
  if (ticket.status !== "open") {
    throw new BillingError({
      code: "TICKET_CLOSED",
      ticketId: id,
      status: ticket.status,
      decidedBy: ticket.decided_by,
    });
  }
  return ticket;
}

export interface ApprovedTicket {
  ticket: TicketRow;
  result: UnsubscribeResult;
}

/**
 * Approves an open ticket (admins only): recomputes the refund now (it may differ from the
 * estimate) and executes it, closing the ticket in the same transaction. Two admins
 * approving at once: one executes, the other is told it is already approved.
 */
export async function approveTicket(
  ctx: BillingContext,
  actor: Actor,
  id: number,
): Promise<ApprovedTicket> {
  return transaction(ctx.db, async (tx) => {
    await requireAdmin(ctx, tx, actor, "approve unsubscribe tickets");
    const ticket = await lockOpen(tx, id);
    const result = await unsubscribeIn(ctx, tx, actor, ticket.instance_id);
    const now = ctx.clock();
    const closed = await closeTicket({ tx }, id, {
      status: "approved",
      by: actorId(actor),
      at: now,
      note: null,
      refundedCents: result.refund.totalCents,
    });
    if (!closed)
      throw new BillingError({
        code: "TICKET_CLOSED",
        ticketId: id,
        status: "decided",
        decidedBy: null,
      });
    await audit(ctx, tx, actor, "ticket.approve", ticketLabel(id), {
      refundedCents: result.refund.totalCents,
    });
    return {
      ticket: {
        ...ticket,
        status: "approved",
        open_instance_id: null,
        decided_by: actorId(actor),
        decided_at: now,
        refunded_cents: result.refund.totalCents,
      },
      result,
    };
  });
}

/** Rejects an open ticket with a reason (admins only). */
export async function rejectTicket(
  ctx: BillingContext,
  actor: Actor,
  id: number,
  note: string,
): Promise<TicketRow> {
  const reason = checkReason(note);
  return transaction(ctx.db, async (tx) => {
    await requireAdmin(ctx, tx, actor, "reject unsubscribe tickets");
    const ticket = await lockOpen(tx, id);
    const now = ctx.clock();
    await closeTicket({ tx }, id, {
      status: "rejected",
      by: actorId(actor),
      at: now,
      note: reason,
    });
    await audit(ctx, tx, actor, "ticket.reject", ticketLabel(id), { reason });
    return {
      ...ticket,
      status: "rejected",
      open_instance_id: null,
      decided_by: actorId(actor),
      decided_at: now,
      decision_note: reason,
    };
  });
}

/** Withdraws an open ticket; only the person who filed it can. */
export async function withdrawTicket(
  ctx: BillingContext,
  actor: Actor,
  id: number,
): Promise<TicketRow> {
  return transaction(ctx.db, async (tx) => {
    const ticket = await lockOpen(tx, id);
    if (actor.type !== "user" || actor.userId !== ticket.requester) {
      throw new BillingError({
        code: "INVALID_INPUT",
        field: "ticket",
        problem: `only <@${ticket.requester}>, who filed ${ticketLabel(id)}, can withdraw it`,
      });
    }
    const now = ctx.clock();
    await closeTicket({ tx }, id, { status: "withdrawn", by: actor.userId, at: now, note: null });
    await audit(ctx, tx, actor, "ticket.withdraw", ticketLabel(id), {});
    return {
      ...ticket,
      status: "withdrawn",
      open_instance_id: null,
      decided_by: actor.userId,
      decided_at: now,
    };
  });
}

/** Open tickets a person may see: all of them for admins, their own for everyone else. */
export async function visibleOpenTickets(
  ctx: BillingContext,
  actor: Actor,
): Promise<{ tickets: TicketRow[]; all: boolean }> {
  const all = await isAdmin(ctx, ctx.db, actor);
  const tickets = await listOpenTickets(
    { tx: ctx.db },
    all || actor.type !== "user" ? undefined : actor.userId,
  );
  return { tickets, all };
}

/** The open ticket of an instance, if any (the unsubscribe modal says so before filing). */
export async function openTicketOf(
  ctx: BillingContext,
  instanceId: string,
): Promise<TicketRow | undefined> {
  return openTicketFor({ tx: ctx.db }, instanceId);
}

/** Remembers where a ticket was posted, so its message can show each decision. */
export async function recordSupportMessage(
  ctx: BillingContext,
  ticketId: number,
  where: { channel: string; ts: string },
): Promise<void> {
  await setSupportMessage({ tx: ctx.db }, ticketId, where.channel, where.ts);
}
