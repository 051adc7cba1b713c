/**
 * What a person does in the playground's page, turned into what Slack would send the bot: slash
 * commands, messages and mentions (events), clicks (block_actions), typing in an external select
 * (block_suggestion), modal submissions. Each request is built by the emulator's builders, signed
 * as Slack signs it and POSTed over HTTP to the bot's /slack/events; what the bot answers
 * synchronously (a command's reply, a submission's response_action) is shown as Slack shows it.
 */
import { randomBytes } from "node:crypto";
import { z } from "zod";
import {
  type AppResponse,
  blockAction,
  blockSuggestion,
  eventCallback,
  type FakeSlack,
  type JsonObject,
  postToApp,
  type SlackRequest,
  slashCommand,
  viewSubmission,
} from "./emulator/index.js";
import { BOT, dmOf, USERS } from "./world.js";

export interface BotLink {
  fake: FakeSlack;
  /** Where the bot listens: `http://127.0.0.1:<port>`. */
  botUrl: string;
  signingSecret: string;
}

/** Where a click happened: a message (in a channel, or an ephemeral one) or a view. */
export type ClickSource =
  | { type: "message"; channel: string; ts: string; ephemeral: boolean }
  | { type: "view"; viewId: string };

export interface Click {
  user: string;
  source: ClickSource;
  /** The action as Slack reports it: action_id, block_id, type and the chosen value. */
  action: JsonObject & { action_id: string; block_id: string; type: string };
  /** The `state.values` of the surface. */
  values: JsonObject;
}

const isJson = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function send(link: BotLink, request: SlackRequest): Promise<AppResponse> {
  return postToApp(link.botUrl, request, { signingSecret: link.signingSecret });
}

/** A Slack event id nobody used before (the bot answers each event id once, across restarts). */
const eventId = (): string =>
  `Ev${Date.now().toString(36).toUpperCase()}${randomBytes(4).toString("hex").toUpperCase()}`;

/** `/kms status` typed in `channel`: the bot's reply is shown as Slack shows it. */
export async function runCommand(link: BotLink, user: string, channel: string, line: string) {
  const { fake } = link;
  const [command = "", ...rest] = line.trim().split(/\s+/);
  if (command !== "/kms") {
    fake.addEphemeral({ channel, user, text: `${command} is not a valid command.` });
    return;
  }
  const response = await send(
    link,
    slashCommand({
      text: rest.join(" "),
      userId: user,
      userName: USERS.find((u) => u.id === user)?.name.toLowerCase(),
      channelId: channel,
      triggerId: fake.newTriggerId({ user }),
      responseUrl: fake.newResponseUrl({ channel, user }),
    }),
  );
  if (response.status !== 200) {
    const text = `/kms failed with the error "dispatch_failed" (HTTP ${response.status}).`;
    fake.addEphemeral({ channel, user, text });
    return;
  }
  const reply = isJson(response.json) ? response.json : { text: response.text };
  const blocks = Array.isArray(reply.blocks) ? reply.blocks : undefined;
  const text = typeof reply.text === "string" && reply.text !== "" ? reply.text : undefined;
  if (!text && !blocks) return;
  if (reply.response_type === "in_channel") fake.addMessage({ channel, text, blocks });
  else fake.addEphemeral({ channel, user, text, blocks });
}

/** A message typed in a channel or the DM: a DM is a `message.im`, `@kms-bot` an `app_mention`. */
export async function sayMessage(link: BotLink, user: string, channel: string, typed: string) {
  const text = typed.replace(/@kms-bot\b/g, `<@${BOT.userId}>`);
  const ts = link.fake.addMessage({ channel, text, user });
  let event: JsonObject | undefined;
  if (channel === dmOf(user)) {
    event = { type: "message", channel_type: "im", channel, user, text, ts };
  } else if (text.includes(`<@${BOT.userId}>`)) {
    event = { type: "app_mention", channel, user, text, ts };
  }
  if (event) await send(link, eventCallback({ event, eventId: eventId() }));
}

/** The person opened the App Home tab. */
export async function openHome(link: BotLink, user: string) {
  const event = { type: "app_home_opened", user, channel: dmOf(user), tab: "home" };
  await send(link, eventCallback({ event, eventId: eventId() }));
}

function messageOf(link: BotLink, source: ClickSource & { type: "message" }, user: string) {
  const { fake } = link;
  const found = source.ephemeral
    ? fake.ephemerals.find((m) => m.ts === source.ts && m.user === user)
    : fake.messages.find((m) => m.ts === source.ts && m.channel === source.channel);
  if (!found) return undefined;
  return {
    type: "message",
    user: BOT.userId,
    bot_id: BOT.botId,
    text: found.text ?? "",
    ts: found.ts,
    blocks: found.blocks ?? [],
  };
}

function viewOf(link: BotLink, viewId: string): JsonObject | undefined {
  return link.fake.views.find((view) => view.id === viewId);
}

/** A click on a button, a choice in a select, a checkbox ticked: Slack's `block_actions`. */
export async function click(link: BotLink, c: Click): Promise<void> {
  const { fake } = link;
  const { action_id: actionId, block_id: blockId, type: actionType, ...chosen } = c.action;
  const common = {
    actionId,
    blockId,
    actionType,
    userId: c.user,
    triggerId: fake.newTriggerId({ user: c.user }),
    stateValues: c.values,
    action: chosen,
    value: typeof chosen.value === "string" ? chosen.value : undefined,
  };
  if (c.source.type === "view") {
    const view = viewOf(link, c.source.viewId);
    if (!view) throw new Error("that view is no longer open.");
    await send(link, blockAction({ ...common, view }));
    return;
  }
  const { channel, ts, ephemeral } = c.source;
  const message = messageOf(link, c.source, c.user);
  if (!message) throw new Error("that message is gone.");
  await send(
    link,
    blockAction({
      ...common,
      channelId: channel,
      message,
      container: { type: "message", message_ts: ts, channel_id: channel, is_ephemeral: ephemeral },
      responseUrl: fake.newResponseUrl({ channel, user: c.user, messageTs: ts, ephemeral }),
    }),
  );
}

/** Options of an external select as the person types (`block_suggestion`). */
export async function suggest(
  link: BotLink,
  input: { user: string; viewId: string; actionId: string; blockId: string; value: string },
): Promise<unknown> {
  const view = viewOf(link, input.viewId);
  const response = await send(link, blockSuggestion({ ...input, userId: input.user, view }));
  return response.json ?? { options: [] };
}

const fieldErrors = z.record(z.string(), z.string());

/** Field errors to show, by block id; undefined when the modal was accepted. */
export type SubmitResult = { errors: Record<string, string> } | undefined;

/** The person pressed the modal's submit button: Slack's `view_submission`. */
export async function submit(
  link: BotLink,
  input: { user: string; viewId: string; values: JsonObject },
): Promise<SubmitResult> {
  const { fake } = link;
  const view = viewOf(link, input.viewId);
  if (!view) throw new Error("that modal is no longer open.");
  const response = await send(
    link,
    viewSubmission({
      view,
      values: input.values,
      userId: input.user,
      triggerId: fake.newTriggerId({ user: input.user }),
    }),
  );
  if (response.status !== 200) {
    return {
      errors: { "": `We had some trouble connecting (HTTP ${response.status}). Try again?` },
    };
  }
  const answer = isJson(response.json) ? response.json : {};
  switch (answer.response_action) {
    case "errors":
      return { errors: fieldErrors.catch({}).parse(answer.errors) };
    case "update":
    case "push":
      fake.applyResponseAction(input.user, answer.response_action, answer.view);
      return undefined;
    case "clear":
      fake.closeModal(input.user, true);
      return undefined;
    default:
      fake.closeModal(input.user);
      return undefined;
  }
}
