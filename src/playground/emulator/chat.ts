/** The emulator's `auth.test` and `chat.*` methods, answered the way Slack answers them. */
import { isObject } from "./blockkit-rules.js";
import { fail, type Handler, matches, str } from "./http.js";
import type { JsonObject, StoredMessage } from "./types.js";
import type { Workspace } from "./workspace.js";

function botMessage(ws: Workspace, args: JsonObject, ts: string): JsonObject {
  const { ids } = ws;
  return {
    type: "message",
    user: ids.botUserId,
    bot_id: ids.botId,
    app_id: ids.appId,
    team: ids.teamId,
    text: typeof args.text === "string" ? args.text : "",
    ts,
    ...(Array.isArray(args.blocks) ? { blocks: args.blocks } : {}),
    ...(str(args.thread_ts) ? { thread_ts: args.thread_ts } : {}),
    bot_profile: {
      id: ids.botId,
      app_id: ids.appId,
      name: "kms-bot",
      team_id: ids.teamId,
      deleted: false,
    },
  };
}

function postMessage(ws: Workspace, args: JsonObject): JsonObject {
  const target = str(args.channel);
  const channel = target && /^[UW]/.test(target) ? ws.dmFor(target) : target;
  const error = ws.channelError(channel, "post");
  if (error || !channel) return fail(error ?? "channel_not_found");
  if (!ws.hasContent(args)) return fail("no_text");
  const failure = ws.messageFailure("chat.postMessage", args);
  if (failure) return failure;
  const ts = ws.newTs();
  ws.storedMessages.set(`${channel}/${ts}`, {
    channel,
    ts,
    text: typeof args.text === "string" ? args.text : undefined,
    blocks: Array.isArray(args.blocks) ? args.blocks : undefined,
    threadTs: str(args.thread_ts),
    user: ws.ids.botUserId,
    botId: ws.ids.botId,
    metadata: isObject(args.metadata) ? args.metadata : undefined,
  });
  return { ok: true, channel, ts, message: botMessage(ws, args, ts) };
}

function postEphemeral(ws: Workspace, args: JsonObject): JsonObject {
  const channel = str(args.channel);
  const error = ws.channelError(channel, "post");
  if (error || !channel) return fail(error ?? "channel_not_found");
  const user = str(args.user);
  if (!user || matches(ws.options.missingUsers, user)) return fail("user_not_in_channel");
  if (!ws.hasContent(args)) return fail("no_text");
  const failure = ws.messageFailure("chat.postEphemeral", args);
  if (failure) return failure;
  const blocks = Array.isArray(args.blocks) ? args.blocks : undefined;
  return { ok: true, message_ts: ws.addEphemeral({ channel, user, text: str(args.text), blocks }) };
}

function findMessage(
  ws: Workspace,
  args: JsonObject,
  action: "update" | "delete",
): { message: StoredMessage } | { error: JsonObject } {
  const channel = str(args.channel);
  const ts = str(args.ts);
  const error = ws.channelError(channel, "read");
  if (error) return { error: fail(error) };
  const message = ws.storedMessages.get(`${channel}/${ts}`);
  if (!message) return { error: fail("message_not_found") };
  if (message.botId !== ws.ids.botId) return { error: fail(`cant_${action}_message`) };
  return { message };
}

function updateMessage(ws: Workspace, args: JsonObject): JsonObject {
  const found = findMessage(ws, args, "update");
  if ("error" in found) return found.error;
  const { message } = found;
  if (!ws.hasContent(args)) return fail("no_text");
  const failure = ws.messageFailure("chat.update", args);
  if (failure) return failure;
  if (typeof args.text === "string") message.text = args.text;
  if (Array.isArray(args.blocks)) message.blocks = args.blocks;
  return {
    ok: true,
    channel: message.channel,
    ts: message.ts,
    text: message.text ?? "",
    message: botMessage(ws, { ...args, blocks: message.blocks }, message.ts),
  };
}

function deleteMessage(ws: Workspace, args: JsonObject): JsonObject {
  const found = findMessage(ws, args, "delete");
  if ("error" in found) return found.error;
  const { message } = found;
  ws.storedMessages.delete(`${message.channel}/${message.ts}`);
  return { ok: true, channel: message.channel, ts: message.ts };
}

export function chatMethods(ws: Workspace): Record<string, Handler> {
  return {
    "auth.test": () => ({
      ok: true,
      url: "https://kms-test.slack.com/",
      team: ws.ids.teamName,
      user: "kms-bot",
      team_id: ws.ids.teamId,
      user_id: ws.ids.botUserId,
      bot_id: ws.ids.botId,
      is_enterprise_install: false,
    }),
    "chat.postMessage": (args) => postMessage(ws, args),
    "chat.postEphemeral": (args) => postEphemeral(ws, args),
    "chat.update": (args) => updateMessage(ws, args),
    "chat.delete": (args) => deleteMessage(ws, args),
    "chat.getPermalink": (args) => {
      const channel = str(args.channel);
      const ts = str(args.message_ts);
      if (!channel || !ts) return fail("invalid_arguments");
      const error = ws.channelError(channel, "read");
      if (error) return fail(error);
      return {
        ok: true,
        channel,
        permalink: `https://kms-test.slack.com/archives/${channel}/p${ts.replace(".", "")}`,
      };
    },
  };
}
