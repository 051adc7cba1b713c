import { z } from "zod";
import type { Interactions } from "../../interactions.js";
import type { FeatureDeps } from "../../kit/deps.js";
import { FAQ_VIEW } from "./blocks.js";
import { faqHandlers } from "./handlers.js";

/** Bot events this app subscribes to (manifest.yml lists the same). */
export const BOT_EVENTS = ["app_home_opened", "app_mention", "message.im"] as const;

const question = z.object({
  eventId: z.string().min(1).max(100),
  text: z.string().max(4000),
});

export function register(app: Interactions, deps: FeatureDeps): void {
  const h = faqHandlers(deps);
  app.view(FAQ_VIEW, h.submit);

  const ask = (body: unknown, text: unknown) =>
    question.safeParse({ eventId: (body as { event_id?: unknown }).event_id, text });

  app.event("app_mention", async ({ event, body, client, logger }) => {
    const q = ask(body, event.text);
    if (!q.success) return;
    await h.answerOnce(
      q.data.eventId,
      q.data.text,
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
    const q = ask(body, "text" in event ? event.text : undefined);
    if (!q.success) return;
    await h.answerOnce(
      q.data.eventId,
      q.data.text,
      (reply) => client.chat.postMessage({ channel: event.channel, text: reply }),
      logger,
    );
  });
}
