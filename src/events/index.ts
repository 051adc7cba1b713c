import type { App } from "@slack/bolt";
import { z } from "zod";
import { faqReply } from "../blocks/faq.js";
import { askFaq } from "../faq/faq.js";
import type { ListenerDeps } from "../listeners.js";
import { publishHome } from "../slack/surfaces.js";
import { markEventProcessed } from "../store/faq.js";

/** Bot events this app subscribes to (manifest.yml lists the same). */
export const BOT_EVENTS = ["app_home_opened", "app_mention", "message.im"] as const;

const envelope = z.object({ event_id: z.string().min(1).max(100) });
const question = z.string().max(4000);

/** The question in a mention: the text without the bot's own mention. */
export function stripMentions(text: string): string {
  return text.replace(/<@[UW][A-Z0-9]+(\|[^>]*)?>/g, " ").trim();
}

export function register(app: App, { billing }: ListenerDeps): void {
  app.event("app_home_opened", async ({ event, client, logger }) => {
    if (event.tab !== "home") return;
    try {
      await publishHome(client, billing, event.user);
    } catch (error) {
      logger.warn("kms-bot: could not publish App Home", error);
    }
  });

  /**
   * Answers a question once per event: Slack retries an event it thinks went unanswered
   * (X-Slack-Retry-Num), and the same event_id is recorded before answering.
   */
  const answerOnce = async (
    body: unknown,
    text: unknown,
    post: (reply: string) => Promise<unknown>,
    logger: { warn(...a: unknown[]): void },
  ) => {
    const env = envelope.safeParse(body);
    const q = question.safeParse(text);
    if (!env.success || !q.success) return;
    if (!(await markEventProcessed({ tx: billing.db }, env.data.event_id, billing.clock()))) return;
    const asked = stripMentions(q.data);
    let reply: string;
    try {
      reply = asked
        ? faqReply(await askFaq(billing, asked))
        : "Ask me a billing question, e.g. _is there a free trial?_ (`/kms faq` lists what I can answer).";
    } catch (error) {
      // Recorded as answered already: say so rather than stay silent.
      logger.warn("kms-bot: could not answer a question", error);
      reply = ":boom: I couldn't look that up just now; please ask again in a moment.";
    }
    await post(reply).catch((e) => logger.warn("kms-bot: could not answer", e));
  };

  app.event("app_mention", async ({ event, body, client, logger }) => {
    await answerOnce(
      body,
      event.text,
      (reply) =>
        client.chat.postMessage({
          channel: event.channel,
          thread_ts: event.thread_ts ?? event.ts,
          text: reply,
        }),
      logger,
    );
  });

  app.event("message", async ({ event, body, client, logger }) => {
    // Only people's own new messages in the bot's DMs: not edits, not bots (ourselves included).
    if (event.channel_type !== "im" || event.subtype !== undefined || "bot_id" in event) return;
    await answerOnce(
      body,
      "text" in event ? event.text : undefined,
      (reply) => client.chat.postMessage({ channel: event.channel, text: reply }),
      logger,
    );
  });
}
