import type { App } from "@slack/bolt";
import type { WebClient } from "@slack/web-api";
import { orderLabel } from "../billing/bills.js";
import { type BillingContext, userActor } from "../billing/context.js";
import { isBillingError } from "../billing/errors.js";
import { formatUsd } from "../billing/money.js";
import type { OrderResult } from "../billing/orders.js";
import { purchase, renew } from "../billing/orders.js";
import { periodLabel } from "../billing/periods.js";
import { BUY_CHANNEL, BUY_NAME, BUY_OWNER, BUY_PERIOD, BUY_SITE, BUY_VIEW } from "../blocks/buy.js";
import { escapeText, slackDate } from "../blocks/common.js";
import { RENEW_INSTANCE, RENEW_PERIOD, RENEW_VIEW, TERMS } from "../blocks/renew.js";
import type { ListenerDeps } from "../listeners.js";
import { userMessage } from "../slack/errors.js";
import { quotedUnitCents, readBuyState, readRenewState } from "../slack/state.js";
import { dm, publishHome } from "../slack/surfaces.js";
import { registerFaqViews } from "./faq.js";
import { registerTicketViews } from "./tickets.js";

type FieldErrors = Record<string, string>;

const STALE_PRICE =
  "The price shown is for another choice; wait for it to update, then submit again.";

const TERMS_REQUIRED = "Please read and accept the Dedicated KMS Terms of Service.";

/** Which field of a modal a billing refusal belongs on. */
function fieldFor(
  error: unknown,
  fields: { instance?: string; period: string; other: string },
): string {
  if (!isBillingError(error)) return fields.other;
  const f = error.failure;
  switch (f.code) {
    case "INSUFFICIENT_BALANCE":
    case "PRICE_CHANGED":
      return fields.period;
    case "INVALID_INPUT":
      return f.field === "period" ? fields.period : fields.other;
    case "INSTANCE_RELEASED":
    case "NOT_FOUND":
      return fields.instance ?? fields.other;
    default:
      return fields.other;
  }
}

/** Confirms a paid order to its buyer and refreshes their App Home, after the modal closed. */
async function confirm(
  client: WebClient,
  billing: BillingContext,
  userId: string,
  what: string,
  r: OrderResult,
  logger: { warn(...a: unknown[]): void },
) {
  if (r.replayed) return;
  const message = `:white_check_mark: ${what} ${r.instance.id} (${escapeText(r.instance.name)}) for ${periodLabel(r.order.months)}. Order ${orderLabel(r.order.id)}, ${formatUsd(r.order.amount_cents)}. Expires ${slackDate(r.instance.expires_at)}. Balance: ${formatUsd(r.balanceAfterCents)}.`;
  await dm(client, userId, message).catch((e) => logger.warn("kms-bot: confirmation DM failed", e));
  await publishHome(client, billing, userId).catch((e) =>
    logger.warn("kms-bot: App Home refresh failed", e),
  );
}

export function register(app: App, deps: ListenerDeps): void {
  const { billing } = deps;
  registerTicketViews(app, deps);
  registerFaqViews(app, deps);
  app.view(RENEW_VIEW, async ({ ack, body, view, client, logger }) => {
    const state = readRenewState(view.state.values);
    const errors: FieldErrors = {};
    if (!state.instanceId) errors[RENEW_INSTANCE.block] = "Choose an instance.";
    if (state.months === undefined) errors[RENEW_PERIOD.block] = "Choose a subscription period.";
    if (!state.termsAccepted) errors[TERMS.block] = TERMS_REQUIRED;
    if (Object.keys(errors).length > 0 || !state.instanceId || state.months === undefined) {
      await ack({ response_action: "errors", errors });
      return;
    }
    const shown = quotedUnitCents(view.private_metadata, state.instanceId, state.months);
    if (shown === null) {
      await ack({ response_action: "errors", errors: { [RENEW_PERIOD.block]: STALE_PRICE } });
      return;
    }
    let result: OrderResult;
    try {
      result = await renew(billing, userActor(body.user.id), {
        instanceId: state.instanceId,
        months: state.months,
        idempotencyKey: `renew:${view.id}`,
        expectedUnitCents: shown,
      });
    } catch (error) {
      const block = fieldFor(error, {
        instance: RENEW_INSTANCE.block,
        period: RENEW_PERIOD.block,
        other: RENEW_INSTANCE.block,
      });
      await ack({
        response_action: "errors",
        errors: { [block]: userMessage(error, logger).slice(0, 300) },
      });
      return;
    }
    await ack();
    await confirm(client, billing, body.user.id, "Renewed", result, logger);
  });

  app.view(BUY_VIEW, async ({ ack, body, view, client, logger }) => {
    const state = readBuyState(view.state.values);
    const errors: FieldErrors = {};
    if (!state.name?.trim()) errors[BUY_NAME.block] = "Give the instance a name.";
    if (!state.site) errors[BUY_SITE.block] = "Choose a site.";
    if (state.months === undefined) errors[BUY_PERIOD.block] = "Choose a subscription period.";
    if (!state.termsAccepted) errors[TERMS.block] = TERMS_REQUIRED;
    if (state.invalid.includes(BUY_CHANNEL.block))
      errors[BUY_CHANNEL.block] = "Invalid channel: pick a channel from the list.";
    if (state.invalid.includes(BUY_OWNER.block))
      errors[BUY_OWNER.block] = "Invalid owner: pick a person from the list.";
    if (Object.keys(errors).length > 0 || !state.site || state.months === undefined) {
      await ack({ response_action: "errors", errors });
      return;
    }
    const shown = quotedUnitCents(view.private_metadata, state.site, state.months);
    if (shown === null) {
      await ack({ response_action: "errors", errors: { [BUY_PERIOD.block]: STALE_PRICE } });
      return;
    }
    let result: OrderResult;
    try {
      result = await purchase(billing, userActor(body.user.id), {
        name: state.name ?? "",
        site: state.site,
        months: state.months,
        channel: state.channel ?? null,
        owner: state.owner ?? null,
        idempotencyKey: `buy:${view.id}`,
        expectedUnitCents: shown,
      });
    } catch (error) {
      let block: string = BUY_NAME.block;
      if (isBillingError(error, "INSUFFICIENT_BALANCE") || isBillingError(error, "PRICE_CHANGED")) {
        block = BUY_PERIOD.block;
      }
      if (isBillingError(error, "INVALID_INPUT")) {
        const f = error.failure.code === "INVALID_INPUT" ? error.failure.field : "";
        block =
          f === "channel"
            ? BUY_CHANNEL.block
            : f === "owner"
              ? BUY_OWNER.block
              : f === "months"
                ? BUY_PERIOD.block
                : BUY_NAME.block;
      }
      await ack({
        response_action: "errors",
        errors: { [block]: userMessage(error, logger).slice(0, 300) },
      });
      return;
    }
    await ack();
    await confirm(client, billing, body.user.id, "Bought", result, logger);
  });
}
