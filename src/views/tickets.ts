import type { App } from "@slack/bolt";
import { z } from "zod";
import { refreshSupportMessage } from "../actions/tickets.js";
import { userActor } from "../billing/context.js";
import { ticketLabel } from "../billing/errors.js";
import { formatUsd } from "../billing/money.js";
import { fileTicket, rejectTicket } from "../billing/tickets.js";
import { escapeText } from "../blocks/common.js";
import {
  REJECT_REASON,
  REJECT_VIEW,
  supportMessage,
  UNSUB_INSTANCE,
  UNSUB_REASON,
  UNSUB_VIEW,
} from "../blocks/tickets.js";
import type { ListenerDeps } from "../listeners.js";
import { userMessage } from "../slack/errors.js";
import { readRejectReason, readUnsubscribeState } from "../slack/state.js";
import { dm, postInChannel, publishHome } from "../slack/surfaces.js";
import { setSupportMessage } from "../store/tickets.js";

const ticketIdMetadata = z
  .string()
  .regex(/^\d{1,12}$/)
  .transform(Number);

export function registerTicketViews(app: App, { billing, config }: ListenerDeps): void {
  app.view(UNSUB_VIEW, async ({ ack, body, view, client, logger }) => {
    const state = readUnsubscribeState(view.state.values);
    const errors: Record<string, string> = {};
    if (!state.instanceId) errors[UNSUB_INSTANCE.block] = "Choose an instance.";
    if (!state.reason?.trim()) errors[UNSUB_REASON.block] = "Say why, for the billing admins.";
    if (!state.instanceId || !state.reason?.trim()) {
      await ack({ response_action: "errors", errors });
      return;
    }
    let filed: Awaited<ReturnType<typeof fileTicket>>;
    try {
      filed = await fileTicket(
        billing,
        { type: "user", userId: body.user.id },
        {
          instanceId: state.instanceId,
          reason: state.reason,
          idempotencyKey: `ticket:${view.id}`,
        },
      );
    } catch (error) {
      await ack({
        response_action: "errors",
        errors: { [UNSUB_INSTANCE.block]: userMessage(error, logger).slice(0, 300) },
      });
      return;
    }
    await ack();
    if (filed.replayed) return;
    const { ticket, estimate } = filed;
    let where = `<#${config.supportChannel}>`;
    try {
      const posted = await postInChannel(
        client,
        config.supportChannel,
        supportMessage(ticket, estimate),
      );
      await setSupportMessage({ tx: billing.db }, ticket.id, posted.channel, posted.ts);
    } catch (error) {
      logger.error(
        `kms-bot: could not post ${ticketLabel(ticket.id)} to the support channel`,
        error,
      );
      where =
        "the billing admins (the support channel could not be reached; they see it in `/kms tickets`)";
    }
    const refund =
      estimate.totalCents > 0
        ? `estimated refund ${formatUsd(estimate.totalCents)}`
        : "nothing refundable under the rules";
    await dm(
      client,
      body.user.id,
      `:ticket: Filed *${ticketLabel(ticket.id)}* to unsubscribe ${ticket.instance_id} (${refund}). It went to ${where} for approval. Reason: ${escapeText(ticket.reason)}`,
    ).catch((e) => logger.warn("kms-bot: confirmation DM failed", e));
    await publishHome(client, billing, body.user.id).catch(() => undefined);
  });

  app.view(REJECT_VIEW, async ({ ack, body, view, client, logger }) => {
    const id = ticketIdMetadata.safeParse(view.private_metadata);
    const reason = readRejectReason(view.state.values);
    if (!reason?.trim()) {
      await ack({
        response_action: "errors",
        errors: { [REJECT_REASON.block]: "Give the requester a reason." },
      });
      return;
    }
    if (!id.success) {
      await ack({
        response_action: "errors",
        errors: {
          [REJECT_REASON.block]: "This form is not one kms-bot made; nothing was changed.",
        },
      });
      return;
    }
    let ticket: Awaited<ReturnType<typeof rejectTicket>>;
    try {
      ticket = await rejectTicket(billing, userActor(body.user.id), id.data, reason);
    } catch (error) {
      await ack({
        response_action: "errors",
        errors: { [REJECT_REASON.block]: userMessage(error, logger).slice(0, 300) },
      });
      return;
    }
    await ack();
    await refreshSupportMessage(client, billing, ticket, logger);
    await dm(
      client,
      ticket.requester,
      `:x: ${ticketLabel(ticket.id)} (unsubscribe ${ticket.instance_id}) was rejected by <@${body.user.id}>: ${escapeText(reason.trim())}`,
    ).catch((e) => logger.warn("kms-bot: could not tell the requester", e));
  });
}
