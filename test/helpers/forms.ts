// Modal submissions as Slack sends them for kms-bot's forms, shared by the Slack tests.
import type { BillingContext } from "../../src/billing/context.js";
import { quoteRenewal } from "../../src/billing/orders.js";
import { currentPrices } from "../../src/billing/prices.js";
import {
  BUY_CHANNEL,
  BUY_NAME,
  BUY_OWNER,
  BUY_PERIOD,
  BUY_SITE,
  BUY_VIEW,
} from "../../src/slack/features/buy/blocks.js";
import { RENEW_INSTANCE, RENEW_PERIOD, RENEW_VIEW } from "../../src/slack/features/renew/blocks.js";
import { TERMS } from "../../src/slack/kit/form.js";
import { encodeQuote } from "../../src/slack/kit/quote.js";

/** The list price of an international instance-month, as seeded. */
export const LIST_CENTS = 179_900;

/** `view.state.values` of the renew modal; an undefined choice reads as "not chosen". */
export function renewValues(
  instanceId: string | undefined,
  months: string | number | undefined = "1",
  terms = true,
) {
  return {
    [RENEW_INSTANCE.block]: {
      [RENEW_INSTANCE.action]: {
        type: "static_select",
        selected_option: instanceId ? { value: instanceId } : null,
      },
    },
    [RENEW_PERIOD.block]: {
      [RENEW_PERIOD.action]: {
        type: "static_select",
        selected_option: months === undefined ? null : { value: String(months) },
      },
    },
    [TERMS.block]: {
      [TERMS.action]: {
        type: "checkboxes",
        selected_options: terms ? [{ value: TERMS.value }] : [],
      },
    },
  };
}

/** The private_metadata of a modal that showed `unitCents` a month for `key` and `months`. */
export function shownPrice(key: string, months: string | number = 1, unitCents = LIST_CENTS) {
  return encodeQuote({ key, months: Number(months), unitCents });
}

/**
 * A renew modal submitted after it showed the price (as opened by `/kms renew`): spread
 * into `submit({ viewId, ...renewForm("kst-a") })`.
 */
export function renewForm(
  instanceId: string,
  months: string | number = 1,
  options: { unitCents?: number; terms?: boolean } = {},
) {
  return {
    callbackId: RENEW_VIEW,
    values: renewValues(instanceId, months, options.terms ?? true),
    privateMetadata: shownPrice(instanceId, months, options.unitCents),
  };
}

export interface BuyChoice {
  name?: string | null;
  site?: string | null;
  months?: string | null;
  channel?: string | null;
  owner?: string | null;
  terms?: boolean;
}

/** `view.state.values` of the buy modal as Slack sends them. */
export function buyValues(choice: BuyChoice = {}) {
  const c = {
    name: "payments-hsm",
    site: "international",
    months: "1",
    channel: null,
    owner: null,
    terms: true,
    ...choice,
  };
  return {
    [BUY_NAME.block]: { [BUY_NAME.action]: { type: "plain_text_input", value: c.name } },
    [BUY_SITE.block]: {
      [BUY_SITE.action]: {
        type: "static_select",
        selected_option: c.site ? { value: c.site } : null,
      },
    },
    [BUY_PERIOD.block]: {
      [BUY_PERIOD.action]: {
        type: "static_select",
        selected_option: c.months ? { value: c.months } : null,
      },
    },
    [BUY_CHANNEL.block]: {
      [BUY_CHANNEL.action]: { type: "conversations_select", selected_conversation: c.channel },
    },
    [BUY_OWNER.block]: { [BUY_OWNER.action]: { type: "users_select", selected_user: c.owner } },
    [TERMS.block]: {
      [TERMS.action]: {
        type: "checkboxes",
        selected_options: c.terms ? [{ value: TERMS.value }] : [],
      },
    },
  };
}

/** The list price of each site, as seeded. */
export const SITE_LIST_CENTS: Record<string, number> = { international: 179_900, china: 239_900 };

/** The private_metadata of a buy modal that showed the list price for the values' choice. */
export function buyShownPrice(values: Record<string, unknown>): string {
  const chosen = (block: string, action: string) =>
    (values as Record<string, Record<string, { selected_option?: { value?: string } | null }>>)[
      block
    ]?.[action]?.selected_option?.value ?? "";
  const site = chosen(BUY_SITE.block, BUY_SITE.action);
  const months = Number(chosen(BUY_PERIOD.block, BUY_PERIOD.action)) || 1;
  return shownPrice(site, months, SITE_LIST_CENTS[site] ?? LIST_CENTS);
}

type Values = Record<string, Record<string, { selected_option?: { value?: unknown } | null }>>;

function chosen(values: unknown, at: { block: string; action: string }): string {
  const value = (values as Values | undefined)?.[at.block]?.[at.action]?.selected_option?.value;
  return typeof value === "string" ? value : "";
}

/**
 * The private_metadata of a renew or buy modal that showed today's price for the submitted
 * choice: what `/kms renew` or `/kms buy` would have put there. Undefined for other forms.
 */
export async function currentShownPrice(
  billing: BillingContext,
  callbackId: string | undefined,
  values: unknown,
): Promise<string | undefined> {
  if (callbackId === RENEW_VIEW) {
    const id = chosen(values, RENEW_INSTANCE);
    const months = Number(chosen(values, RENEW_PERIOD)) || 1;
    const unit = await quoteRenewal(billing, id, months).then(
      (q) => q.unitCents,
      () => LIST_CENTS,
    );
    return shownPrice(id, months, unit);
  }
  if (callbackId === BUY_VIEW) {
    const site = chosen(values, BUY_SITE);
    const months = Number(chosen(values, BUY_PERIOD)) || 1;
    const prices = await currentPrices(billing);
    const unit =
      site === "international" || site === "china" ? prices[site].unit_cents : LIST_CENTS;
    return shownPrice(site, months, unit);
  }
  return undefined;
}
