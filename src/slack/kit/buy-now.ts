import type { Logger } from "@slack/bolt";
import type { ModalView } from "@slack/types";
import type { WebClient } from "@slack/web-api";
import { orderLabel } from "../../billing/bills.js";
import { isBillingError } from "../../billing/errors.js";
import { formatUsd } from "../../billing/money.js";
import type { OrderResult } from "../../billing/orders.js";
import { periodLabel } from "../../billing/periods.js";
import { escapeText, slackDate } from "./blocks.js";
import type { FeatureDeps } from "./deps.js";
import { tellByDm } from "./slack.js";

/** Why Buy Now charged nothing when the modal showed no price for the choice submitted. */
export const PRICE_NOT_SHOWN =
  "This form showed no price for this choice (or one for another choice); nothing was charged. The price is shown below: check it and press Buy Now again.";

/**
 * Buy Now, for the renew and the buy modal alike: the one place where the price a modal
 * showed is held against the price charged. `shown` is the unit price the modal showed for
 * the submitted choice (undefined: none). Without one (once `check` has refused what the
 * core would), or when the core says the price in force is another (PRICE_CHANGED),
 * nothing is charged and the modal is drawn again with the current price and the reason,
 * so the next Buy Now can succeed.
 */
export async function buyNow(
  shown: number | undefined,
  steps: {
    /** Refuses what the core would refuse (unknown instance, period not on sale); charges nothing. */
    check: () => Promise<unknown>;
    charge: (unitCents: number) => Promise<OrderResult>;
    redraw: (problem: string) => Promise<ModalView>;
  },
): Promise<{ order: OrderResult } | { redraw: ModalView; problem: string }> {
  const { charge, redraw } = steps;
  if (shown === undefined) {
    await steps.check();
    return { redraw: await redraw(PRICE_NOT_SHOWN), problem: PRICE_NOT_SHOWN };
  }
  try {
    return { order: await charge(shown) };
  } catch (error) {
    if (!isBillingError(error, "PRICE_CHANGED")) throw error;
    return { redraw: await redraw(error.message), problem: error.message };
  }
}

/** What the buyer is told of a paid order. */
export function orderText(what: string, r: OrderResult): string {
  return `:white_check_mark: ${what} ${r.instance.id} (${escapeText(r.instance.name)}) for ${periodLabel(r.order.months)}. Order ${orderLabel(r.order.id)}, ${formatUsd(r.order.amount_cents)}. Expires ${slackDate(r.instance.expires_at)}. Balance: ${formatUsd(r.balanceAfterCents)}.`;
}

/** Confirms a paid order to its buyer by DM and refreshes their App Home (not for a replay). */
export async function confirmOrder(
  deps: FeatureDeps,
  client: WebClient,
  userId: string,
  what: string,
  r: OrderResult,
  logger: Logger,
): Promise<void> {
  if (r.replayed) return;
  await tellByDm(client, userId, orderText(what, r), logger);
  await deps.refreshHome(client, userId, logger);
}
