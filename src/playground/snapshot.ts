/**
 * What one person sees of the workspace right now, as JSON for the page: the channels (the alert
 * and support channels, each instance's channel, their DM with the bot), the messages visible to
 * them (ephemeral ones included), files the bot uploaded, their open modals and their App Home.
 */

import type { BillingContext } from "../billing/context.js";
import { fleet } from "../billing/instances.js";
import type { PlaygroundClock } from "./clock.js";
import type { FakeSlack, JsonObject, UploadedFile } from "./emulator/index.js";
import { ALERT_CHANNEL, BOT, CHANNELS, dmOf, SUPPORT_CHANNEL, USERS } from "./world.js";

export interface ShownMessage {
  channel: string;
  ts: string;
  user: string;
  text?: string;
  blocks?: unknown[];
  threadTs?: string;
  ephemeral?: boolean;
  file?: { id: string; name: string; title: string; size: number };
}

export interface SnapshotSources {
  fake: FakeSlack;
  billing: BillingContext;
  clock: PlaygroundClock;
  /** When each uploaded file was first seen (files carry no ts of their own). */
  fileTimes: Map<string, string>;
  lastSweep?: string;
}

function fileMessage(file: UploadedFile, ts: string): ShownMessage | undefined {
  if (!file.channelId) return undefined;
  const { fileId: id, filename: name, title } = file;
  return {
    channel: file.channelId,
    ts,
    user: BOT.userId,
    text: file.initialComment,
    threadTs: file.threadTs,
    file: { id, name, title, size: file.content.length },
  };
}

async function channelsFor(sources: SnapshotSources, user: string, messages: ShownMessage[]) {
  const ids = new Set([ALERT_CHANNEL, SUPPORT_CHANNEL]);
  for (const view of await fleet(sources.billing)) {
    if (view.instance.channel) ids.add(view.instance.channel);
  }
  for (const m of messages) if (!m.channel.startsWith("D")) ids.add(m.channel);
  const channels = [...ids]
    .map((id) => ({ id, name: CHANNELS[id] ?? id.toLowerCase(), kind: "channel" }))
    .sort((a, b) => a.name.localeCompare(b.name));
  return [...channels, { id: dmOf(user), name: BOT.name, kind: "dm" }];
}

/** Everything the page shows `user`. */
export async function snapshot(sources: SnapshotSources, user: string): Promise<JsonObject> {
  const { fake } = sources;
  const visible = (channel: string) => !channel.startsWith("D") || channel === dmOf(user);
  const messages: ShownMessage[] = [
    ...fake.messages.filter((m) => visible(m.channel)),
    ...fake.ephemerals
      .filter((m) => m.user === user)
      .map((m) => ({ ...m, user: BOT.userId, ephemeral: true })),
    ...fake.uploadedFiles.flatMap((file) => {
      const shown = fileMessage(file, sources.fileTimes.get(file.fileId) ?? "0");
      return shown && visible(shown.channel) ? [shown] : [];
    }),
  ]
    .map(({ channel, ts, user: from, text, blocks, threadTs, ephemeral, file }: ShownMessage) => ({
      channel,
      ts,
      user: from,
      text,
      blocks,
      threadTs,
      ephemeral,
      file,
    }))
    .sort((a, b) => Number(a.ts) - Number(b.ts));
  return {
    me: user,
    users: USERS,
    bot: BOT,
    now: sources.clock(),
    offsetMs: sources.clock.offsetMs,
    lastSweep: sources.lastSweep ?? null,
    channels: await channelsFor(sources, user, messages),
    messages,
    modals: fake.modalStack(user),
    home: fake.homeView(user) ?? null,
    problems: [...fake.violations],
  };
}
