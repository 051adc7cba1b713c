import type { ModalView } from "@slack/types";
import { orderLabel } from "../../../billing/bills.js";
import { ticketLabel } from "../../../billing/errors.js";
import type { InstanceView } from "../../../billing/instances.js";
import { formatUsd } from "../../../billing/money.js";
import type { RefundEstimate } from "../../../billing/refunds.js";
import type { TicketRow } from "../../../billing/types.js";
import { LIMITS, plain, section, slackDate } from "../../kit/blocks.js";
import {
  inputValue,
  instanceOption,
  instanceSelectOptions,
  read,
  selectedValue,
  stateOf,
} from "../../kit/form.js";

export const UNSUB_VIEW = "unsubscribe_modal";
export const UNSUB_INSTANCE = { block: "unsub_instance", action: "unsub_instance_select" } as const;
export const UNSUB_REASON = { block: "unsub_reason", action: "unsub_reason_input" } as const;
export const UNSUB_ESTIMATE_BLOCK = "unsub_estimate";

export const REFUND_RULE =
  "Pending renewal orders (paid, not yet started) are refunded in full; a disabled instance also gets the unused share of its current period, by the second. Refunds go back to the prepaid balance.";

/** What approving will do and the refund, line by line, in words. */
export function estimateText(
  e: RefundEstimate & { estimate?: boolean },
  instanceId: string,
): string {
  const caveat = e.estimate
    ? "_An estimate from the account's data: Alibaba Cloud decides the refund on the request the admin submits to it._"
    : "_Recomputed when an admin approves; it may differ._";
  const happens =
    e.outcome === "released"
      ? `*What will happen:* ${instanceId} is released at once; it can't be renewed afterwards.`
      : `*What will happen:* pending renewals are cancelled; ${instanceId} keeps running until ${slackDate(e.expiresAfter)} and stops auto-renewing.`;
  if (e.totalCents === 0) {
    return `${happens}\n:information_source: *Nothing is refundable${e.estimate ? " (estimate)" : ""}.* ${e.nothingBecause ?? ""}\n_Rule: ${REFUND_RULE}_ You can still file a plain request.`;
  }
  const lines = e.lines.map((l) =>
    l.kind === "pending_renewal"
      ? `• ${orderLabel(l.orderId)} pending renewal (${slackDate(l.periodStart, false)} to ${slackDate(l.periodEnd, false)}): ${formatUsd(l.cents)} of ${formatUsd(l.paidCents)}`
      : `• ${orderLabel(l.orderId)} unused share of the current period (until ${slackDate(l.periodEnd, false)}): ${formatUsd(l.cents)} of ${formatUsd(l.paidCents)}`,
  );
  return [happens, `*Refund estimate: ${formatUsd(e.totalCents)}*`, ...lines, caveat].join("\n");
}

export type UnsubSummary =
  | { estimate: RefundEstimate & { estimate?: boolean }; openTicket?: TicketRow }
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

export interface UnsubscribeState {
  instanceId?: string;
  reason?: string;
}

export function readUnsubscribeState(values: unknown): UnsubscribeState {
  const v = stateOf(values);
  return {
    instanceId: read(v, UNSUB_INSTANCE, selectedValue),
    reason: read(v, UNSUB_REASON, inputValue),
  };
}
