import type { ModalView } from "@slack/types";
import { isAdmin } from "../../../billing/admins.js";
import { userActor } from "../../../billing/context.js";
import { isBillingError } from "../../../billing/errors.js";
import {
  addFaq,
  askFaq,
  editFaq,
  faqEntries,
  faqEntry,
  firstDelivery,
  removeFaq,
} from "../../../faq/faq.js";
import { clip, escapeText } from "../../kit/blocks.js";
import { type Invocation, type Reply, text } from "../../kit/command.js";
import type { FeatureDeps, SubmitArgs } from "../../kit/deps.js";
import { userMessage } from "../../kit/errors.js";
import { stripMentions } from "../../kit/ids.js";
import { tellByDm } from "../../kit/slack.js";
import { answerSubmission } from "../../kit/submit.js";
import { FAQ_FIELDS, faqListText, faqModal, faqReply, faqTarget, readFaqState } from "./blocks.js";

/** `/kms faq [question]`: the best answer, or the list. */
export async function answerFaq(
  { billing, provider, actor }: Invocation,
  { question }: { question?: string },
): Promise<Reply> {
  if (!question) {
    const admin = await isAdmin(billing, billing.db, actor);
    return text(faqListText(await faqEntries(billing), admin));
  }
  return text(faqReply(await askFaq(billing, question, provider.balance)));
}

/** `/kms faq add` / `/kms faq edit <id>` (admins): the entry modal. */
export async function faqForm(
  { billing }: Invocation,
  { id }: { id?: number },
): Promise<ModalView> {
  return faqModal(id === undefined ? undefined : await faqEntry(billing, id));
}

/** `/kms faq remove <id>` (admins). */
export async function deleteFaq(
  { billing, actor }: Invocation,
  { id }: { id: number },
): Promise<Reply> {
  const row = await removeFaq(billing, actor, id);
  return text(`Removed FAQ entry ${row.id}: ${escapeText(row.question)}`);
}

/** Which field an FAQ refusal belongs on. */
function blockFor(error: unknown): string {
  const field =
    isBillingError(error) && error.failure.code === "INVALID_INPUT"
      ? error.failure.field
      : "question";
  return FAQ_FIELDS[field as keyof typeof FAQ_FIELDS]?.block ?? FAQ_FIELDS.question.block;
}

export function faqHandlers({ billing, provider }: FeatureDeps) {
  return {
    async submit({ ack, body, view, client, logger }: SubmitArgs) {
      const target = faqTarget(view.private_metadata);
      const input = readFaqState(view.state.values);
      if (target === undefined) {
        await ack({
          response_action: "errors",
          errors: {
            [FAQ_FIELDS.question.block]: "This form is not one kms-bot made; nothing was saved.",
          },
        });
        return;
      }
      const userId = body.user.id;
      await answerSubmission({ ack, client, logger, viewId: view.id, userId }, async () => {
        try {
          const actor = userActor(userId);
          if (target === "new") await addFaq(billing, actor, input);
          else await editFaq(billing, actor, target, input);
        } catch (error) {
          return { errors: { [blockFor(error)]: userMessage(error, logger).slice(0, 300) } };
        }
        const saved = `Saved the FAQ entry "${escapeText(clip(input.question.trim(), 200))}"; it answers from now on.`;
        return { done: saved, after: () => tellByDm(client, userId, saved, logger) };
      });
    },

    /**
     * Answers a question (a mention, a DM) once per event: Slack retries an event it thinks
     * went unanswered (X-Slack-Retry-Num), and the event id is recorded before answering.
     */
    async answerOnce(
      eventId: string,
      question: string,
      post: (reply: string) => Promise<unknown>,
      logger: { warn(...a: unknown[]): void },
    ): Promise<void> {
      if (!(await firstDelivery(billing, eventId))) return;
      const asked = stripMentions(question);
      let reply: string;
      try {
        reply = asked
          ? faqReply(await askFaq(billing, asked, provider.balance))
          : "Ask me a billing question, e.g. _is there a free trial?_ (`/kms faq` lists what I can answer).";
      } catch (error) {
        // Recorded as answered already: say so rather than stay silent.
        logger.warn("kms-bot: could not answer a question", error);
        reply = ":boom: I couldn't look that up just now; please ask again in a moment.";
      }
      await post(reply).catch((e) => logger.warn("kms-bot: could not answer", e));
    },
  };
}
