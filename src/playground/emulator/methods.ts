/** The emulator's `conversations.*`, `users.info` and `files.*` methods. */

import { isObject } from "./blockkit-rules.js";
import { fail, type Handler, matches, str } from "./http.js";
import { SLACK_TEST_IDS } from "./requests.js";
import type { JsonObject } from "./types.js";
import type { Workspace } from "./workspace.js";

function channelObject(ws: Workspace, id: string): JsonObject {
  return {
    id,
    name: id.toLowerCase(),
    is_channel: id.startsWith("C"),
    is_group: false,
    is_im: id.startsWith("D"),
    is_private: id.startsWith("G"),
    is_archived: ws.options.archivedChannels?.includes(id) ?? false,
    is_member: ws.isMember(id),
    created: 1_700_000_000,
    creator: SLACK_TEST_IDS.userId,
    context_team_id: ws.ids.teamId,
  };
}

function join(ws: Workspace, args: JsonObject): JsonObject {
  const channel = str(args.channel);
  const error = ws.channelError(channel, "join");
  if (error || !channel) return fail(error ?? "channel_not_found");
  const refused = ws.refuseJoin.get(channel);
  if (refused) return fail(refused);
  const wasMember = ws.isMember(channel);
  ws.notMember.delete(channel);
  const answer: JsonObject = { ok: true, channel: channelObject(ws, channel) };
  if (wasMember) {
    answer.warning = "already_in_channel";
    answer.response_metadata = { warnings: ["already_in_channel"] };
  }
  return answer;
}

function openConversation(ws: Workspace, args: JsonObject): JsonObject {
  const channel = str(args.channel);
  if (channel) {
    const error = ws.channelError(channel, "read");
    return error ? fail(error) : { ok: true, channel: { id: channel } };
  }
  const users = (str(args.users) ?? "").split(",").filter((user) => user !== "");
  if (users.length === 0) return fail("users_list_not_supplied");
  if (users.some((user) => matches(ws.options.missingUsers, user))) {
    return fail("user_not_found");
  }
  const first = users[0] ?? "";
  const id = users.length === 1 ? ws.dmFor(first) : `G${users.join("").replace(/\W/g, "")}`;
  return { ok: true, no_op: true, already_open: true, channel: { id } };
}

function userInfo(ws: Workspace, id: string): JsonObject {
  const override = ws.options.users?.[id] ?? {};
  const name = `user-${id.toLowerCase()}`;
  const profile = {
    real_name: `Test ${id}`,
    display_name: name,
    email: `${name}@example.com`,
    team: ws.ids.teamId,
  };
  return {
    id,
    team_id: ws.ids.teamId,
    name,
    deleted: false,
    real_name: profile.real_name,
    tz: "UTC",
    tz_label: "Coordinated Universal Time",
    tz_offset: 0,
    is_admin: false,
    is_owner: false,
    is_primary_owner: false,
    is_restricted: false,
    is_ultra_restricted: false,
    is_bot: id === ws.ids.botUserId,
    is_app_user: false,
    updated: 1_700_000_000,
    ...override,
    profile: { ...profile, ...(isObject(override.profile) ? override.profile : {}) },
  };
}

function completeUpload(ws: Workspace, args: JsonObject): JsonObject {
  const files = args.files;
  if (!Array.isArray(files) || files.length === 0) return fail("invalid_arguments");
  const channelId = str(args.channel_id) ?? str(args.channels);
  if (channelId) {
    const error = ws.channelError(channelId, "post");
    if (error) return fail(error);
  }
  if (args.blocks !== undefined) {
    const failure = ws.messageFailure("files.completeUploadExternal", { blocks: args.blocks });
    if (failure) return failure;
  }
  const entries: Array<{ id: string; title?: string; content: Buffer; filename: string }> = [];
  for (const file of files) {
    const id = isObject(file) ? str(file.id) : undefined;
    const pending = id ? ws.pendingUploads.get(id) : undefined;
    if (!id || !pending?.content) return fail("file_not_found");
    const title = isObject(file) ? str(file.title) : undefined;
    entries.push({ id, title, content: pending.content, filename: pending.filename });
  }
  const now = Math.floor(Date.now() / 1000);
  const answered = entries.map((entry) => {
    ws.pendingUploads.delete(entry.id);
    const title = entry.title ?? entry.filename;
    ws.uploadedFiles.push({
      fileId: entry.id,
      filename: entry.filename,
      title,
      channelId,
      initialComment: str(args.initial_comment),
      threadTs: str(args.thread_ts),
      content: entry.content,
    });
    const extension = entry.filename.includes(".") ? entry.filename.split(".").pop() : "";
    return {
      id: entry.id,
      created: now,
      timestamp: now,
      name: entry.filename,
      title,
      mimetype: "",
      filetype: extension ?? "",
      user: ws.ids.botUserId,
      user_team: ws.ids.teamId,
      editable: false,
      size: entry.content.length,
      mode: "hosted",
      is_external: false,
      is_public: channelId?.startsWith("C") ?? false,
      url_private: `https://files.slack.com/files-pri/${ws.ids.teamId}-${entry.id}/${entry.filename}`,
      permalink: `https://kms-test.slack.com/files/${ws.ids.botUserId}/${entry.id}/${entry.filename}`,
      channels: channelId?.startsWith("C") ? [channelId] : [],
      groups: channelId?.startsWith("G") ? [channelId] : [],
      ims: channelId?.startsWith("D") ? [channelId] : [],
    };
  });
  return { ok: true, files: answered };
}

export function otherMethods(ws: Workspace): Record<string, Handler> {
  return {
    "conversations.join": (args) => join(ws, args),
    "conversations.history": (args) => {
      const channel = str(args.channel);
      const error = ws.channelError(channel, "read");
      if (error || !channel) return fail(error ?? "channel_not_found");
      const oldest = Number(args.oldest ?? 0);
      const withMetadata =
        args.include_all_metadata === true || args.include_all_metadata === "true";
      const messages = [...ws.storedMessages.values()]
        .filter((m) => m.channel === channel && Number(m.ts) >= oldest)
        .sort((a, b) => Number(b.ts) - Number(a.ts))
        .slice(0, Number(args.limit ?? 100))
        .map((m) => ({
          type: "message",
          ts: m.ts,
          text: m.text ?? "",
          user: m.user,
          ...(m.botId ? { bot_id: m.botId } : {}),
          ...(withMetadata && m.metadata ? { metadata: m.metadata } : {}),
        }));
      return { ok: true, messages, has_more: false };
    },
    "conversations.open": (args) => openConversation(ws, args),
    "users.info": (args) => {
      const user = str(args.user);
      if (!user || matches(ws.options.missingUsers, user)) return fail("user_not_found");
      return { ok: true, user: userInfo(ws, user) };
    },
    "files.getUploadURLExternal": (args) => {
      const filename = str(args.filename);
      const length = Number(args.length);
      if (!filename || !Number.isInteger(length) || length < 0) return fail("invalid_arguments");
      const fileId = ws.newId("F");
      ws.pendingUploads.set(fileId, { filename });
      return { ok: true, upload_url: `${ws.origin()}/upload/${fileId}`, file_id: fileId };
    },
    "files.completeUploadExternal": (args) => completeUpload(ws, args),
  };
}
