import type { ModalView } from "@slack/types";
import { balance } from "../../../billing/account.js";
import { type BillingContext, userActor } from "../../../billing/context.js";
import { isBillingError } from "../../../billing/errors.js";
import { checkPurchase, purchase } from "../../../billing/orders.js";
import { currentPrices } from "../../../billing/prices.js";
import type { Site } from "../../../billing/types.js";
import { buyNow, confirmOrder, orderText } from "../../kit/buy-now.js";
import type { ActionArgs, FeatureDeps, SubmitArgs } from "../../kit/deps.js";
import { userMessage } from "../../kit/errors.js";
import { TERMS } from "../../kit/form.js";
import { shownUnitCents } from "../../kit/quote.js";
import { redrawModal } from "../../kit/slack.js";
import { answerSubmission } from "../../kit/submit.js";
import {
  BUY_CHANNEL,
  BUY_NAME,
  BUY_OWNER,
  BUY_PERIOD,
  BUY_SITE,
  type BuyRedraw,
  buyModal,
  readBuyState,
} from "./blocks.js";

const TERMS_REQUIRED = "Please read and accept the Dedicated KMS Terms of Service.";

/** The purchase modal with today's price of `site` and the balance. */
export async function buildBuyModal(
  billing: BillingContext,
  site: Site = "international",
  months = 1,
  redraw?: BuyRedraw,
): Promise<ModalView> {
  const [prices, balanceCents] = await Promise.all([currentPrices(billing), balance(billing)]);
  return buyModal({ site, months, unitCents: prices[site].unit_cents, balanceCents }, redraw);
}

/** Which field of the modal a billing refusal belongs on. */
function fieldFor(error: unknown): string {
  if (isBillingError(error, "INSUFFICIENT_BALANCE") || isBillingError(error, "PRICE_CHANGED"))
    return BUY_PERIOD.block;
  if (!isBillingError(error) || error.failure.code !== "INVALID_INPUT") return BUY_NAME.block;
  const fields: Record<string, string> = {
    channel: BUY_CHANNEL.block,
    owner: BUY_OWNER.block,
    months: BUY_PERIOD.block,
  };
  return fields[error.failure.field] ?? BUY_NAME.block;
}

/** Refusals that need no database: missing or malformed fields. */
function formErrors(state: ReturnType<typeof readBuyState>): Record<string, string> {
  const errors: Record<string, string> = {};
  if (!state.name?.trim()) errors[BUY_NAME.block] = "Give the instance a name.";
  if (!state.site) errors[BUY_SITE.block] = "Choose a site.";
  if (state.months === undefined) errors[BUY_PERIOD.block] = "Choose a subscription period.";
  if (!state.termsAccepted) errors[TERMS.block] = TERMS_REQUIRED;
  if (state.invalid.includes(BUY_CHANNEL.block))
    errors[BUY_CHANNEL.block] = "Invalid channel: pick a channel from the list.";
  if (state.invalid.includes(BUY_OWNER.block))
    errors[BUY_OWNER.block] = "Invalid owner: pick a person from the list.";
  return errors;
}

export function buyHandlers(deps: FeatureDeps) {
  const { billing } = deps;
  return {
    /** A changed site or period: the price summary follows. */
    async refresh({ ack, body, client, logger }: ActionArgs) {
      await ack();
      if (!body.view) return;
      const state = readBuyState(body.view.state.values);
      const view = await buildBuyModal(billing, state.site, state.months ?? 1);
      await redrawModal(client, body.view, view, logger);
    },

    /** Buy Now: charges the price the modal showed, or nothing. */
    async submit({ ack, body, view, client, logger }: SubmitArgs) {
      const state = readBuyState(view.state.values);
      const errors = formErrors(state);
      const { site, months } = state;
      if (Object.keys(errors).length > 0 || !site || months === undefined) {
        await ack({ response_action: "errors", errors });
        return;
      }
      const userId = body.user.id;
      await answerSubmission({ ack, client, logger, viewId: view.id, userId }, async () => {
        try {
          const input = (expectedUnitCents?: number) => ({
            name: state.name ?? "",
            site,
            months,
            channel: state.channel ?? null,
            owner: state.owner ?? null,
            idempotencyKey: `buy:${view.id}`,
            expectedUnitCents,
          });
          const actor = userActor(userId);
          const r = await buyNow(shownUnitCents(view.private_metadata, site, months), {
            check: () => checkPurchase(billing, actor, input()),
            charge: (unitCents) => purchase(billing, actor, input(unitCents)),
            redraw: (problem) =>
              buildBuyModal(billing, site, months, {
                name: state.name,
                termsAccepted: true,
                problem,
              }),
          });
          if ("redraw" in r) return r;
          const { order } = r;
          return {
            done: orderText("Bought", order),
            after: () => confirmOrder(deps, client, userId, "Bought", order, logger),
          };
        } catch (error) {
          return { errors: { [fieldFor(error)]: userMessage(error, logger).slice(0, 300) } };
        }
      });
    },
  };
}
