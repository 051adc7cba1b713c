import type { App, BlockAction, Logger } from "@slack/bolt";
import { z } from "zod";
import { userActor } from "../billing/context.js";
import { snoozeUntil } from "../billing/expiry.js";
import { snoozeReminders, wontRenew } from "../billing/instances.js";
import { warningFacts } from "../billing/outbox.js";
import { slackDate } from "../blocks/common.js";
import {
  SNOOZE,
  SNOOZE_CHOICES,
  type SnoozeChoice,
  WONT_RENEW,
  warningMessage,
} from "../blocks/warnings.js";
import type { ListenerDeps } from "../listeners.js";
import { userMessage } from "../slack/errors.js";
import type { WarningRow } from "../store/rows.js";
import { getWarning } from "../store/warnings.js";

const snoozeValue = z.string().regex(/^(1d|3d|next):(\d{1,12})$/);
const warningId = z
  .string()
  .regex(/^\d{1,12}$/)
  .transform(Number);

/** Snooze and Won't renew on timer warnings: re-checked against the database, then the message shows who did what. */
export function registerWarningActions(app: App, { billing, config }: ListenerDeps): void {
  const act = async (
    respond: (m: {
      response_type: "ephemeral";
      replace_original: false;
      text: string;
    }) => Promise<unknown>,
    client: App["client"],
    logger: Logger,
    id: number,
    apply: (warning: WarningRow) => Promise<string>,
  ) => {
    const refuse = (text: string) =>
      respond({ response_type: "ephemeral", replace_original: false, text }).catch(() => undefined);
    try {
      const warning = await getWarning({ tx: billing.db }, id);
      if (!warning?.message_ts || !warning.posted_channel) {
        await refuse(":no_entry: This warning is not one kms-bot knows; nothing was changed.");
        return;
      }
      const note = await apply(warning);
      const facts = await warningFacts(billing, warning);
      if (!facts) return;
      const message = warningMessage({ ...facts, actedOn: note });
      await client.chat
        .update({
          channel: warning.posted_channel,
          ts: warning.message_ts,
          text: message.text,
          blocks: message.blocks,
        })
        .catch((e) => logger.warn("kms-bot: could not update the warning message", e));
    } catch (error) {
      await refuse(userMessage(error, logger));
    }
  };

  app.action<BlockAction>(SNOOZE, async ({ ack, body, action, respond, client, logger }) => {
    await ack();
    const raw = action.type === "static_select" ? action.selected_option?.value : undefined;
    const parsed = snoozeValue.safeParse(raw);
    if (!parsed.success) {
      await respond({
        response_type: "ephemeral",
        replace_original: false,
        text: ":no_entry: That snooze choice is malformed; nothing was changed.",
      });
      return;
    }
    const [choice, id] = parsed.data.split(":") as [SnoozeChoice, string];
    await act(respond, client, logger, Number(id), async (w) => {
      const until = snoozeUntil(choice, w.expires_at, billing.clock(), config.KMS_WARN_DAYS);
      const view = await snoozeReminders(
        billing,
        userActor(body.user.id),
        w.instance_id,
        w.expires_at,
        until,
      );
      return `:zzz: <@${body.user.id}> snoozed reminders for ${view.instance.id} (${SNOOZE_CHOICES[choice].toLowerCase()}), until ${slackDate(until)}.`;
    });
  });

  app.action<BlockAction>(WONT_RENEW, async ({ ack, body, action, respond, client, logger }) => {
    await ack();
    const parsed = warningId.safeParse(action.type === "button" ? action.value : undefined);
    if (!parsed.success) {
      await respond({
        response_type: "ephemeral",
        replace_original: false,
        text: ":no_entry: That button is malformed; nothing was changed.",
      });
      return;
    }
    await act(respond, client, logger, parsed.data, async (w) => {
      const view = await wontRenew(billing, userActor(body.user.id), w.instance_id, w.expires_at);
      return `:no_bell: <@${body.user.id}> won't renew ${view.instance.id} this period: no more reminders, auto-renewal off. The expiry and release notices still come.`;
    });
  });
}
