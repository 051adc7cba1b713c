/**
 * The workspace the emulator keeps: messages, ephemeral messages, views and modal stacks, trigger
 * ids, response URLs, pending uploads and channel membership, with the checks Slack makes before
 * it accepts a message or a view. The Web API methods (chat.ts, methods.ts) read and change it.
 */
import { randomBytes } from "node:crypto";
import { type BlockKitIssue, checkMessage, checkView, jsonPointer } from "./blockkit.js";
import { isObject } from "./blockkit-rules.js";
import { type Answer, fail, matches, str } from "./http.js";
import type {
  FakeSlackOptions,
  JsonObject,
  ResponseUrlContext,
  StoredEphemeral,
  StoredMessage,
  UploadedFile,
} from "./types.js";

/** Who the emulated bot and workspace are. */
export interface WorkspaceIds {
  botToken: string;
  botUserId: string;
  botId: string;
  teamId: string;
  teamName: string;
  appId: string;
}

interface Trigger {
  issuedAt: number;
  used: boolean;
  user?: string;
}

interface ResponseUrlState {
  issuedAt: number;
  uses: number;
  context?: ResponseUrlContext;
}

export class Workspace {
  readonly uploadedFiles: UploadedFile[] = [];
  readonly refuseJoin: Map<string, string>;
  notMember = new Set<string>();
  storedMessages = new Map<string, StoredMessage>();
  ephemerals: StoredEphemeral[] = [];
  storedViews = new Map<string, JsonObject>();
  homeViews = new Map<string, string>();
  /** Per person, the ids of their open modals, bottom first. */
  stacks = new Map<string, string[]>();
  triggers = new Map<string, Trigger>();
  responseUrls = new Map<string, ResponseUrlState>();
  pendingUploads = new Map<string, { filename: string; content?: Buffer }>();
  private seq = 0;

  constructor(
    readonly options: FakeSlackOptions,
    readonly ids: WorkspaceIds,
    private readonly violations: string[],
    readonly origin: () => string,
  ) {
    const refuse = options.channelsThatRefuseJoin ?? [];
    this.refuseJoin = Array.isArray(refuse)
      ? new Map(refuse.map((id) => [id, "method_not_supported_for_channel_type"]))
      : new Map(Object.entries(refuse));
    this.reset();
  }

  reset(): void {
    this.uploadedFiles.length = 0;
    this.notMember = new Set([
      ...(this.options.channelsBotIsNotIn ?? []),
      ...this.refuseJoin.keys(),
    ]);
    this.storedMessages = new Map();
    this.ephemerals = [];
    this.storedViews = new Map();
    this.homeViews = new Map();
    this.stacks = new Map();
    this.triggers = new Map();
    this.responseUrls = new Map();
    this.pendingUploads = new Map();
  }

  // --- ids -----------------------------------------------------------------------------------

  nextSeq(): number {
    this.seq += 1;
    return this.seq;
  }

  newId(prefix: string): string {
    return `${prefix}0${String(this.nextSeq()).padStart(9, "0")}`;
  }

  /** "1712345678.000042": seconds, then a sequence number, so ts values are unique and ordered. */
  newTs(): string {
    return `${Math.floor(Date.now() / 1000)}.${String(this.nextSeq() % 1_000_000).padStart(6, "0")}`;
  }

  isMember(channel: string): boolean {
    return !this.notMember.has(channel);
  }

  dmFor(user: string): string {
    return `D${user.slice(1)}`;
  }

  newTriggerId(options: { ageMs?: number; user?: string } = {}): string {
    const id = `${this.nextSeq()}.${Date.now()}.${randomBytes(8).toString("hex")}`;
    const issuedAt = Date.now() - (options.ageMs ?? 0);
    this.triggers.set(id, { issuedAt, used: false, user: options.user });
    return id;
  }

  newResponseUrl(context?: ResponseUrlContext): string {
    const id = `${this.ids.teamId}/${this.nextSeq()}/${randomBytes(12).toString("hex")}`;
    this.responseUrls.set(id, { issuedAt: Date.now(), uses: 0, context });
    return `${this.origin()}/response/${id}`;
  }

  // --- checks --------------------------------------------------------------------------------

  addViolations(method: string, issues: BlockKitIssue[]): void {
    for (const issue of issues) this.violations.push(`${method}: ${issue.path}: ${issue.message}`);
  }

  messageFailure(method: string, args: JsonObject): JsonObject | undefined {
    const issues = checkMessage(args);
    if (issues.length === 0) return undefined;
    this.addViolations(method, issues);
    const onlyText = issues.every((issue) => issue.path === "text");
    return fail(onlyText ? "msg_too_long" : "invalid_blocks", {
      errors: issues.map((issue) => `${issue.message} [json-pointer:${jsonPointer(issue.path)}]`),
      response_metadata: {
        messages: issues.map(
          (issue) => `[ERROR] ${issue.message} [json-pointer:${jsonPointer(issue.path)}]`,
        ),
      },
    });
  }

  viewFailure(method: string, view: unknown, type?: "modal" | "home") {
    const issues = checkView(view);
    if (type && isObject(view) && view.type !== type) {
      issues.push({ path: "view.type", message: `must be "${type}" for ${method}` });
    }
    if (issues.length === 0) return undefined;
    this.addViolations(method, issues);
    return fail("invalid_arguments", {
      response_metadata: {
        messages: issues.map(
          (issue) => `[ERROR] ${issue.message} [json-pointer:${jsonPointer(issue.path)}]`,
        ),
      },
    });
  }

  /** Error code if the channel can't be used for `purpose`, else undefined. */
  channelError(channel: string | undefined, purpose: "post" | "join" | "read") {
    if (channel === undefined || matches(this.options.missingChannels, channel)) {
      return "channel_not_found";
    }
    if (purpose !== "read" && this.options.archivedChannels?.includes(channel))
      return "is_archived";
    if (purpose === "post" && this.notMember.has(channel)) return "not_in_channel";
    return undefined;
  }

  triggerError(triggerId: unknown): JsonObject | undefined {
    const id = str(triggerId);
    if (id === undefined) {
      return fail("invalid_arguments", {
        response_metadata: { messages: ["[ERROR] missing required field: trigger_id"] },
      });
    }
    const trigger = this.triggers.get(id);
    if (!trigger) return fail("invalid_trigger_id");
    const ttl = this.options.triggerIdTtlMs ?? 3000;
    if (trigger.used || Date.now() - trigger.issuedAt > ttl) return fail("expired_trigger_id");
    return undefined;
  }

  hasContent(args: JsonObject): boolean {
    return (
      str(args.text) !== undefined || args.blocks !== undefined || args.attachments !== undefined
    );
  }

  // --- messages ------------------------------------------------------------------------------

  addMessage(message: {
    channel: string;
    text?: string;
    blocks?: unknown[];
    user?: string;
    threadTs?: string;
  }): string {
    const ts = this.newTs();
    const user = message.user ?? this.ids.botUserId;
    this.storedMessages.set(`${message.channel}/${ts}`, {
      channel: message.channel,
      ts,
      text: message.text,
      blocks: message.blocks,
      threadTs: message.threadTs,
      user,
      botId: user === this.ids.botUserId ? this.ids.botId : undefined,
    });
    return ts;
  }

  addEphemeral(message: Omit<StoredEphemeral, "ts">): string {
    const ts = this.newTs();
    this.ephemerals.push({ ...message, ts });
    return ts;
  }

  // --- response URLs -------------------------------------------------------------------------

  answerResponseUrl(id: string, body: JsonObject): Answer {
    const state = this.responseUrls.get(id);
    const ttl = this.options.responseUrlTtlMs ?? 30 * 60_000;
    if (!state || Date.now() - state.issuedAt > ttl) {
      return { status: 404, body: fail("expired_url") };
    }
    if (state.uses >= (this.options.responseUrlMaxUses ?? 5)) {
      return { status: 404, body: fail("used_url") };
    }
    const issues = checkMessage(body);
    if (issues.length > 0) {
      this.addViolations("response_url", issues);
      return { status: 400, body: fail("invalid_blocks") };
    }
    if (!this.hasContent(body) && body.delete_original !== true) {
      return { status: 400, body: fail("no_text") };
    }
    state.uses += 1;
    if (state.context) this.showResponse(state.context, body);
    return { status: 200, body: { ok: true } };
  }

  /** What a person sees of a response_url POST: a new message, or the original replaced or gone. */
  private showResponse(context: ResponseUrlContext, body: JsonObject): void {
    const { channel, user, messageTs } = context;
    const content = {
      text: str(body.text),
      blocks: Array.isArray(body.blocks) ? body.blocks : undefined,
    };
    const original = messageTs
      ? context.ephemeral
        ? this.ephemerals.find((m) => m.ts === messageTs && m.channel === channel)
        : this.storedMessages.get(`${channel}/${messageTs}`)
      : undefined;
    if (original && body.delete_original === true) {
      if (context.ephemeral) this.ephemerals = this.ephemerals.filter((m) => m !== original);
      else this.storedMessages.delete(`${channel}/${messageTs}`);
    } else if (original && body.replace_original === true) {
      original.text = content.text;
      original.blocks = content.blocks;
    } else if (body.response_type === "in_channel") {
      this.addMessage({ channel, ...content });
    } else if (body.delete_original !== true) {
      this.addEphemeral({ channel, user, ...content });
    }
  }
}
