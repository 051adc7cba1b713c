import type { Button, KnownBlock, ModalView } from "@slack/types";
import { awaitingRefund } from "../../../billing/account-tickets.js";
import { deciderName, orderLabelOf, ticketLabel } from "../../../billing/errors.js";
import { formatUsd } from "../../../billing/money.js";
import type { RefundEstimate } from "../../../billing/refunds.js";
import type { TicketRow } from "../../../billing/types.js";
import {
  clip,
  escapeText,
  LIMITS,
  linesToSections,
  mrkdwn,
  plain,
  section,
  slackDate,
} from "../../kit/blocks.js";
import { inputValue, read, stateOf } from "../../kit/form.js";
import { rowId } from "../../kit/ids.js";
import { estimateText } from "../unsubscribe/blocks.js";

export const REJECT_VIEW = "reject_ticket_modal";
export const REJECT_REASON = { block: "reject_reason", action: "reject_reason_input" } as const;

/** Ticket decisions and withdrawal; each button's value is the ticket id. */
export const APPROVE_TICKET = "ticket_approve";
export const REJECT_TICKET = "ticket_reject";
export const WITHDRAW_TICKET = "ticket_withdraw";
/** KMS_PROVIDER=alibaba: an admin confirms Alibaba Cloud refunded an approved ticket. */
export const MARK_REFUNDED = "ticket_mark_refunded";

function ticketButton(
  actionId: string,
  label: string,
  ticketId: number,
  style?: "primary" | "danger",
): Button {
  return {
    type: "button",
    action_id: actionId,
    text: plain(label, 75),
    value: String(ticketId),
    ...(style ? { style } : {}),
  };
}

const STATUS_TEXT = {
  open: ":hourglass: open",
  approved: ":white_check_mark: approved",
  rejected: ":x: rejected",
  withdrawn: ":leftwards_arrow_with_hook: withdrawn",
} as const;

/** The ticket as posted in the support channel; once decided, who did what instead of buttons. */
export function supportMessage(
  ticket: TicketRow,
  estimate: RefundEstimate | undefined,
  account = false,
): { text: string; blocks: KnownBlock[] } {
  const label = ticketLabel(ticket.id);
  const text = `${label}: <@${ticket.requester}> asks to unsubscribe ${ticket.instance_id} (${STATUS_TEXT[ticket.status]})`;
  const blocks: KnownBlock[] = [
    section(
      `*${label}* · unsubscribe ${ticket.instance_id} · ${STATUS_TEXT[ticket.status]}\nRequested by <@${ticket.requester}> ${slackDate(ticket.created_at)}`,
    ),
    section(`*Reason:* ${escapeText(clip(ticket.reason, 2500))}`),
  ];
  if (ticket.status === "open" && estimate) {
    blocks.push(section(estimateText(estimate, ticket.instance_id)));
    blocks.push({
      type: "actions",
      elements: [
        ticketButton(APPROVE_TICKET, "Approve", ticket.id, "primary"),
        ticketButton(REJECT_TICKET, "Reject", ticket.id, "danger"),
      ],
    });
  } else if (awaitingRefund(ticket)) {
    blocks.push(
      section(
        `:memo: Approved: submit the refund to Alibaba Cloud. Approved by ${deciderName(ticket.decided_by ?? "")} ${slackDate(ticket.decided_at ?? 0)}; estimated refund *${formatUsd(ticket.estimate_cents)}*. Admins: mark it refunded once Alibaba Cloud has refunded.`,
      ),
      { type: "actions", elements: [ticketButton(MARK_REFUNDED, "Mark refunded", ticket.id)] },
    );
  } else if (ticket.status === "approved" && account) {
    blocks.push(
      section(
        `:white_check_mark: Approved by ${deciderName(ticket.decided_by ?? "")} ${slackDate(ticket.decided_at ?? 0)}; refunded *${formatUsd(ticket.refunded_cents ?? 0)}* by Alibaba Cloud.`,
      ),
    );
  } else if (ticket.status === "approved") {
    blocks.push(
      section(
        `:white_check_mark: Approved by ${deciderName(ticket.decided_by ?? "")} ${slackDate(ticket.decided_at ?? 0)}: refunded *${formatUsd(ticket.refunded_cents ?? 0)}* to the balance.`,
      ),
    );
  } else if (ticket.status === "rejected") {
    blocks.push(
      section(
        `:x: Rejected by ${deciderName(ticket.decided_by ?? "")} ${slackDate(ticket.decided_at ?? 0)}: ${escapeText(ticket.decision_note ?? "")}`,
      ),
    );
  } else if (ticket.status === "withdrawn") {
    blocks.push(
      section(
        `:leftwards_arrow_with_hook: Withdrawn by <@${ticket.requester}> ${slackDate(ticket.decided_at ?? 0)}.`,
      ),
    );
  } else {
    blocks.push(section(`Estimated refund at filing: ${formatUsd(ticket.estimate_cents)}`));
  }
  return { text, blocks };
}

/** The reject modal: the reason goes to the requester. The ticket id rides in private_metadata. */
export function rejectModal(ticket: TicketRow): ModalView {
  return {
    type: "modal",
    callback_id: REJECT_VIEW,
    private_metadata: String(ticket.id),
    title: plain(`Reject ${ticketLabel(ticket.id)}`, LIMITS.viewTitle),
    submit: plain("Reject", LIMITS.viewTitle),
    close: plain("Cancel", LIMITS.viewTitle),
    blocks: [
      section(`Reject <@${ticket.requester}>'s request to unsubscribe ${ticket.instance_id}.`),
      {
        type: "input",
        block_id: REJECT_REASON.block,
        label: plain("Reason (sent to the requester)", 2000),
        element: {
          type: "plain_text_input",
          action_id: REJECT_REASON.action,
          multiline: true,
          max_length: 2000,
        },
      },
    ],
  };
}

/** `/kms tickets`: open tickets, with Withdraw on the viewer's own. */
export function ticketListBlocks(tickets: TicketRow[], all: boolean, viewer: string): KnownBlock[] {
  const head = section(
    all
      ? `*Open unsubscribe tickets* (${tickets.length})`
      : `*Your open unsubscribe tickets* (${tickets.length})`,
  );
  if (tickets.length === 0)
    return [head, section("None. `/kms unsubscribe <instance>` files one.")];
  const line = (t: TicketRow) =>
    `*${ticketLabel(t.id)}* · ${t.instance_id} · <@${t.requester}> · ${slackDate(t.created_at, false)} · estimate ${formatUsd(t.estimate_cents)} · ${STATUS_TEXT[t.status]}`;
  const own = tickets.filter((t) => t.requester === viewer).slice(0, 20);
  const blocks: KnownBlock[] = [head];
  if (tickets.length <= 20) {
    for (const t of tickets) {
      blocks.push({ type: "section", text: mrkdwn(line(t)) });
      // Admins can decide from here too (the support-channel post may have failed).
      const buttons = [
        ...(all && tickets.length <= 15
          ? [
              ticketButton(APPROVE_TICKET, "Approve", t.id, "primary"),
              ticketButton(REJECT_TICKET, "Reject", t.id, "danger"),
            ]
          : []),
        ...(t.requester === viewer ? [ticketButton(WITHDRAW_TICKET, "Withdraw", t.id)] : []),
      ];
      if (buttons.length > 0) blocks.push({ type: "actions", elements: buttons });
    }
    return blocks;
  }
  blocks.push(...linesToSections(tickets.map(line), LIMITS.messageBlocks - 2 - own.length));
  for (const t of own)
    blocks.push({
      type: "section",
      text: mrkdwn(`${ticketLabel(t.id)} (yours)`),
      accessory: ticketButton(WITHDRAW_TICKET, "Withdraw", t.id),
    });
  return blocks;
}

export function readRejectReason(values: unknown): string | undefined {
  return read(stateOf(values), REJECT_REASON, inputValue);
}

/** The ticket id a reject modal carries in its private_metadata; undefined if not ours. */
export function rejectedTicketId(metadata: string): number | undefined {
  const id = rowId.safeParse(metadata);
  return id.success ? id.data : undefined;
}

/**
 * KMS_PROVIDER=alibaba: what the approving admin submits to Alibaba Cloud (the refund itself is
 * decided there): the instance, the orders and the amounts by the seed's rule.
 */
export function accountRefundRequest(
  ticket: TicketRow,
  refund: RefundEstimate,
  accountOrderIds: Record<number, string | null> = {},
): string {
  const orderName = (id: number) => {
    const theirs = accountOrderIds[id];
    return theirs ? `${orderLabelOf(id)} (Alibaba Cloud OrderId ${theirs})` : orderLabelOf(id);
  };
  const lines = refund.lines.map(
    (l) =>
      `• ${orderName(l.orderId)} (${l.kind === "pending_renewal" ? "renewal not yet started" : "unused share of the current period"}, ${slackDate(l.periodStart, false)} to ${slackDate(l.periodEnd, false)}): paid ${formatUsd(l.paidCents)}, refund ${formatUsd(l.cents)}`,
  );
  return [
    `:memo: ${ticketLabel(ticket.id)} is approved. Submit the unsubscription to Alibaba Cloud (console: Expenses and Costs, or a ticket), which decides the refund:`,
    `*Instance:* ${ticket.instance_id}`,
    ...(lines.length > 0 ? ["*Orders:*", ...lines] : ["*Orders:* none refundable under the rule."]),
    `*Estimated refund:* ${formatUsd(refund.totalCents)}`,
    "Once Alibaba Cloud has refunded, click *Mark refunded* on the ticket's post in the support channel.",
  ].join("\n");
}
