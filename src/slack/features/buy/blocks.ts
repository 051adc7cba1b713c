import type { KnownBlock, ModalView } from "@slack/types";
import { formatUsd } from "../../../billing/money.js";
import { periodLabel } from "../../../billing/periods.js";
import { SITES, type Site } from "../../../billing/types.js";
import { LIMITS, plain, section } from "../../kit/blocks.js";
import {
  fieldProblem,
  inputValue,
  monthsFrom,
  optionalId,
  periodOption,
  periodOptions,
  read,
  selectedValue,
  stateOf,
  termsAccepted,
  termsBlocks,
} from "../../kit/form.js";
import { channelId, userId } from "../../kit/ids.js";
import { encodeQuote } from "../../kit/quote.js";

export const BUY_VIEW = "buy_modal";
export const BUY_NAME = { block: "buy_name", action: "buy_name_input" } as const;
export const BUY_SITE = { block: "buy_site", action: "buy_site_select" } as const;
export const BUY_PERIOD = { block: "buy_period", action: "buy_period_select" } as const;
export const BUY_CHANNEL = { block: "buy_channel", action: "buy_channel_select" } as const;
export const BUY_OWNER = { block: "buy_owner", action: "buy_owner_select" } as const;
export const BUY_SUMMARY_BLOCK = "buy_summary";

const SITE_LABEL: Record<Site, string> = {
  international: "International site",
  china: "China site",
};

export interface BuyQuote {
  site: Site;
  months: number;
  unitCents: number;
  balanceCents: number;
}

/** What a redrawn modal keeps of the person's input, and why it was redrawn. */
export interface BuyRedraw {
  name?: string;
  termsAccepted?: boolean;
  problem?: string;
}

export function buySummaryText(q: BuyQuote): string {
  const amount = q.unitCents * q.months;
  const after = q.balanceCents - amount;
  const lines = [
    `*Price:* ${formatUsd(q.unitCents)} x ${periodLabel(q.months)} = *${formatUsd(amount)}*`,
    `*Balance:* ${formatUsd(q.balanceCents)} now, ${formatUsd(after)} after`,
  ];
  if (after < 0)
    lines.push(
      `:warning: The balance is short by *${formatUsd(-after)}*. Top up first with \`/kms topup\`.`,
    );
  return lines.join("\n");
}

/** The purchase modal (admins): name, site, period, alert channel, owner, terms, Buy Now. */
export function buyModal(quote: BuyQuote, redraw: BuyRedraw = {}): ModalView {
  const siteOption = (s: Site) => ({ text: plain(SITE_LABEL[s], LIMITS.optionText), value: s });
  const blocks: KnownBlock[] = [
    {
      type: "input",
      block_id: BUY_NAME.block,
      label: plain("Name", 2000),
      element: {
        type: "plain_text_input",
        action_id: BUY_NAME.action,
        max_length: 200,
        placeholder: plain("e.g. payments-hsm", 150),
        ...(redraw.name ? { initial_value: redraw.name } : {}),
      },
    },
    {
      type: "input",
      block_id: BUY_SITE.block,
      dispatch_action: true,
      label: plain("Site", 2000),
      element: {
        type: "static_select",
        action_id: BUY_SITE.action,
        options: SITES.map(siteOption),
        initial_option: siteOption(quote.site),
      },
    },
    {
      type: "input",
      block_id: BUY_PERIOD.block,
      dispatch_action: true,
      label: plain("Subscription Period", 2000),
      element: {
        type: "static_select",
        action_id: BUY_PERIOD.action,
        options: periodOptions(),
        initial_option: periodOption(quote.months),
      },
    },
    ...(redraw.problem ? [fieldProblem(BUY_PERIOD.block, redraw.problem)] : []),
    {
      type: "input",
      block_id: BUY_CHANNEL.block,
      optional: true,
      label: plain("Alert channel", 2000),
      hint: plain("Where expiry warnings go. Default: the team's alert channel.", 2000),
      element: {
        type: "conversations_select",
        action_id: BUY_CHANNEL.action,
        filter: { include: ["public", "private"], exclude_bot_users: true },
      },
    },
    {
      type: "input",
      block_id: BUY_OWNER.block,
      optional: true,
      label: plain("Owner", 2000),
      element: { type: "users_select", action_id: BUY_OWNER.action },
    },
    ...termsBlocks(redraw.termsAccepted),
    { type: "divider" },
    section(buySummaryText(quote), BUY_SUMMARY_BLOCK),
  ];
  return {
    type: "modal",
    callback_id: BUY_VIEW,
    private_metadata: encodeQuote({
      key: quote.site,
      months: quote.months,
      unitCents: quote.unitCents,
    }),
    title: plain("Buy Dedicated KMS", LIMITS.viewTitle),
    submit: plain("Buy Now", LIMITS.viewTitle),
    close: plain("Cancel", LIMITS.viewTitle),
    blocks,
  };
}

export interface BuyState {
  name?: string;
  site?: Site;
  months?: number;
  channel?: string;
  owner?: string;
  /** Blocks whose value is there but malformed. */
  invalid: string[];
  termsAccepted: boolean;
}

export function readBuyState(values: unknown): BuyState {
  const v = stateOf(values);
  const site = read(v, BUY_SITE, selectedValue);
  const channel = optionalId(v, BUY_CHANNEL, "selected_conversation", channelId);
  const owner = optionalId(v, BUY_OWNER, "selected_user", userId);
  return {
    name: read(v, BUY_NAME, inputValue),
    site: SITES.find((s) => s === site),
    months: monthsFrom(read(v, BUY_PERIOD, selectedValue)),
    channel: channel.value,
    owner: owner.value,
    invalid: [
      ...(channel.invalid ? [BUY_CHANNEL.block] : []),
      ...(owner.invalid ? [BUY_OWNER.block] : []),
    ],
    termsAccepted: termsAccepted(v),
  };
}
