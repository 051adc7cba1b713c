import type { KnownBlock, ModalView, Option, PlainTextOption } from "@slack/types";
import type { InstanceView } from "../billing/instances.js";
import { formatUsd } from "../billing/money.js";
import type { RenewalQuote } from "../billing/orders.js";
import { PERIOD_MONTHS, periodLabel } from "../billing/periods.js";
import { clip, escapeText, LIMITS, plain, section, slackDate } from "./common.js";

export const RENEW_VIEW = "renew_modal";
export const RENEW_INSTANCE = { block: "renew_instance", action: "renew_instance_select" } as const;
export const RENEW_PERIOD = { block: "renew_period", action: "renew_period_select" } as const;
export const TERMS = { block: "terms", action: "terms_accept", value: "accepted" } as const;
export const RENEW_SUMMARY_BLOCK = "renew_summary";

export const TERMS_URL = "https://www.alibabacloud.com/help/en/legal";

/** The Subscription Period options: 1-9 months, 1, 2 and 3 years. */
export function periodOptions(): PlainTextOption[] {
  return PERIOD_MONTHS.map((m) => ({
    text: plain(periodLabel(m), LIMITS.optionText),
    value: String(m),
  }));
}

export function periodOption(months: number): PlainTextOption {
  return { text: plain(periodLabel(months), LIMITS.optionText), value: String(months) };
}

/** An instance as a select option: `id · name`, cut to Slack's 75 characters. */
export function instanceOption({ instance }: InstanceView): PlainTextOption {
  return {
    text: plain(clip(`${instance.id} · ${instance.name}`, LIMITS.optionText)),
    value: instance.id,
  };
}

/** A static select of instances: the first 100 (Slack's limit for a select). */
export function instanceSelectOptions(choices: InstanceView[]): { options: PlainTextOption[] } {
  return { options: choices.slice(0, LIMITS.selectOptions).map(instanceOption) };
}

/** The Terms of Service link and the required checkbox, shared by the renew and buy modals. */
export function termsBlocks(): KnownBlock[] {
  const option: Option = {
    text: plain("I have read and agree to the Dedicated KMS Terms of Service", LIMITS.optionText),
    value: TERMS.value,
  };
  return [
    {
      type: "context",
      elements: [
        { type: "mrkdwn", text: `<${TERMS_URL}|Read the Dedicated KMS Terms of Service>` },
      ],
    },
    {
      type: "input",
      block_id: TERMS.block,
      label: plain("Terms of Service", 2000),
      element: { type: "checkboxes", action_id: TERMS.action, options: [option] },
    },
  ];
}

export type RenewSummary = { quote: RenewalQuote } | { problem: string } | { none: true };

export function renewSummaryText(summary: RenewSummary, now: number): string {
  if ("none" in summary) return "Pick an instance to see the price.";
  if ("problem" in summary) return `:warning: ${summary.problem}`;
  const q = summary.quote;
  const lines = [
    `*Price:* ${formatUsd(q.unitCents)} x ${periodLabel(q.months)} = *${formatUsd(q.amountCents)}*`,
    `*Balance:* ${formatUsd(q.balanceCents)} now, ${formatUsd(q.balanceAfterCents)} after`,
    `*New expiry:* ${slackDate(q.periodEnd)}${q.periodStart === now ? " (expired: the new period starts now)" : ` (extends from ${slackDate(q.periodStart)})`}`,
  ];
  if (q.balanceAfterCents < 0) {
    lines.push(
      `:warning: The balance is short by *${formatUsd(-q.balanceAfterCents)}*. Ask a billing admin to \`/kms topup\`.`,
    );
  }
  return lines.join("\n");
}

/** What a modal showed: `{ k: instance id or site, m: months, u: unit price in cents }`. */
export function quotedPrice(key: string, months: number, unitCents: number): string {
  return JSON.stringify({ k: key, m: months, u: unitCents });
}

export interface RenewModalInput {
  choices: InstanceView[];
  selectedId?: string;
  months: number;
  summary: RenewSummary;
  now: number;
}

/** The renew modal: instance, Subscription Period, Terms of Service, live price, Buy Now. */
export function renewModal(input: RenewModalInput): ModalView {
  const selected = input.choices.find((c) => c.instance.id === input.selectedId);
  const blocks: KnownBlock[] = [
    section("Renew a Dedicated KMS instance. The price is taken from your prepaid balance."),
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
    ...termsBlocks(),
    { type: "divider" },
    section(renewSummaryText(input.summary, input.now), RENEW_SUMMARY_BLOCK),
  ];
  if (input.choices.length >= LIMITS.selectOptions) {
    blocks.splice(2, 0, {
      type: "context",
      elements: [
        {
          type: "mrkdwn",
          text: `Showing the ${LIMITS.selectOptions} instances that expire soonest; for another, \`/kms renew <instance>\`.`,
        },
      ],
    });
  }
  if (selected) {
    blocks.splice(1, 0, {
      type: "context",
      elements: [
        {
          type: "mrkdwn",
          text: `${escapeText(selected.instance.name)} · ${selected.instance.site}`,
        },
      ],
    });
  }
  return {
    type: "modal",
    callback_id: RENEW_VIEW,
    // The price this form shows, so Buy Now charges it or says it changed.
    private_metadata:
      "quote" in input.summary
        ? quotedPrice(
            input.summary.quote.instance.id,
            input.summary.quote.months,
            input.summary.quote.unitCents,
          )
        : "",
    title: plain("Renew instance", LIMITS.viewTitle),
    submit: plain("Buy Now", LIMITS.viewTitle),
    close: plain("Cancel", LIMITS.viewTitle),
    blocks,
  };
}
