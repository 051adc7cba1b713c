import type { Logger } from "@slack/bolt";
import type { WebClient } from "@slack/web-api";
import { approveForAccount, markTicketRefunded } from "../../../billing/account-tickets.js";
import { requireAdmin } from "../../../billing/admins.js";
import { userActor } from "../../../billing/context.js";
import { BillingError, ticketLabel } from "../../../billing/errors.js";
import { formatUsd } from "../../../billing/money.js";
import {
  approveTicket,
  openTicket,
  rejectTicket,
  visibleOpenTickets,
  withdrawTicket,
} from "../../../billing/tickets.js";
import type { TicketRow } from "../../../billing/types.js";
import { escapeText, slackDate } from "../../kit/blocks.js";
import type { Invocation, Reply } from "../../kit/command.js";
import type { ActionArgs, Billing, FeatureDeps, SubmitArgs } from "../../kit/deps.js";
import { slackErrorCode, userMessage } from "../../kit/errors.js";
import { rowId } from "../../kit/ids.js";
import { openModal, tellByDm, tellClicker } from "../../kit/slack.js";
import { answerSubmission } from "../../kit/submit.js";
import {
  accountRefundRequest,
  REJECT_REASON,
  readRejectReason,
  rejectedTicketId,
  rejectModal,
  supportMessage,
  ticketListBlocks,
} from "./blocks.js";

function buttonTicket(action: ActionArgs["action"]): number {
  const parsed = rowId.safeParse(action.type === "button" ? action.value : undefined);
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
async function refreshSupportMessage(
  client: WebClient,
  { billing, provider }: Billing,
  ticket: TicketRow,
  logger: Logger,
): Promise<void> {
  if (!ticket.support_channel || !ticket.support_ts) return;
  const estimate =
    ticket.status === "open"
      ? await provider.estimateRefund(billing, ticket.instance_id).catch(() => undefined)
      : undefined;
  const message = supportMessage(ticket, estimate, provider.kind === "alibaba");
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

/** `/kms tickets`: open tickets (admins: all; others: their own). */
export async function listTickets({ billing, actor, userId }: Invocation): Promise<Reply> {
  const { tickets, all } = await visibleOpenTickets(billing, actor);
  return {
    text: `${tickets.length} open ticket(s)`,
    blocks: ticketListBlocks(tickets, all, userId),
  };
}

export function ticketHandlers(deps: FeatureDeps) {
  const { billing, provider } = deps;
  const account = provider.kind === "alibaba";
  return {
    async approve(args: ActionArgs) {
      if (account) return approveOnAccount(deps, args);
      const { ack, body, action, client, respond, logger } = args;
      await ack();
      try {
        const approver = body.user.id;
        const { ticket, result } = await approveTicket(
          billing,
          userActor(approver),
          buttonTicket(action),
        );
        await refreshSupportMessage(client, deps, ticket, logger);
        const outcome =
          result.refund.outcome === "released"
            ? `${ticket.instance_id} is released.`
            : `${ticket.instance_id} keeps running until ${slackDate(result.refund.expiresAfter)} and no longer auto-renews.`;
        await tellByDm(
          client,
          ticket.requester,
          `:white_check_mark: ${ticketLabel(ticket.id)} was approved by <@${approver}>: ${formatUsd(result.refund.totalCents)} refunded to the balance (now ${formatUsd(result.balanceAfterCents)}). ${outcome}`,
          logger,
        );
        await deps.refreshHome(client, approver, logger);
      } catch (error) {
        await tellClicker(client, body, respond, userMessage(error, logger), logger);
      }
    },

    /** Reject asks for a reason first, in a modal. */
    async rejectButton({ ack, body, action, client, respond, logger }: ActionArgs) {
      await ack();
      try {
        const id = buttonTicket(action);
        const actor = userActor(body.user.id);
        await requireAdmin(billing, billing.db, actor, "reject unsubscribe tickets");
        const ticket = await openTicket(billing, id);
        await openModal(client, body.trigger_id, rejectModal(ticket), "click Reject again");
      } catch (error) {
        await tellClicker(client, body, respond, userMessage(error, logger), logger);
      }
    },

    async withdraw({ ack, body, action, client, respond, logger }: ActionArgs) {
      await ack();
      let text: string;
      try {
        const ticket = await withdrawTicket(billing, userActor(body.user.id), buttonTicket(action));
        await refreshSupportMessage(client, deps, ticket, logger);
        text = `${ticketLabel(ticket.id)} is withdrawn; nothing was changed on ${ticket.instance_id}.`;
      } catch (error) {
        text = userMessage(error, logger);
      }
      await tellClicker(client, body, respond, text, logger);
    },
  };
}

/** KMS_PROVIDER=alibaba: records the approval; the admin is told what to submit to the account. */
async function approveOnAccount(deps: FeatureDeps, args: ActionArgs): Promise<void> {
  const { ack, body, action, client, respond, logger } = args;
  await ack();
  try {
    const approver = body.user.id;
    const approval = await approveForAccount(
      deps.billing,
      userActor(approver),
      buttonTicket(action),
    );
    const { ticket, refund } = approval;
    await refreshSupportMessage(client, deps, ticket, logger);
    await tellByDm(
      client,
      ticket.requester,
      `:white_check_mark: ${ticketLabel(ticket.id)} was approved by <@${approver}>: Alibaba Cloud decides the refund (estimated ${formatUsd(refund.totalCents)}) on the request the admin submits to it; you'll be told when it is refunded.`,
      logger,
    );
    await tellByDm(
      client,
      approver,
      accountRefundRequest(ticket, refund, approval.accountOrderIds),
      logger,
    );
    await deps.refreshHome(client, approver, logger);
  } catch (error) {
    await tellClicker(client, body, respond, userMessage(error, logger), logger);
  }
}

/** KMS_PROVIDER=alibaba: an admin confirms Alibaba Cloud refunded; the requester is told once. */
export function markRefundedHandler(deps: FeatureDeps) {
  return async ({ ack, body, action, client, respond, logger }: ActionArgs) => {
    await ack();
    let text: string;
    try {
      const id = buttonTicket(action);
      const { ticket, marked } = await markTicketRefunded(
        deps.billing,
        userActor(body.user.id),
        id,
      );
      const amount = formatUsd(ticket.refunded_cents ?? 0);
      if (marked) {
        await refreshSupportMessage(client, deps, ticket, logger);
        await tellByDm(
          client,
          ticket.requester,
          `:moneybag: ${ticketLabel(id)} (unsubscribe ${ticket.instance_id}): Alibaba Cloud refunded ${amount}, confirmed by <@${body.user.id}>.`,
          logger,
        );
      }
      text = marked
        ? `${ticketLabel(id)} is marked refunded (${amount}).`
        : `${ticketLabel(id)} was already marked refunded (${amount}); nothing changed.`;
    } catch (error) {
      text = userMessage(error, logger);
    }
    await tellClicker(client, body, respond, text, logger);
  };
}

/** The reject modal's reason: the ticket is closed and the requester told why. */
export function rejectSubmitHandler(deps: FeatureDeps) {
  const { billing } = deps;
  return async ({ ack, body, view, client, logger }: SubmitArgs) => {
    const id = rejectedTicketId(view.private_metadata);
    const reason = readRejectReason(view.state.values)?.trim();
    const refuse = (words: string) =>
      ack({ response_action: "errors", errors: { [REJECT_REASON.block]: words } });
    if (!reason) return refuse("Give the requester a reason.");
    if (id === undefined) return refuse("This form is not one kms-bot made; nothing was changed.");
    const userId = body.user.id;
    await answerSubmission({ ack, client, logger, viewId: view.id, userId }, async () => {
      try {
        const ticket = await rejectTicket(billing, userActor(userId), id, reason);
        return {
          done: `${ticketLabel(ticket.id)} is rejected.`,
          after: async () => {
            await refreshSupportMessage(client, deps, ticket, logger);
            await tellByDm(
              client,
              ticket.requester,
              `:x: ${ticketLabel(ticket.id)} (unsubscribe ${ticket.instance_id}) was rejected by <@${userId}>: ${escapeText(reason)}`,
              logger,
            );
          },
        };
      } catch (error) {
        return { errors: { [REJECT_REASON.block]: userMessage(error, logger).slice(0, 300) } };
      }
    });
  };
}
