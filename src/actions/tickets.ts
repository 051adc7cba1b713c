import type { App, BlockAction, Logger } from "@slack/bolt";
import type { WebClient } from "@slack/web-api";
import { z } from "zod";
import { requireAdmin } from "../billing/admins.js";
import type { BillingContext } from "../billing/context.js";
import { userActor } from "../billing/context.js";
import { BillingError, ticketLabel } from "../billing/errors.js";
import { formatUsd } from "../billing/money.js";
import { estimateRefund } from "../billing/refunds.js";
import { approveTicket, openTicket, withdrawTicket } from "../billing/tickets.js";
import { slackDate } from "../blocks/common.js";
import {
  ANY_INSTANCE,
  APPROVE_TICKET,
  OPEN_UNSUBSCRIBE,
  REJECT_TICKET,
  rejectModal,
  supportMessage,
  UNSUB_INSTANCE,
  WITHDRAW_TICKET,
} from "../blocks/tickets.js";
import type { ListenerDeps } from "../listeners.js";
import { slackErrorCode, userMessage } from "../slack/errors.js";
import { readUnsubscribeState } from "../slack/state.js";
import { buildUnsubscribeModal, dm, publishHome, tellClicker } from "../slack/surfaces.js";
import type { TicketRow } from "../store/rows.js";

const ticketId = z
  .string()
  .regex(/^\d{1,12}$/)
  .transform(Number);
const instanceIdValue = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/);

function buttonTicket(action: BlockAction["actions"][number]): number {
  const parsed = ticketId.safeParse(action.type === "button" ? action.value : undefined);
  if (!parsed.success) {
    throw new BillingError({
      code: "INVALID_INPUT",
      field: "button",
      problem: "this ticket button is malformed; nothing was done.",
    });
  }
  return parsed.data;
}

/** Shows the ticket's current state in its support-channel message. */
export async function refreshSupportMessage(
  client: WebClient,
  billing: BillingContext,
  ticket: TicketRow,
  logger: Logger,
): Promise<void> {
  if (!ticket.support_channel || !ticket.support_ts) return;
  const estimate =
    ticket.status === "open"
      ? await estimateRefund(billing, ticket.instance_id).catch(() => undefined)
      : undefined;
  const message = supportMessage(ticket, estimate);
  await client.chat
    .update({
      channel: ticket.support_channel,
      ts: ticket.support_ts,
      text: message.text,
      blocks: message.blocks,
    })
    .catch((e) =>
      logger.warn("kms-bot: could not update the ticket message", slackErrorCode(e) ?? e),
    );
}

export function registerTicketActions(app: App, { billing }: ListenerDeps): void {
  app.action<BlockAction>(
    OPEN_UNSUBSCRIBE,
    async ({ ack, body, action, client, respond, logger }) => {
      await ack();
      try {
        const raw = action.type === "button" ? action.value : undefined;
        const value = instanceIdValue.safeParse(raw);
        if (raw !== ANY_INSTANCE && !value.success) {
          throw new BillingError({
            code: "INVALID_INPUT",
            field: "button",
            problem: "this Unsubscribe button is malformed; nothing was done.",
          });
        }
        await client.views.open({
          trigger_id: body.trigger_id,
          view: await buildUnsubscribeModal(billing, value.data),
        });
      } catch (error) {
        const text =
          slackErrorCode(error) === "expired_trigger_id"
            ? ":hourglass: Slack took too long to open the form; click again."
            : userMessage(error, logger);
        await tellClicker(client, body, respond, text).catch((e) =>
          logger.warn("kms-bot: could not report", e),
        );
      }
    },
  );

  // Choosing another instance in the unsubscribe modal shows its estimate.
  app.action<BlockAction>(UNSUB_INSTANCE.action, async ({ ack, body, client, logger }) => {
    await ack();
    if (!body.view) return;
    const state = readUnsubscribeState(body.view.state.values);
    const view = await buildUnsubscribeModal(billing, state.instanceId, false);
    await client.views
      .update({ view_id: body.view.id, hash: body.view.hash, view })
      .catch((e) =>
        logger.warn("kms-bot: unsubscribe modal refresh failed", slackErrorCode(e) ?? e),
      );
  });

  app.action<BlockAction>(
    APPROVE_TICKET,
    async ({ ack, body, action, client, respond, logger }) => {
      await ack();
      try {
        const { ticket, result } = await approveTicket(
          billing,
          userActor(body.user.id),
          buttonTicket(action),
        );
        await refreshSupportMessage(client, billing, ticket, logger);
        const outcome =
          result.refund.outcome === "released"
            ? `${ticket.instance_id} is released.`
            : `${ticket.instance_id} keeps running until ${slackDate(result.refund.expiresAfter)} and no longer auto-renews.`;
        await dm(
          client,
          ticket.requester,
          `:white_check_mark: ${ticketLabel(ticket.id)} was approved by <@${body.user.id}>: ${formatUsd(result.refund.totalCents)} refunded to the balance (now ${formatUsd(result.balanceAfterCents)}). ${outcome}`,
        ).catch((e) => logger.warn("kms-bot: could not tell the requester", e));
        await publishHome(client, billing, body.user.id).catch(() => undefined);
      } catch (error) {
        await tellClicker(client, body, respond, userMessage(error, logger)).catch((e) =>
          logger.warn("kms-bot: could not report", e),
        );
      }
    },
  );

  app.action<BlockAction>(REJECT_TICKET, async ({ ack, body, action, client, respond, logger }) => {
    await ack();
    try {
      const id = buttonTicket(action);
      await requireAdmin(
        billing,
        billing.db,
        userActor(body.user.id),
        "reject unsubscribe tickets",
      );
      const ticket = await openTicket(billing, id);
      await client.views.open({ trigger_id: body.trigger_id, view: rejectModal(ticket) });
    } catch (error) {
      await tellClicker(client, body, respond, userMessage(error, logger)).catch((e) =>
        logger.warn("kms-bot: could not report", e),
      );
    }
  });

  app.action<BlockAction>(
    WITHDRAW_TICKET,
    async ({ ack, body, action, client, respond, logger }) => {
      await ack();
      try {
        const ticket = await withdrawTicket(billing, userActor(body.user.id), buttonTicket(action));
        await refreshSupportMessage(client, billing, ticket, logger);
        await tellClicker(
          client,
          body,
          respond,
          `${ticketLabel(ticket.id)} is withdrawn; nothing was changed on ${ticket.instance_id}.`,
        );
      } catch (error) {
        await tellClicker(client, body, respond, userMessage(error, logger)).catch((e) =>
          logger.warn("kms-bot: could not report", e),
        );
      }
    },
  );
}
