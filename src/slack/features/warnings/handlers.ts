import type { Logger } from "@slack/bolt";
import { userActor } from "../../../billing/context.js";
import { snoozeUntil } from "../../../billing/expiry.js";
import { snoozeReminders, wontRenew } from "../../../billing/instances.js";
import { warningFacts } from "../../../billing/outbox.js";
import { postedWarning } from "../../../billing/posted-warnings.js";
import type { WarningRow } from "../../../billing/types.js";
import { slackDate } from "../../kit/blocks.js";
import type { ActionArgs, FeatureDeps } from "../../kit/deps.js";
import { userMessage } from "../../kit/errors.js";
import { rowId } from "../../kit/ids.js";
import { SNOOZE_CHOICES, type SnoozeChoice, warningMessage } from "./blocks.js";

/** A snooze option's value: `<choice>:<warning id>`. */
const snoozeValue = /^(1d|3d|next):(\d{1,12})$/;

type Respond = ActionArgs["respond"];

/** Snooze and Won't renew on timer warnings: re-checked against the database, then the message shows who did what. */
export function warningHandlers({ billing, config, provider }: FeatureDeps) {
  const tell = (respond: Respond, text: string) =>
    respond({ response_type: "ephemeral", replace_original: false, text }).catch(() => undefined);

  const act = async (
    { respond, client, logger }: { respond: Respond; client: ActionArgs["client"]; logger: Logger },
    id: number,
    apply: (warning: WarningRow) => Promise<string>,
  ) => {
    try {
      const warning = await postedWarning(billing, id);
      if (!warning) {
        await tell(
          respond,
          ":no_entry: This warning is not one kms-bot knows; nothing was changed.",
        );
        return;
      }
      const note = await apply(warning);
      const facts = await warningFacts(billing, warning, provider.balance);
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
      await tell(respond, userMessage(error, logger));
    }
  };

  return {
    async snooze(args: ActionArgs) {
      const { ack, body, action, respond } = args;
      await ack();
      const raw = action.type === "static_select" ? action.selected_option?.value : undefined;
      const parsed = raw === undefined ? null : snoozeValue.exec(raw);
      if (!parsed) {
        await tell(respond, ":no_entry: That snooze choice is malformed; nothing was changed.");
        return;
      }
      const choice = parsed[1] as SnoozeChoice;
      await act(args, Number(parsed[2]), async (w) => {
        const until = snoozeUntil(choice, w.expires_at, billing.clock(), config.KMS_WARN_DAYS);
        const actor = userActor(body.user.id);
        const view = await snoozeReminders(billing, actor, w.instance_id, w.expires_at, until);
        return `:zzz: <@${body.user.id}> snoozed reminders for ${view.instance.id} (${SNOOZE_CHOICES[choice].toLowerCase()}), until ${slackDate(until)}.`;
      });
    },

    async wontRenew(args: ActionArgs) {
      const { ack, body, action, respond } = args;
      await ack();
      const parsed = rowId.safeParse(action.type === "button" ? action.value : undefined);
      if (!parsed.success) {
        await tell(respond, ":no_entry: That button is malformed; nothing was changed.");
        return;
      }
      await act(args, parsed.data, async (w) => {
        const view = await wontRenew(billing, userActor(body.user.id), w.instance_id, w.expires_at);
        return `:no_bell: <@${body.user.id}> won't renew ${view.instance.id} this period: no more reminders, auto-renewal off. The expiry and release notices still come.`;
      });
    },
  };
}
