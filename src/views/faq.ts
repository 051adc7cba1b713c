import type { App } from "@slack/bolt";
import { z } from "zod";
import { userActor } from "../billing/context.js";
import { isBillingError } from "../billing/errors.js";
import { clip, escapeText } from "../blocks/common.js";
import { FAQ_FIELDS, FAQ_VIEW } from "../blocks/faq.js";
import { addFaq, editFaq } from "../faq/faq.js";
import type { ListenerDeps } from "../listeners.js";
import { userMessage } from "../slack/errors.js";
import { readFaqState } from "../slack/state.js";
import { dm } from "../slack/surfaces.js";

const metadata = z.union([
  z.literal("new"),
  z
    .string()
    .regex(/^\d{1,9}$/)
    .transform(Number),
]);

export function registerFaqViews(app: App, { billing }: ListenerDeps): void {
  app.view(FAQ_VIEW, async ({ ack, body, view, client, logger }) => {
    const target = metadata.safeParse(view.private_metadata);
    const input = readFaqState(view.state.values);
    if (!target.success) {
      await ack({
        response_action: "errors",
        errors: {
          [FAQ_FIELDS.question.block]: "This form is not one kms-bot made; nothing was saved.",
        },
      });
      return;
    }
    try {
      const actor = userActor(body.user.id);
      if (target.data === "new") await addFaq(billing, actor, input);
      else await editFaq(billing, actor, target.data, input);
    } catch (error) {
      const field =
        isBillingError(error, "INVALID_INPUT") && error.failure.code === "INVALID_INPUT"
          ? error.failure.field
          : "question";
      const block =
        FAQ_FIELDS[field as keyof typeof FAQ_FIELDS]?.block ?? FAQ_FIELDS.question.block;
      await ack({
        response_action: "errors",
        errors: { [block]: userMessage(error, logger).slice(0, 300) },
      });
      return;
    }
    await ack();
    await dm(
      client,
      body.user.id,
      `Saved the FAQ entry "${escapeText(clip(input.question.trim(), 200))}"; it answers from now on.`,
    ).catch(() => undefined);
  });
}
