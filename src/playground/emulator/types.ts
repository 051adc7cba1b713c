/** The emulator's public shapes: options, records, faults and the FakeSlack interface. */

export type JsonObject = Record<string, unknown>;

export interface FakeSlackOptions {
  /** The only token accepted (default `xoxb-test-token`). */
  botToken?: string;
  /** The app-level token `apps.connections.open` accepts (default `xapp-test-token`). */
  appToken?: string;
  botUserId?: string;
  botId?: string;
  teamId?: string;
  teamName?: string;
  appId?: string;
  /** The bot is not a member: posting answers `not_in_channel` until `conversations.join` succeeds. */
  channelsBotIsNotIn?: string[];
  /**
   * `conversations.join` fails on these (the bot is not a member of them either). A list answers
   * `method_not_supported_for_channel_type`; a record maps channel id to the error (e.g. `is_archived`).
   */
  channelsThatRefuseJoin?: string[] | Record<string, string>;
  /** Posting or joining answers `is_archived`. */
  archivedChannels?: string[];
  /** Channel ids (exact, or matching a RegExp) that answer `channel_not_found`. */
  missingChannels?: Array<string | RegExp>;
  /** Per-user overrides merged into the `users.info` answer (e.g. `{ tz: "Asia/Shanghai" }`). */
  users?: Record<string, JsonObject>;
  /** User ids (exact, or matching a RegExp) that answer `user_not_found`. */
  missingUsers?: Array<string | RegExp>;
  /** How long an issued trigger id stays usable (default 3000 ms, as on Slack). */
  triggerIdTtlMs?: number;
  /** How many times a response URL can be used (default 5, as on Slack). */
  responseUrlMaxUses?: number;
  /** How long a response URL stays usable (default 30 minutes, as on Slack). */
  responseUrlTtlMs?: number;
}

export interface RecordedCall {
  method: string;
  /** Arguments with JSON-encoded form fields (`blocks`, `view`, `files`, ...) already decoded. */
  args: JsonObject;
  /** `Date.now()` when the request arrived. */
  at: number;
  token?: string;
  /** Filled in once the fake has answered (waitFor predicates are re-checked then). */
  status?: number;
  response?: JsonObject;
}

export interface Fault {
  /** Slack error code in the body; defaults to `ratelimited` for 429, `internal_error` for other statuses. */
  error?: string;
  /** HTTP status (default 200). */
  status?: number;
  /** Seconds, sent as the `Retry-After` header. */
  retryAfter?: number;
  /** How many consecutive requests this fault applies to (default 1). */
  times?: number;
  /** Delay before answering. With neither `error` nor `status`, the request is then answered normally. */
  delayMs?: number;
}

export interface UploadedFile {
  fileId: string;
  filename: string;
  title: string;
  channelId?: string;
  initialComment?: string;
  threadTs?: string;
  content: Buffer;
}

export interface RecordedResponse {
  url: string;
  body: JsonObject;
  at: number;
  /** HTTP status the fake answered with (200 when accepted). */
  status: number;
}

export interface StoredMessage {
  channel: string;
  ts: string;
  text?: string;
  blocks?: unknown[];
  threadTs?: string;
  user: string;
  botId?: string;
  /** Message metadata (`{ event_type, event_payload }`) as posted. */
  metadata?: JsonObject;
}

/** A message only one person sees: chat.postEphemeral, a command's reply, a response_url reply. */
export interface StoredEphemeral {
  channel: string;
  user: string;
  ts: string;
  text?: string;
  blocks?: unknown[];
}

/**
 * What a response_url answers (the playground gives one): the channel and person, and the
 * message the interaction came from, which `replace_original` / `delete_original` act on.
 */
export interface ResponseUrlContext {
  channel: string;
  user: string;
  messageTs?: string;
  ephemeral?: boolean;
}

/** The pseudo-methods `response_url` and `upload` can be used with `failNext` too. */
export type FaultTarget = string;

export interface FakeSlack {
  /** Web API base URL, ending in `/api/`. */
  readonly url: string;
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  readonly botToken: string;
  readonly appToken: string;
  readonly botUserId: string;
  readonly botId: string;
  readonly teamId: string;
  readonly calls: readonly RecordedCall[];
  readonly responses: readonly RecordedResponse[];
  readonly violations: readonly string[];
  readonly uploadedFiles: readonly UploadedFile[];
  /** Messages currently in channels (posted by the bot or seeded with `addMessage`). */
  readonly messages: readonly StoredMessage[];
  /** Current versions of the views opened, pushed or published, oldest first. */
  readonly views: readonly JsonObject[];
  callsTo(method: string): RecordedCall[];
  waitFor(
    method: string,
    predicate?: (call: RecordedCall) => boolean,
    timeoutMs?: number,
  ): Promise<RecordedCall>;
  waitForResponse(
    predicate?: (response: RecordedResponse) => boolean,
    timeoutMs?: number,
  ): Promise<RecordedResponse>;
  /** Queues a fault for the next request(s) to `method`; queued faults are consumed in order. */
  failNext(method: FaultTarget, fault?: Fault): void;
  /** While down, every request answers HTTP 503. */
  down(isDown?: boolean): void;
  /** Drops the faults still queued for `method`. */
  clearFaults(method: FaultTarget): void;
  /** What `apps.connections.open` answers as `url` (Socket Mode; see fake-socket.ts). */
  useSocket(url: () => string): void;
  /**
   * Issues a trigger id for `views.open`/`views.push`; `ageMs` back-dates it (to test expiry).
   * With `user`, the views it opens stack up in that person's modal stack (`modalStack`).
   */
  newTriggerId(options?: { ageMs?: number; user?: string }): string;
  /** With a context, what is posted to it shows up as messages (see ResponseUrlContext). */
  newResponseUrl(context?: ResponseUrlContext): string;
  /** Puts a message in a channel, as if posted by `user` (default: the bot); returns its ts. */
  addMessage(message: {
    channel: string;
    text?: string;
    blocks?: unknown[];
    user?: string;
    threadTs?: string;
  }): string;
  /** Latest view with this callback_id (or the latest view at all). */
  findView(callbackId?: string): JsonObject | undefined;
  isMember(channel: string): boolean;
  /** Ephemeral messages (postEphemeral, or response_url replies with a context), oldest first. */
  readonly ephemerals: readonly StoredEphemeral[];
  /** Shows an ephemeral message to `user` (a slash command's synchronous reply); returns its ts. */
  addEphemeral(message: Omit<StoredEphemeral, "ts">): string;
  /** The modals `user` has open (opened with a trigger id issued for them), bottom first. */
  modalStack(user: string): JsonObject[];
  /** Closes `user`'s top modal, or all of them (a submission answered `clear`). */
  closeModal(user: string, all?: boolean): void;
  /** A submission's `response_action`: `update` replaces the top modal, `push` adds one. */
  applyResponseAction(user: string, action: "update" | "push", view: unknown): JsonObject;
  /** The App Home `user` was last published, if any. */
  homeView(user: string): JsonObject | undefined;
  /** Called after every request the emulator answers (the playground refreshes its page). */
  onChange(listener: () => void): void;
  /** Throws, listing them, if any Block Kit violation was recorded. */
  assertNoViolations(): void;
  /** Back to the state right after start (same URL and options): clears records, faults and state. */
  reset(): void;
  close(): Promise<void>;
}
