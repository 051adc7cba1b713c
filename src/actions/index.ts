import type { App, BlockAction } from "@slack/bolt";
import type { WebClient } from "@slack/web-api";
import { z } from "zod";
import { BillingError } from "../billing/errors.js";
import { EXPORT_BILLS, OPEN_RENEW } from "../blocks/actions.js";
import { BUY_PERIOD, BUY_SITE } from "../blocks/buy.js";
import { RENEW_INSTANCE, RENEW_PERIOD } from "../blocks/renew.js";
import type { ListenerDeps } from "../listeners.js";
import { slackErrorCode, userMessage } from "../slack/errors.js";
import { readBuyState, readRenewState } from "../slack/state.js";
import { buildBuyModal, buildRenewModal, dm, sendBillsCsv } from "../slack/surfaces.js";
import { registerTicketActions } from "./tickets.js";
import { registerWarningActions } from "./warnings.js";

const instanceIdValue = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/);
const monthValue = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/);

/** Tells the clicker something: in the channel (ephemeral) when the button was in a message, else by DM. */
async function tell(
  client: WebClient,
  body: BlockAction,
  text: string,
  respond: (m: {
    response_type: "ephemeral";
    replace_original: false;
    text: string;
  }) => Promise<unknown>,
) {
  if (body.response_url)
    await respond({ response_type: "ephemeral", replace_original: false, text });
  else await dm(client, body.user.id, text);
}

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
      await tell(client, body, text, respond).catch((e) =>
        logger.warn("kms-bot: could not report", e),
      );
    }
  });

  // Changing the instance or the period in the renew modal refreshes its price summary.
  const refreshRenew = async ({
    ack,
    body,
    client,
    logger,
  }: {
    ack: () => Promise<void>;
    body: BlockAction;
    client: WebClient;
    logger: { warn(...a: unknown[]): void };
  }) => {
    await ack();
    if (!body.view) return;
    const state = readRenewState(body.view.state.values);
    const view = await buildRenewModal(billing, state.instanceId, state.months ?? 1, false);
    await client.views
      .update({ view_id: body.view.id, hash: body.view.hash, view })
      .catch((e) => logger.warn("kms-bot: renew modal refresh failed", slackErrorCode(e) ?? e));
  };
  app.action<BlockAction>(RENEW_INSTANCE.action, refreshRenew);
  app.action<BlockAction>(RENEW_PERIOD.action, refreshRenew);

  const refreshBuy = async ({
    ack,
    body,
    client,
    logger,
  }: {
    ack: () => Promise<void>;
    body: BlockAction;
    client: WebClient;
    logger: { warn(...a: unknown[]): void };
  }) => {
    await ack();
    if (!body.view) return;
    const state = readBuyState(body.view.state.values);
    const view = await buildBuyModal(billing, state.site, state.months ?? 1);
    await client.views
      .update({ view_id: body.view.id, hash: body.view.hash, view })
      .catch((e) => logger.warn("kms-bot: buy modal refresh failed", slackErrorCode(e) ?? e));
  };
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
    await tell(client, body, text, respond).catch((e) =>
      logger.warn("kms-bot: could not report", e),
    );
  });
}
