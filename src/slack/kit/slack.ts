import type { Logger } from "@slack/bolt";
import type { KnownBlock, ModalView } from "@slack/types";
import type { WebClient } from "@slack/web-api";
import { SlackRefusal, slackErrorCode } from "./errors.js";

// Calls to Slack that several features make, each with its failure handled once.

/**
 * Opens a modal. A trigger that expired (Slack gives 3 s) or is not valid becomes a
 * refusal telling the person to `again` (e.g. "run the command again").
 */
export async function openModal(
  client: WebClient,
  triggerId: string,
  view: ModalView,
  again: string,
): Promise<void> {
  try {
    await client.views.open({ trigger_id: triggerId, view });
  } catch (error) {
    const code = slackErrorCode(error);
    if (code === "expired_trigger_id" || code === "invalid_trigger_id") {
      throw new SlackRefusal(`:hourglass: Slack took too long to open the form; ${again}.`);
    }
    throw error;
  }
}

/** Redraws an open modal (a refresh after a choice changed); a failure is logged, not thrown. */
export async function redrawModal(
  client: WebClient,
  open: { id: string; hash?: string },
  view: ModalView,
  logger: Logger,
): Promise<boolean> {
  try {
    await client.views.update({
      view_id: open.id,
      ...(open.hash ? { hash: open.hash } : {}),
      view,
    });
    return true;
  } catch (error) {
    logger.warn(
      `kms-bot: ${view.callback_id ?? "modal"} refresh failed`,
      slackErrorCode(error) ?? error,
    );
    return false;
  }
}

/** Sends a person a direct message from the bot. */
export async function dm(client: WebClient, userId: string, text: string): Promise<void> {
  await client.chat.postMessage({ channel: userId, text });
}

/** The same, for notices that must not fail the request: a failure is logged. */
export async function tellByDm(
  client: WebClient,
  userId: string,
  text: string,
  logger: Logger,
): Promise<void> {
  await dm(client, userId, text).catch((e) => logger.warn("kms-bot: DM failed", e));
}

/** Posts to a channel, joining it first if the bot is not a member; returns where it went. */
export async function postInChannel(
  client: WebClient,
  channel: string,
  message: { text: string; blocks: KnownBlock[] },
): Promise<{ channel: string; ts: string }> {
  const post = () =>
    client.chat.postMessage({ channel, text: message.text, blocks: message.blocks });
  let r: Awaited<ReturnType<typeof post>>;
  try {
    r = await post();
  } catch (error) {
    if (slackErrorCode(error) !== "not_in_channel") throw error;
    await client.conversations.join({ channel });
    r = await post();
  }
  return { channel: r.channel ?? channel, ts: r.ts ?? "" };
}

type Respond = (m: {
  response_type: "ephemeral";
  replace_original: false;
  text: string;
}) => Promise<unknown>;

/**
 * Tells the person who clicked: ephemeral where the button was in a message, else by DM
 * (App Home, a modal). Never throws: a failure to tell is logged.
 */
export async function tellClicker(
  client: WebClient,
  body: { response_url?: string; user: { id: string } },
  respond: Respond,
  text: string,
  logger: Logger,
): Promise<void> {
  const telling = body.response_url
    ? respond({ response_type: "ephemeral", replace_original: false, text })
    : dm(client, body.user.id, text);
  await Promise.resolve(telling).catch((e) => logger.warn("kms-bot: could not report", e));
}
