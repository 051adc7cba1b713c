import type { AllMiddlewareArgs, App, BlockAction, SlackActionMiddlewareArgs } from "@slack/bolt";
import type { ModalView } from "@slack/types";
import { z } from "zod";
import { BillingError } from "../billing/errors.js";
import { EXPORT_BILLS, OPEN_RENEW } from "../blocks/actions.js";
import { BUY_PERIOD, BUY_SITE } from "../blocks/buy.js";
import { RENEW_INSTANCE, RENEW_PERIOD } from "../blocks/renew.js";
import type { ListenerDeps } from "../listeners.js";
import { slackErrorCode, userMessage } from "../slack/errors.js";
import { readBuyState, readRenewState } from "../slack/state.js";
import { buildBuyModal, buildRenewModal, sendBillsCsv, tellClicker } from "../slack/surfaces.js";
import { registerTicketActions } from "./tickets.js";
import { registerWarningActions } from "./warnings.js";

const instanceIdValue = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/);
const monthValue = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/);

/** A button whose value is not one kms-bot could have made (forged or corrupted). */
function malformed(button: string): BillingError {
  return new BillingError({
    code: "INVALID_INPUT",
    field: "button",
    problem: `this ${button} button is malformed; nothing was done.`,
  });
}

export function register(app: App, deps: ListenerDeps): void {
  const { billing } = deps;
  registerWarningActions(app, deps);
  registerTicketActions(app, deps);
  app.action<BlockAction>(OPEN_RENEW, async ({ ack, body, action, client, respond, logger }) => {
    await ack();
    const value = action.type === "button" ? instanceIdValue.safeParse(action.value) : undefined;
    try {
      if (!value?.success) throw malformed("Renew");
      await client.views.open({
        trigger_id: body.trigger_id,
        view: await buildRenewModal(billing, value.data),
      });
    } catch (error) {
      const code = slackErrorCode(error);
      const text =
        code === "expired_trigger_id"
          ? ":hourglass: Slack took too long to open the form; click Renew again."
          : userMessage(error, logger);
      await tellClicker(client, body, respond, text).catch((e) =>
        logger.warn("kms-bot: could not report", e),
      );
    }
  });

  // Changing a choice in the renew or buy modal refreshes its price summary.
  const refresh =
    (what: string, build: (values: unknown) => Promise<ModalView>) =>
    async ({
      ack,
      body,
      client,
      logger,
    }: SlackActionMiddlewareArgs<BlockAction> & AllMiddlewareArgs) => {
      await ack();
      if (!body.view) return;
      const view = await build(body.view.state.values);
      await client.views
        .update({ view_id: body.view.id, hash: body.view.hash, view })
        .catch((e) => logger.warn(`kms-bot: ${what} modal refresh failed`, slackErrorCode(e) ?? e));
    };
  const refreshRenew = refresh("renew", (values) => {
    const state = readRenewState(values);
    return buildRenewModal(billing, state.instanceId, state.months ?? 1, false);
  });
  const refreshBuy = refresh("buy", (values) => {
    const state = readBuyState(values);
    return buildBuyModal(billing, state.site, state.months ?? 1);
  });
  app.action<BlockAction>(RENEW_INSTANCE.action, refreshRenew);
  app.action<BlockAction>(RENEW_PERIOD.action, refreshRenew);
  app.action<BlockAction>(BUY_SITE.action, refreshBuy);
  app.action<BlockAction>(BUY_PERIOD.action, refreshBuy);

  app.action<BlockAction>(EXPORT_BILLS, async ({ ack, body, action, client, respond, logger }) => {
    await ack();
    const month = action.type === "button" ? monthValue.safeParse(action.value) : undefined;
    let text: string;
    try {
      if (!month?.success) throw malformed("Export CSV");
      const lines = await sendBillsCsv(client, billing, body.user.id, month.data);
      text = `Sent the CSV of ${month.data} (${lines} line(s)) to your direct messages with kms-bot.`;
    } catch (error) {
      text = userMessage(error, logger);
    }
    await tellClicker(client, body, respond, text).catch((e) =>
      logger.warn("kms-bot: could not report", e),
    );
  });
}
