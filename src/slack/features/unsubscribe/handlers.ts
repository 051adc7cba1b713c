import type { ModalView } from "@slack/types";
import { isBillingError, ticketLabel } from "../../../billing/errors.js";
import { formatUsd } from "../../../billing/money.js";
import { fileTicket, openTicketOf, recordSupportMessage } from "../../../billing/tickets.js";
import { escapeText } from "../../kit/blocks.js";
import { ANY_INSTANCE } from "../../kit/buttons.js";
import { modalChoices } from "../../kit/choices.js";
import type { ActionArgs, Billing, FeatureDeps, SubmitArgs } from "../../kit/deps.js";
import { malformedButton, userMessage } from "../../kit/errors.js";
import { instanceId } from "../../kit/ids.js";
import { openModal, postInChannel, redrawModal, tellByDm, tellClicker } from "../../kit/slack.js";
import { answerSubmission } from "../../kit/submit.js";
import { supportMessage } from "../tickets/blocks.js";
import {
  readUnsubscribeState,
  UNSUB_INSTANCE,
  UNSUB_REASON,
  type UnsubSummary,
  unsubscribeModal,
} from "./blocks.js";

/** The unsubscribe modal with the refund estimate of the chosen instance. */
export async function buildUnsubscribeModal(
  { billing, provider }: Billing,
  id?: string,
  strict = true,
): Promise<ModalView> {
  const choices = await modalChoices(billing, id, strict);
  let summary: UnsubSummary = { none: true };
  if (id !== undefined) {
    try {
      const estimate = await provider.estimateRefund(billing, id);
      summary = { estimate, openTicket: await openTicketOf(billing, id) };
    } catch (error) {
      if (!isBillingError(error)) throw error;
      summary = { problem: error.message };
    }
  }
  return unsubscribeModal({ choices, selectedId: id, summary });
}

/** Posts a filed ticket for the admins, tells the requester where it went, refreshes App Home. */
async function announce(
  deps: FeatureDeps,
  {
    client,
    logger,
    userId,
  }: { client: SubmitArgs["client"]; logger: SubmitArgs["logger"]; userId: string },
  { ticket, estimate }: Awaited<ReturnType<typeof fileTicket>>,
): Promise<void> {
  const { billing, config } = deps;
  let where = `<#${config.supportChannel}>`;
  try {
    const message = supportMessage(ticket, estimate);
    const posted = await postInChannel(client, config.supportChannel, message);
    await recordSupportMessage(billing, ticket.id, posted);
  } catch (error) {
    logger.error(`kms-bot: could not post ${ticketLabel(ticket.id)} to the support channel`, error);
    where =
      "the billing admins (the support channel could not be reached; they see it in `/kms tickets`)";
  }
  const refund =
    estimate.totalCents > 0
      ? `estimated refund ${formatUsd(estimate.totalCents)}`
      : "nothing refundable under the rules";
  await tellByDm(
    client,
    userId,
    `:ticket: Filed *${ticketLabel(ticket.id)}* to unsubscribe ${ticket.instance_id} (${refund}). It went to ${where} for approval. Reason: ${escapeText(ticket.reason)}`,
    logger,
  );
  await deps.refreshHome(client, userId, logger);
}

export function unsubscribeHandlers(deps: FeatureDeps) {
  const { billing } = deps;
  return {
    /** Unsubscribe buttons (status, App Home). */
    async openFromButton({ ack, body, action, client, respond, logger }: ActionArgs) {
      await ack();
      try {
        const raw = action.type === "button" ? action.value : undefined;
        const value = instanceId.safeParse(raw);
        if (raw !== ANY_INSTANCE && !value.success) throw malformedButton("Unsubscribe");
        const view = await buildUnsubscribeModal(deps, value.data);
        await openModal(client, body.trigger_id, view, "click again");
      } catch (error) {
        await tellClicker(client, body, respond, userMessage(error, logger), logger);
      }
    },

    /** Choosing another instance shows its estimate. */
    async refresh({ ack, body, client, logger }: ActionArgs) {
      await ack();
      if (!body.view) return;
      const state = readUnsubscribeState(body.view.state.values);
      const view = await buildUnsubscribeModal(deps, state.instanceId, false);
      await redrawModal(client, body.view, view, logger);
    },

    /** Files the ticket, posts it for the admins and tells the requester. */
    async submit({ ack, body, view, client, logger }: SubmitArgs) {
      const { instanceId: id, reason } = readUnsubscribeState(view.state.values);
      const errors: Record<string, string> = {};
      if (!id) errors[UNSUB_INSTANCE.block] = "Choose an instance.";
      if (!reason?.trim()) errors[UNSUB_REASON.block] = "Say why, for the billing admins.";
      if (!id || !reason?.trim()) {
        await ack({ response_action: "errors", errors });
        return;
      }
      const userId = body.user.id;
      await answerSubmission({ ack, client, logger, viewId: view.id, userId }, async () => {
        try {
          const filed = await fileTicket(
            billing,
            { type: "user", userId },
            { instanceId: id, reason, idempotencyKey: `ticket:${view.id}` },
          );
          const label = ticketLabel(filed.ticket.id);
          if (filed.replayed) return { done: `${label} is filed.` };
          return {
            done: `${label} is filed.`,
            after: () => announce(deps, { client, logger, userId }, filed),
          };
        } catch (error) {
          return { errors: { [UNSUB_INSTANCE.block]: userMessage(error, logger).slice(0, 300) } };
        }
      });
    },
  };
}
