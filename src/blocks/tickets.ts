import type { Button, KnownBlock, ModalView } from "@slack/types";
import { orderLabel } from "../billing/bills.js";
import { deciderName, ticketLabel } from "../billing/errors.js";
import type { InstanceView } from "../billing/instances.js";
import { formatUsd } from "../billing/money.js";
import type { RefundEstimate } from "../billing/refunds.js";
import type { TicketRow } from "../store/rows.js";
import {
  clip,
  escapeText,
  LIMITS,
  linesToSections,
  mrkdwn,
  plain,
  section,
  slackDate,
} from "./common.js";
import { instanceOption, instanceSelectOptions } from "./renew.js";

export const UNSUB_VIEW = "unsubscribe_modal";
export const UNSUB_INSTANCE = { block: "unsub_instance", action: "unsub_instance_select" } as const;
export const UNSUB_REASON = { block: "unsub_reason", action: "unsub_reason_input" } as const;
export const UNSUB_ESTIMATE_BLOCK = "unsub_estimate";
export const REJECT_VIEW = "reject_ticket_modal";
export const REJECT_REASON = { block: "reject_reason", action: "reject_reason_input" } as const;

/** Opens the unsubscribe modal for the instance in the value. */
export const OPEN_UNSUBSCRIBE = "open_unsubscribe";
/** Ticket decisions and withdrawal; each button's value is the ticket id. */
export const APPROVE_TICKET = "ticket_approve";
export const REJECT_TICKET = "ticket_reject";
export const WITHDRAW_TICKET = "ticket_withdraw";

export const REFUND_RULE =
  "Pending renewal orders (paid, not yet started) are refunded in full; a disabled instance also gets the unused share of its current period, by the second. Refunds go back to the prepaid balance.";

/** The Unsubscribe button's value when no instance is chosen yet (App Home). */
export const ANY_INSTANCE = "*";

export function unsubscribeButton(instanceId: string = ANY_INSTANCE): Button {
  return {
    type: "button",
    action_id: OPEN_UNSUBSCRIBE,
    text: plain(instanceId === ANY_INSTANCE ? "Unsubscribe an instance" : "Unsubscribe", 75),
    value: instanceId,
  };
}

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

/** What approving will do and the refund, line by line, in words. */
export function estimateText(e: RefundEstimate, instanceId: string): string {
  const happens =
    e.outcome === "released"
      ? `*What will happen:* ${instanceId} is released at once; it can't be renewed afterwards.`
      : `*What will happen:* pending renewals are cancelled; ${instanceId} keeps running until ${slackDate(e.expiresAfter)} and stops auto-renewing.`;
  if (e.totalCents === 0) {
    return `${happens}\n:information_source: *Nothing is refundable.* ${e.nothingBecause ?? ""}\n_Rule: ${REFUND_RULE}_ You can still file a plain request.`;
  }
  const lines = e.lines.map((l) =>
    l.kind === "pending_renewal"
      ? `• ${orderLabel(l.orderId)} pending renewal (${slackDate(l.periodStart, false)} to ${slackDate(l.periodEnd, false)}): ${formatUsd(l.cents)} of ${formatUsd(l.paidCents)}`
      : `• ${orderLabel(l.orderId)} unused share of the current period (until ${slackDate(l.periodEnd, false)}): ${formatUsd(l.cents)} of ${formatUsd(l.paidCents)}`,
  );
  return [
    happens,
    `*Refund estimate: ${formatUsd(e.totalCents)}*`,
    ...lines,
    "_Recomputed when an admin approves; it may differ._",
  ].join("\n");
}

export type UnsubSummary =
  | { estimate: RefundEstimate; openTicket?: TicketRow }
  | { problem: string }
  | { none: true };

export function unsubscribeModal(input: {
  choices: InstanceView[];
  selectedId?: string;
  summary: UnsubSummary;
}): ModalView {
  const selected = input.choices.find((c) => c.instance.id === input.selectedId);
  const s = input.summary;
  let text: string;
  if ("none" in s) text = "Pick an instance to see what unsubscribing would refund.";
  else if ("problem" in s) text = `:warning: ${s.problem}`;
  else if (s.openTicket)
    text = `:information_source: ${ticketLabel(s.openTicket.id)} is already open for this instance (filed by <@${s.openTicket.requester}>). \`/kms tickets\` shows it.`;
  else text = estimateText(s.estimate, input.selectedId ?? "");
  const nothing = "estimate" in s && s.estimate.totalCents === 0;
  return {
    type: "modal",
    callback_id: UNSUB_VIEW,
    title: plain("Unsubscribe", LIMITS.viewTitle),
    submit: plain(nothing ? "File request" : "File ticket", LIMITS.viewTitle),
    close: plain("Cancel", LIMITS.viewTitle),
    blocks: [
      section("Unsubscribing goes through a ticket that a billing admin approves or rejects."),
      {
        type: "input",
        block_id: UNSUB_INSTANCE.block,
        dispatch_action: true,
        label: plain("Instance", 2000),
        element: {
          type: "static_select",
          action_id: UNSUB_INSTANCE.action,
          placeholder: plain("Choose an instance", 150),
          ...instanceSelectOptions(input.choices),
          ...(selected ? { initial_option: instanceOption(selected) } : {}),
        },
      },
      section(text, UNSUB_ESTIMATE_BLOCK),
      {
        type: "input",
        block_id: UNSUB_REASON.block,
        label: plain("Reason", 2000),
        element: {
          type: "plain_text_input",
          action_id: UNSUB_REASON.action,
          multiline: true,
          max_length: 2000,
        },
      },
    ],
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
