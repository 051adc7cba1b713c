import type { ModalView } from "@slack/types";
import { userActor } from "../../../billing/context.js";
import { isBillingError } from "../../../billing/errors.js";
import { buyNow, confirmOrder, orderText } from "../../kit/buy-now.js";
import { modalChoices } from "../../kit/choices.js";
import type { ActionArgs, Billing, FeatureDeps, SubmitArgs } from "../../kit/deps.js";
import { malformedButton, userMessage } from "../../kit/errors.js";
import { TERMS } from "../../kit/form.js";
import { instanceId } from "../../kit/ids.js";
import { shownUnitCents } from "../../kit/quote.js";
import { openModal, redrawModal, tellClicker } from "../../kit/slack.js";
import { answerSubmission } from "../../kit/submit.js";
import {
  RENEW_INSTANCE,
  RENEW_PERIOD,
  type RenewSummary,
  readRenewState,
  renewModal,
} from "./blocks.js";

const TERMS_REQUIRED = "Please read and accept the Dedicated KMS Terms of Service.";

async function renewSummary(
  { billing, provider }: Billing,
  id: string | undefined,
  months: number,
): Promise<RenewSummary> {
  if (!id) return { none: true };
  try {
    return { quote: await provider.quoteRenewal(billing, id, months), provider: provider.kind };
  } catch (error) {
    if (isBillingError(error)) return { problem: error.message };
    throw error;
  }
}

/**
 * The renew modal for a choice. When opening it (`strict`), a preselected instance that is
 * unknown or released is refused; when drawing it again, the summary says what is wrong.
 */
export async function buildRenewModal(
  on: Billing,
  id: string | undefined,
  months = 1,
  redraw?: { strict?: boolean; termsAccepted?: boolean; problem?: string },
): Promise<ModalView> {
  // The choices first: opening the modal for an unknown or released instance is refused
  // before anything is priced (with KMS_PROVIDER=alibaba, pricing is a call to the account).
  const choices = await modalChoices(on.billing, id, redraw?.strict ?? !redraw);
  return renewModal({
    choices,
    selectedId: id,
    months,
    summary: await renewSummary(on, id, months),
    termsAccepted: redraw?.termsAccepted,
    problem: redraw?.problem,
  });
}

/** Which field of the modal a billing refusal belongs on. */
function fieldFor(error: unknown): string {
  if (!isBillingError(error)) return RENEW_INSTANCE.block;
  const f = error.failure;
  if (f.code === "INSUFFICIENT_BALANCE" || f.code === "PRICE_CHANGED") return RENEW_PERIOD.block;
  // Sent, answer lost: Buy Now again retries the same order with the same ClientToken.
  if (f.code === "RENEWAL_PENDING" || f.code === "ACCOUNT_UNAVAILABLE") return RENEW_PERIOD.block;
  if (f.code === "INVALID_INPUT" && f.field === "period") return RENEW_PERIOD.block;
  return RENEW_INSTANCE.block;
}

export function renewHandlers(deps: FeatureDeps) {
  const { billing, provider } = deps;
  return {
    /** Renew buttons (status, App Home, warnings): the modal for the button's instance. */
    async openFromButton({ ack, body, action, client, respond, logger }: ActionArgs) {
      await ack();
      const value = action.type === "button" ? instanceId.safeParse(action.value) : undefined;
      try {
        if (!value?.success) throw malformedButton("Renew");
        const view = await buildRenewModal(deps, value.data);
        await openModal(client, body.trigger_id, view, "click Renew again");
      } catch (error) {
        await tellClicker(client, body, respond, userMessage(error, logger), logger);
      }
    },

    /** A changed instance or period: the price summary follows. */
    async refresh({ ack, body, client, logger }: ActionArgs) {
      await ack();
      if (!body.view) return;
      const state = readRenewState(body.view.state.values);
      const view = await buildRenewModal(deps, state.instanceId, state.months ?? 1, {
        strict: false,
      });
      await redrawModal(client, body.view, view, logger);
    },

    /** Buy Now: charges the price the modal showed, or nothing. */
    async submit({ ack, body, view, client, logger }: SubmitArgs) {
      const state = readRenewState(view.state.values);
      const errors: Record<string, string> = {};
      if (!state.instanceId) errors[RENEW_INSTANCE.block] = "Choose an instance.";
      if (state.months === undefined) errors[RENEW_PERIOD.block] = "Choose a subscription period.";
      if (!state.termsAccepted) errors[TERMS.block] = TERMS_REQUIRED;
      const { instanceId: id, months } = state;
      if (Object.keys(errors).length > 0 || !id || months === undefined) {
        await ack({ response_action: "errors", errors });
        return;
      }
      const userId = body.user.id;
      await answerSubmission({ ack, client, logger, viewId: view.id, userId }, async () => {
        try {
          const r = await buyNow(shownUnitCents(view.private_metadata, id, months), {
            check: () => provider.quoteRenewal(billing, id, months),
            charge: (unitCents) =>
              provider.renew(billing, userActor(userId), {
                instanceId: id,
                months,
                idempotencyKey: `renew:${view.id}`,
                expectedUnitCents: unitCents,
              }),
            redraw: (problem) =>
              buildRenewModal(deps, id, months, { strict: false, termsAccepted: true, problem }),
          });
          if ("redraw" in r) return r;
          const { order } = r;
          return {
            done: orderText("Renewed", order),
            after: () => confirmOrder(deps, client, userId, "Renewed", order, logger),
          };
        } catch (error) {
          return { errors: { [fieldFor(error)]: userMessage(error, logger).slice(0, 300) } };
        }
      });
    },
  };
}
