import type { KnownBlock, ModalView } from "@slack/types";
import type { InstanceView } from "../../../billing/instances.js";
import { formatUsd } from "../../../billing/money.js";
import { periodLabel } from "../../../billing/periods.js";
import type { BillingProvider, ProviderQuote } from "../../../billing/provider.js";
import { escapeText, LIMITS, plain, section, slackDate } from "../../kit/blocks.js";
import {
  fieldProblem,
  instanceOption,
  instanceSelectOptions,
  monthsFrom,
  periodOption,
  periodOptions,
  read,
  selectedValue,
  stateOf,
  termsAccepted,
  termsBlocks,
} from "../../kit/form.js";
import { encodeQuote } from "../../kit/quote.js";

export const RENEW_VIEW = "renew_modal";
export const RENEW_INSTANCE = { block: "renew_instance", action: "renew_instance_select" } as const;
export const RENEW_PERIOD = { block: "renew_period", action: "renew_period_select" } as const;
export const RENEW_SUMMARY_BLOCK = "renew_summary";

export type RenewSummary =
  | { quote: ProviderQuote; provider: BillingProvider["kind"] }
  | { problem: string }
  | { none: true };

export function renewSummaryText(summary: RenewSummary): string {
  if ("none" in summary) return "Pick an instance to see the price.";
  if ("problem" in summary) return `:warning: ${summary.problem}`;
  const q = summary.quote;
  const account = summary.provider === "alibaba";
  // An expired instance's new period starts when it is bought, not at its old expiry.
  const starts =
    q.periodStart > q.instance.expires_at
      ? " (expired: the new period starts now)"
      : ` (extends from ${slackDate(q.periodStart)})`;
  const lines = [
    `*Price:* ${formatUsd(q.unitCents)} x ${periodLabel(q.months)} = *${formatUsd(q.amountCents)}*${account ? priceSource(q) : ""}`,
    `*${account ? "Account balance" : "Balance"}:* ${formatUsd(q.balanceCents)} now, ${formatUsd(q.balanceAfterCents)} after`,
    `*New expiry:* ${slackDate(q.periodEnd)}${starts}`,
  ];
  if (q.balanceAfterCents < 0) {
    lines.push(
      account
        ? `:warning: The Alibaba Cloud account's balance is short by *${formatUsd(-q.balanceAfterCents)}*. Recharge in the console (Expenses and Costs) first.`
        : `:warning: The balance is short by *${formatUsd(-q.balanceAfterCents)}*. Ask a billing admin to \`/kms topup\`.`,
    );
  }
  return lines.join("\n");
}

/** Where an account-mode price came from: Alibaba Cloud's quote, or the fallback catalogue. */
function priceSource(q: ProviderQuote): string {
  return q.source === "account"
    ? " (quoted by Alibaba Cloud)"
    : "\n_From the bot's price list: Alibaba Cloud could not quote it just now; the account may charge otherwise._";
}

export interface RenewModalInput {
  choices: InstanceView[];
  selectedId?: string;
  months: number;
  summary: RenewSummary;
  /** Keeps the Terms of Service ticked when the modal is drawn again. */
  termsAccepted?: boolean;
  /** Why Buy Now did not charge, shown under the period (a redrawn modal). */
  problem?: string;
}

function hint(text: string): KnownBlock {
  return { type: "context", elements: [{ type: "mrkdwn", text }] };
}

/** The renew modal: instance, Subscription Period, Terms of Service, live price, Buy Now. */
export function renewModal(input: RenewModalInput): ModalView {
  const selected = input.choices.find((c) => c.instance.id === input.selectedId);
  const blocks: KnownBlock[] = [
    section(
      "provider" in input.summary && input.summary.provider === "alibaba"
        ? "Renew a Dedicated KMS instance on the Alibaba Cloud account. The price is paid from the account's balance."
        : "Renew a Dedicated KMS instance. The price is taken from your prepaid balance.",
    ),
    ...(selected
      ? [hint(`${escapeText(selected.instance.name)} · ${selected.instance.site}`)]
      : []),
    {
      type: "input",
      block_id: RENEW_INSTANCE.block,
      dispatch_action: true,
      label: plain("Instance", 2000),
      element: {
        type: "static_select",
        action_id: RENEW_INSTANCE.action,
        placeholder: plain("Choose an instance", 150),
        ...instanceSelectOptions(input.choices),
        ...(selected ? { initial_option: instanceOption(selected) } : {}),
      },
    },
    ...(input.choices.length >= LIMITS.selectOptions
      ? [
          hint(
            `Showing the ${LIMITS.selectOptions} instances that expire soonest; for another, \`/kms renew <instance>\`.`,
          ),
        ]
      : []),
    {
      type: "input",
      block_id: RENEW_PERIOD.block,
      dispatch_action: true,
      label: plain("Subscription Period", 2000),
      element: {
        type: "static_select",
        action_id: RENEW_PERIOD.action,
        options: periodOptions(),
        initial_option: periodOption(input.months),
      },
    },
    ...(input.problem ? [fieldProblem(RENEW_PERIOD.block, input.problem)] : []),
    ...termsBlocks(input.termsAccepted),
    { type: "divider" },
    section(renewSummaryText(input.summary), RENEW_SUMMARY_BLOCK),
  ];
  const q = "quote" in input.summary ? input.summary.quote : undefined;
  return {
    type: "modal",
    callback_id: RENEW_VIEW,
    // The price this form shows, so Buy Now charges it or nothing.
    private_metadata: q
      ? encodeQuote({ key: q.instance.id, months: q.months, unitCents: q.unitCents })
      : "",
    title: plain("Renew instance", LIMITS.viewTitle),
    submit: plain("Buy Now", LIMITS.viewTitle),
    close: plain("Cancel", LIMITS.viewTitle),
    blocks,
  };
}

export interface RenewState {
  instanceId?: string;
  months?: number;
  termsAccepted: boolean;
}

export function readRenewState(values: unknown): RenewState {
  const v = stateOf(values);
  return {
    instanceId: read(v, RENEW_INSTANCE, selectedValue),
    months: monthsFrom(read(v, RENEW_PERIOD, selectedValue)),
    termsAccepted: termsAccepted(v),
  };
}
