/**
 * A fake Slack Web API for end-to-end tests: a real node:http server on 127.0.0.1 that answers the
 * methods kms-bot uses the way Slack does (same response shapes, same error codes), records every
 * call, enforces Block Kit limits, and lets tests inject faults (rate limits, 5xx, delays, outages).
 *
 * Point the app's WebClient at it with `slackApiUrl: fake.url` (Bolt: `clientOptions.slackApiUrl`).
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { SLACK_TEST_IDS } from "./slack-requests.js";

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
  /** Issues a trigger id for `views.open`/`views.push`; `ageMs` back-dates it (to test expiry). */
  newTriggerId(options?: { ageMs?: number }): string;
  newResponseUrl(): string;
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
  /** Throws, listing them, if any Block Kit violation was recorded. */
  assertNoViolations(): void;
  /** Back to the state right after start (same URL and options): clears records, faults and state. */
  reset(): void;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Block Kit validation
// ---------------------------------------------------------------------------------------------

export interface BlockKitIssue {
  /** Path in the payload, e.g. `view.blocks[2].element.placeholder.text`. */
  path: string;
  message: string;
}

type Issues = BlockKitIssue[];

const isObject = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const charCount = (text: string): number => [...text].length;

export const MESSAGE_LIMITS = { blocks: 50, text: 40_000 } as const;
export const VIEW_LIMITS = { blocks: 100, title: 24, privateMetadata: 3000, callbackId: 255 };

export const BLOCK_TYPES = [
  "section",
  "divider",
  "header",
  "context",
  "actions",
  "input",
  "image",
  "rich_text",
  "file",
] as const;

function checkString(
  value: unknown,
  path: string,
  max: number,
  out: Issues,
  required = false,
): void {
  if (value === undefined || value === null) {
    if (required) out.push({ path, message: "is required" });
    return;
  }
  if (typeof value !== "string") {
    out.push({ path, message: "must be a string" });
    return;
  }
  if (required && value.length === 0) out.push({ path, message: "must not be empty" });
  const length = charCount(value);
  if (length > max)
    out.push({ path, message: `must be at most ${max} characters (got ${length})` });
}

interface TextRule {
  max: number;
  plainOnly?: boolean;
  required?: boolean;
}

/** A text object: `{ type: "plain_text" | "mrkdwn", text: non-empty string }`. */
function checkText(value: unknown, path: string, rule: TextRule, out: Issues): void {
  if (value === undefined || value === null) {
    if (rule.required) out.push({ path, message: "is required" });
    return;
  }
  if (!isObject(value)) {
    out.push({ path, message: "must be a text object { type, text }" });
    return;
  }
  if (value.type !== "plain_text" && value.type !== "mrkdwn") {
    out.push({ path: `${path}.type`, message: 'must be "plain_text" or "mrkdwn"' });
    return;
  }
  if (rule.plainOnly && value.type !== "plain_text") {
    out.push({ path: `${path}.type`, message: 'must be "plain_text"' });
  }
  if (typeof value.text !== "string" || value.text.length === 0) {
    out.push({ path: `${path}.text`, message: "must be a non-empty string" });
    return;
  }
  const length = charCount(value.text);
  if (length > rule.max) {
    out.push({
      path: `${path}.text`,
      message: `must be at most ${rule.max} characters (got ${length})`,
    });
  }
}

function checkArray(
  value: unknown,
  path: string,
  limits: { min?: number; max: number; required?: boolean },
  out: Issues,
): unknown[] | undefined {
  if (value === undefined || value === null) {
    if (limits.required) out.push({ path, message: "is required" });
    return undefined;
  }
  if (!Array.isArray(value)) {
    out.push({ path, message: "must be an array" });
    return undefined;
  }
  const min = limits.min ?? 0;
  if (value.length < min) {
    out.push({ path, message: `must have at least ${min} item(s) (got ${value.length})` });
  }
  if (value.length > limits.max) {
    out.push({ path, message: `must have at most ${limits.max} items (got ${value.length})` });
  }
  return value;
}

function checkOption(option: unknown, path: string, out: Issues, plainOnly = true): void {
  if (!isObject(option)) {
    out.push({ path, message: "must be an option object { text, value }" });
    return;
  }
  checkText(option.text, `${path}.text`, { max: 75, plainOnly, required: true }, out);
  checkString(option.value, `${path}.value`, 150, out, true);
  checkText(option.description, `${path}.description`, { max: 75, plainOnly }, out);
  checkString(option.url, `${path}.url`, 3000, out);
}

function checkOptions(
  value: unknown,
  path: string,
  max: number,
  out: Issues,
  plainOnly = true,
): void {
  const options = checkArray(value, path, { min: 1, max, required: true }, out);
  options?.forEach((option, i) => {
    checkOption(option, `${path}[${i}]`, out, plainOnly);
  });
}

function checkConfirm(value: unknown, path: string, out: Issues): void {
  if (value === undefined) return;
  if (!isObject(value)) {
    out.push({ path, message: "must be a confirmation dialog object" });
    return;
  }
  checkText(value.title, `${path}.title`, { max: 100, plainOnly: true, required: true }, out);
  checkText(value.text, `${path}.text`, { max: 300, required: true }, out);
  checkText(value.confirm, `${path}.confirm`, { max: 30, plainOnly: true, required: true }, out);
  checkText(value.deny, `${path}.deny`, { max: 30, plainOnly: true, required: true }, out);
}

/** Fields every interactive element shares; `placeholder` only where the element has one. */
function checkInteractive(
  element: JsonObject,
  path: string,
  out: Issues,
  hasPlaceholder: boolean,
): void {
  checkString(element.action_id, `${path}.action_id`, 255, out);
  checkConfirm(element.confirm, `${path}.confirm`, out);
  if (hasPlaceholder) {
    checkText(element.placeholder, `${path}.placeholder`, { max: 150, plainOnly: true }, out);
  }
}

type ElementChecker = (element: JsonObject, path: string, out: Issues) => void;

const plainSelect: ElementChecker = (element, path, out) =>
  checkInteractive(element, path, out, true);

const staticSelect: ElementChecker = (element, path, out) => {
  checkInteractive(element, path, out, true);
  const hasOptions = element.options !== undefined;
  const hasGroups = element.option_groups !== undefined;
  if (hasOptions === hasGroups) {
    out.push({ path, message: "must have exactly one of options or option_groups" });
  }
  if (hasOptions) checkOptions(element.options, `${path}.options`, 100, out);
  if (hasGroups) {
    const groups = checkArray(
      element.option_groups,
      `${path}.option_groups`,
      { min: 1, max: 100, required: true },
      out,
    );
    groups?.forEach((group, i) => {
      const groupPath = `${path}.option_groups[${i}]`;
      if (!isObject(group)) {
        out.push({ path: groupPath, message: "must be an option group object" });
        return;
      }
      checkText(
        group.label,
        `${groupPath}.label`,
        { max: 75, plainOnly: true, required: true },
        out,
      );
      checkOptions(group.options, `${groupPath}.options`, 100, out);
    });
  }
  if (element.initial_option !== undefined) {
    checkOption(element.initial_option, `${path}.initial_option`, out);
  }
};

const choiceList =
  (max: number): ElementChecker =>
  (element, path, out) => {
    checkInteractive(element, path, out, false);
    checkOptions(element.options, `${path}.options`, max, out, false);
  };

const textInput: ElementChecker = (element, path, out) => {
  checkInteractive(element, path, out, true);
  checkString(element.initial_value, `${path}.initial_value`, 3000, out);
};

const checkImage: ElementChecker = (element, path, out) => {
  if (element.image_url === undefined && element.slack_file === undefined) {
    out.push({ path, message: "must have image_url or slack_file" });
  }
  checkString(element.image_url, `${path}.image_url`, 3000, out);
  checkString(element.alt_text, `${path}.alt_text`, 2000, out, true);
};

const ELEMENTS: Record<string, ElementChecker> = {
  button(element, path, out) {
    checkInteractive(element, path, out, false);
    checkText(element.text, `${path}.text`, { max: 75, plainOnly: true, required: true }, out);
    checkString(element.value, `${path}.value`, 2000, out);
    checkString(element.url, `${path}.url`, 3000, out);
    checkString(element.accessibility_label, `${path}.accessibility_label`, 75, out);
    if (element.style !== undefined && element.style !== "primary" && element.style !== "danger") {
      out.push({ path: `${path}.style`, message: 'must be "primary" or "danger"' });
    }
  },
  static_select: staticSelect,
  multi_static_select: staticSelect,
  external_select: plainSelect,
  multi_external_select: plainSelect,
  users_select: plainSelect,
  multi_users_select: plainSelect,
  conversations_select: plainSelect,
  multi_conversations_select: plainSelect,
  channels_select: plainSelect,
  multi_channels_select: plainSelect,
  overflow(element, path, out) {
    checkInteractive(element, path, out, false);
    checkOptions(element.options, `${path}.options`, 5, out);
  },
  checkboxes: choiceList(10),
  radio_buttons: choiceList(10),
  datepicker(element, path, out) {
    checkInteractive(element, path, out, true);
    const date = element.initial_date;
    if (date !== undefined && (typeof date !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(date))) {
      out.push({ path: `${path}.initial_date`, message: "must be YYYY-MM-DD" });
    }
  },
  timepicker(element, path, out) {
    checkInteractive(element, path, out, true);
    const time = element.initial_time;
    if (time !== undefined && (typeof time !== "string" || !/^\d{2}:\d{2}$/.test(time))) {
      out.push({ path: `${path}.initial_time`, message: "must be HH:mm" });
    }
  },
  datetimepicker: (element, path, out) => checkInteractive(element, path, out, false),
  plain_text_input(element, path, out) {
    textInput(element, path, out);
    for (const key of ["min_length", "max_length"]) {
      const n = element[key];
      if (n !== undefined && (typeof n !== "number" || n < 0 || n > 3000)) {
        out.push({ path: `${path}.${key}`, message: "must be a number from 0 to 3000" });
      }
    }
  },
  email_text_input: textInput,
  url_text_input: textInput,
  number_input: textInput,
  rich_text_input: (element, path, out) => checkInteractive(element, path, out, true),
  file_input: (element, path, out) => checkInteractive(element, path, out, false),
  image: checkImage,
};

function checkElement(value: unknown, path: string, out: Issues): void {
  if (!isObject(value)) {
    out.push({ path, message: "must be an element object" });
    return;
  }
  const type = value.type;
  if (typeof type !== "string" || !Object.hasOwn(ELEMENTS, type)) {
    out.push({ path: `${path}.type`, message: `unknown element type ${JSON.stringify(type)}` });
    return;
  }
  (ELEMENTS[type] as ElementChecker)(value, path, out);
}

type BlockChecker = (block: JsonObject, path: string, out: Issues) => void;

const BLOCKS: Record<(typeof BLOCK_TYPES)[number], BlockChecker> = {
  section(block, path, out) {
    if (block.text === undefined && block.fields === undefined) {
      out.push({ path, message: "a section must have text or fields" });
    }
    checkText(block.text, `${path}.text`, { max: 3000 }, out);
    const fields = checkArray(block.fields, `${path}.fields`, { min: 1, max: 10 }, out);
    fields?.forEach((field, i) => {
      checkText(field, `${path}.fields[${i}]`, { max: 2000, required: true }, out);
    });
    if (block.accessory !== undefined) checkElement(block.accessory, `${path}.accessory`, out);
  },
  divider() {},
  header(block, path, out) {
    checkText(block.text, `${path}.text`, { max: 150, plainOnly: true, required: true }, out);
  },
  context(block, path, out) {
    const elements = checkArray(
      block.elements,
      `${path}.elements`,
      { min: 1, max: 10, required: true },
      out,
    );
    elements?.forEach((element, i) => {
      const elementPath = `${path}.elements[${i}]`;
      if (isObject(element) && element.type === "image") {
        checkImage(element, elementPath, out);
      } else {
        checkText(element, elementPath, { max: 3000, required: true }, out);
      }
    });
  },
  actions(block, path, out) {
    const elements = checkArray(
      block.elements,
      `${path}.elements`,
      { min: 1, max: 25, required: true },
      out,
    );
    const actionIds = new Set<string>();
    elements?.forEach((element, i) => {
      const elementPath = `${path}.elements[${i}]`;
      checkElement(element, elementPath, out);
      if (isObject(element) && typeof element.action_id === "string") {
        if (actionIds.has(element.action_id)) {
          out.push({
            path: `${elementPath}.action_id`,
            message: `duplicate action_id ${JSON.stringify(element.action_id)} in one block`,
          });
        }
        actionIds.add(element.action_id);
      }
    });
  },
  input(block, path, out) {
    checkText(block.label, `${path}.label`, { max: 2000, plainOnly: true, required: true }, out);
    checkText(block.hint, `${path}.hint`, { max: 2000, plainOnly: true }, out);
    if (block.element === undefined) out.push({ path: `${path}.element`, message: "is required" });
    else checkElement(block.element, `${path}.element`, out);
  },
  image(block, path, out) {
    checkImage(block, path, out);
    checkText(block.title, `${path}.title`, { max: 2000, plainOnly: true }, out);
  },
  rich_text(block, path, out) {
    checkArray(
      block.elements,
      `${path}.elements`,
      { max: Number.POSITIVE_INFINITY, required: true },
      out,
    );
  },
  file(block, path, out) {
    checkString(block.external_id, `${path}.external_id`, 255, out, true);
    if (block.source !== "remote")
      out.push({ path: `${path}.source`, message: 'must be "remote"' });
  },
};

function checkBlocks(
  value: unknown,
  path: string,
  max: number,
  required: boolean,
  out: Issues,
): unknown[] | undefined {
  const blocks = checkArray(value, path, { max, required }, out);
  const blockIds = new Set<string>();
  blocks?.forEach((block, i) => {
    const blockPath = `${path}[${i}]`;
    if (!isObject(block)) {
      out.push({ path: blockPath, message: "must be a block object" });
      return;
    }
    const type = block.type;
    if (typeof type !== "string" || !Object.hasOwn(BLOCKS, type)) {
      out.push({
        path: `${blockPath}.type`,
        message: `unknown block type ${JSON.stringify(type)}`,
      });
      return;
    }
    if (block.block_id !== undefined) {
      checkString(block.block_id, `${blockPath}.block_id`, 255, out, true);
      if (typeof block.block_id === "string") {
        if (blockIds.has(block.block_id)) {
          out.push({
            path: `${blockPath}.block_id`,
            message: `duplicate block_id ${JSON.stringify(block.block_id)}`,
          });
        }
        blockIds.add(block.block_id);
      }
    }
    BLOCKS[type as (typeof BLOCK_TYPES)[number]](block, blockPath, out);
  });
  return blocks;
}

/** Checks a message payload (`text`, `blocks`) as chat.postMessage/update and response URLs do. */
export function checkMessage(payload: JsonObject): BlockKitIssue[] {
  const out: Issues = [];
  checkString(payload.text, "text", MESSAGE_LIMITS.text, out);
  checkBlocks(payload.blocks, "blocks", MESSAGE_LIMITS.blocks, false, out);
  if (
    payload.response_type !== undefined &&
    payload.response_type !== "ephemeral" &&
    payload.response_type !== "in_channel"
  ) {
    out.push({ path: "response_type", message: 'must be "ephemeral" or "in_channel"' });
  }
  return out;
}

/** Checks a view payload (modal or home tab) as views.open/update/push/publish do. */
export function checkView(view: unknown, path = "view"): BlockKitIssue[] {
  const out: Issues = [];
  if (!isObject(view)) {
    out.push({ path, message: "must be a view object" });
    return out;
  }
  if (view.type !== "modal" && view.type !== "home") {
    out.push({ path: `${path}.type`, message: 'must be "modal" or "home"' });
  }
  const blocks = checkBlocks(view.blocks, `${path}.blocks`, VIEW_LIMITS.blocks, true, out);
  checkString(view.private_metadata, `${path}.private_metadata`, VIEW_LIMITS.privateMetadata, out);
  checkString(view.callback_id, `${path}.callback_id`, VIEW_LIMITS.callbackId, out);
  checkString(view.external_id, `${path}.external_id`, 255, out);
  if (view.type === "modal") {
    const title = { max: VIEW_LIMITS.title, plainOnly: true };
    checkText(view.title, `${path}.title`, { ...title, required: true }, out);
    checkText(view.submit, `${path}.submit`, title, out);
    checkText(view.close, `${path}.close`, title, out);
    const hasInput = blocks?.some((block) => isObject(block) && block.type === "input") ?? false;
    if (hasInput && view.submit === undefined) {
      out.push({ path: `${path}.submit`, message: "is required when the modal has input blocks" });
    }
  }
  return out;
}

const jsonPointer = (path: string): string =>
  `/${path
    .replace(/\[(\d+)\]/g, ".$1")
    .split(".")
    .join("/")}`;

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

/** Form fields WebClient JSON-encodes (it stringifies every non-scalar argument). */
const JSON_FIELDS = new Set(["blocks", "attachments", "view", "files", "metadata", "unfurls"]);

type Handler = (args: JsonObject) => JsonObject;

interface Answer {
  status: number;
  body: JsonObject;
  headers?: Record<string, string>;
}

interface QueuedFault extends Fault {
  remaining: number;
}

const fail = (error: string, extra: JsonObject = {}): JsonObject => ({
  ok: false,
  error,
  ...extra,
});

const str = (value: unknown): string | undefined =>
  typeof value === "string" && value !== "" ? value : undefined;

const matches = (list: Array<string | RegExp> | undefined, id: string): boolean =>
  (list ?? []).some((entry) => (typeof entry === "string" ? entry === id : entry.test(id)));

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Decodes a Web API request body the way Slack accepts them; returns an error code if unreadable. */
async function parseArgs(contentType: string, raw: Buffer, query: URLSearchParams) {
  const args: JsonObject = Object.fromEntries(query);
  if (raw.length === 0) return args;
  if (contentType.startsWith("application/json")) {
    try {
      const parsed: unknown = JSON.parse(raw.toString("utf8"));
      if (!isObject(parsed)) return "invalid_json";
      return { ...args, ...parsed };
    } catch {
      return "invalid_json";
    }
  }
  if (contentType.startsWith("multipart/form-data")) {
    const form = await new Response(raw, { headers: { "content-type": contentType } }).formData();
    for (const [key, value] of form) if (typeof value === "string") args[key] = value;
  } else {
    for (const [key, value] of new URLSearchParams(raw.toString("utf8"))) args[key] = value;
  }
  for (const key of JSON_FIELDS) {
    const value = args[key];
    if (typeof value === "string" && /^\s*[[{]/.test(value)) {
      try {
        args[key] = JSON.parse(value);
      } catch {
        // Left as the string: validation reports it.
      }
    }
  }
  return args;
}

/** The raw bytes of an upload: the first file part of a multipart body, or the body itself. */
async function uploadContent(contentType: string, raw: Buffer): Promise<Buffer> {
  if (!contentType.startsWith("multipart/form-data")) return raw;
  const form = await new Response(raw, { headers: { "content-type": contentType } }).formData();
  const values = [...form.values()];
  const file = values.find((value) => typeof value !== "string") ?? values[0] ?? "";
  if (typeof file === "string") return Buffer.from(file, "utf8");
  return Buffer.from(await file.arrayBuffer());
}

function send(res: ServerResponse, answer: Answer): void {
  if (res.destroyed || res.writableEnded) return;
  res.writeHead(answer.status, {
    "content-type": "application/json; charset=utf-8",
    ...answer.headers,
  });
  res.end(JSON.stringify(answer.body));
}

class FakeSlackServer implements FakeSlack {
  readonly botToken: string;
  readonly appToken: string;
  readonly botUserId: string;
  readonly botId: string;
  readonly teamId: string;
  readonly calls: RecordedCall[] = [];
  readonly responses: RecordedResponse[] = [];
  readonly violations: string[] = [];
  readonly uploadedFiles: UploadedFile[] = [];
  origin = "";

  private readonly server = createServer((req, res) => {
    this.handle(req, res).catch((error: unknown) => {
      this.violations.push(`fake Slack internal error on ${req.url}: ${String(error)}`);
      send(res, { status: 500, body: fail("internal_error") });
    });
  });
  private readonly teamName: string;
  private readonly appId: string;
  private readonly refuseJoin: Map<string, string>;
  private faults = new Map<string, QueuedFault[]>();
  private isDown = false;
  private socketUrl?: () => string;
  private closed = false;
  private seq = 0;
  private notMember = new Set<string>();
  private storedMessages = new Map<string, StoredMessage>();
  private storedViews = new Map<string, JsonObject>();
  private homeViews = new Map<string, string>();
  private triggers = new Map<string, { issuedAt: number; used: boolean }>();
  private responseUrls = new Map<string, { issuedAt: number; uses: number }>();
  private pendingUploads = new Map<string, { filename: string; content?: Buffer }>();
  private readonly waiters = new Set<() => void>();
  private readonly sleeps = new Map<NodeJS.Timeout, () => void>();

  constructor(private readonly options: FakeSlackOptions) {
    this.botToken = options.botToken ?? "xoxb-test-token";
    this.appToken = options.appToken ?? "xapp-test-token";
    this.botUserId = options.botUserId ?? SLACK_TEST_IDS.botUserId;
    this.botId = options.botId ?? SLACK_TEST_IDS.botId;
    this.teamId = options.teamId ?? SLACK_TEST_IDS.teamId;
    this.teamName = options.teamName ?? "KMS Test";
    this.appId = options.appId ?? SLACK_TEST_IDS.appId;
    const refuse = options.channelsThatRefuseJoin ?? [];
    this.refuseJoin = Array.isArray(refuse)
      ? new Map(refuse.map((id) => [id, "method_not_supported_for_channel_type"]))
      : new Map(Object.entries(refuse));
    this.reset();
  }

  get url(): string {
    return `${this.origin}/api/`;
  }

  get messages(): StoredMessage[] {
    return [...this.storedMessages.values()];
  }

  get views(): JsonObject[] {
    return [...this.storedViews.values()];
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(0, "127.0.0.1", () => resolve());
    });
    const { port } = this.server.address() as AddressInfo;
    this.origin = `http://127.0.0.1:${port}`;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const [timer, resolve] of this.sleeps) {
      clearTimeout(timer);
      resolve();
    }
    this.sleeps.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  reset(): void {
    this.calls.length = 0;
    this.responses.length = 0;
    this.violations.length = 0;
    this.uploadedFiles.length = 0;
    this.faults = new Map();
    this.isDown = false;
    this.notMember = new Set([
      ...(this.options.channelsBotIsNotIn ?? []),
      ...this.refuseJoin.keys(),
    ]);
    this.storedMessages = new Map();
    this.storedViews = new Map();
    this.homeViews = new Map();
    this.triggers = new Map();
    this.responseUrls = new Map();
    this.pendingUploads = new Map();
  }

  // --- records -------------------------------------------------------------------------------

  callsTo(method: string): RecordedCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  waitFor(
    method: string,
    predicate: (call: RecordedCall) => boolean = () => true,
    timeoutMs = 2000,
  ): Promise<RecordedCall> {
    return this.waitUntil(
      () => this.calls.find((call) => call.method === method && predicate(call)),
      timeoutMs,
      () =>
        `fake Slack: no ${method} call${predicate.length > 0 ? " matching the predicate" : ""} ` +
        `within ${timeoutMs} ms (${this.callsTo(method).length} ${method} call(s) in all); ` +
        `recorded calls: ${this.describeCalls()}`,
    );
  }

  waitForResponse(
    predicate: (response: RecordedResponse) => boolean = () => true,
    timeoutMs = 2000,
  ): Promise<RecordedResponse> {
    return this.waitUntil(
      () => this.responses.find(predicate),
      timeoutMs,
      () =>
        `fake Slack: no matching response_url POST within ${timeoutMs} ms ` +
        `(${this.responses.length} in all); recorded calls: ${this.describeCalls()}`,
    );
  }

  assertNoViolations(): void {
    if (this.violations.length === 0) return;
    throw new Error(
      `fake Slack recorded ${this.violations.length} violation(s):\n` +
        this.violations.map((violation) => `  - ${violation}`).join("\n"),
    );
  }

  private describeCalls(): string {
    if (this.calls.length === 0) return "(none)";
    const counts = new Map<string, number>();
    for (const call of this.calls) counts.set(call.method, (counts.get(call.method) ?? 0) + 1);
    return [...counts].map(([method, n]) => (n > 1 ? `${method} ×${n}` : method)).join(", ");
  }

  private waitUntil<T>(find: () => T | undefined, timeoutMs: number, describe: () => string) {
    const found = find();
    if (found !== undefined) return Promise.resolve(found);
    return new Promise<T>((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      const check = () => {
        const match = find();
        if (match !== undefined) {
          cleanup();
          resolve(match);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(describe()));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  // --- test controls -------------------------------------------------------------------------

  failNext(method: FaultTarget, fault: Fault = {}): void {
    const queue = this.faults.get(method) ?? [];
    queue.push({ ...fault, remaining: Math.max(1, fault.times ?? 1) });
    this.faults.set(method, queue);
  }

  down(isDown = true): void {
    this.isDown = isDown;
  }

  clearFaults(method: FaultTarget): void {
    this.faults.delete(method);
  }

  useSocket(url: () => string): void {
    this.socketUrl = url;
  }

  newTriggerId(options: { ageMs?: number } = {}): string {
    const id = `${this.nextSeq()}.${Date.now()}.${randomBytes(8).toString("hex")}`;
    this.triggers.set(id, { issuedAt: Date.now() - (options.ageMs ?? 0), used: false });
    return id;
  }

  newResponseUrl(): string {
    const id = `${this.teamId}/${this.nextSeq()}/${randomBytes(12).toString("hex")}`;
    this.responseUrls.set(id, { issuedAt: Date.now(), uses: 0 });
    return `${this.origin}/response/${id}`;
  }

  addMessage(message: {
    channel: string;
    text?: string;
    blocks?: unknown[];
    user?: string;
    threadTs?: string;
  }): string {
    const ts = this.newTs();
    const user = message.user ?? this.botUserId;
    this.storedMessages.set(`${message.channel}/${ts}`, {
      channel: message.channel,
      ts,
      text: message.text,
      blocks: message.blocks,
      threadTs: message.threadTs,
      user,
      botId: user === this.botUserId ? this.botId : undefined,
    });
    return ts;
  }

  findView(callbackId?: string): JsonObject | undefined {
    return this.views.findLast(
      (view) => callbackId === undefined || view.callback_id === callbackId,
    );
  }

  isMember(channel: string): boolean {
    return !this.notMember.has(channel);
  }

  // --- HTTP ----------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.origin);
    const raw = await readBody(req);
    const contentType = req.headers["content-type"] ?? "";
    if (url.pathname.startsWith("/api/")) {
      const method = decodeURIComponent(url.pathname.slice("/api/".length));
      send(res, await this.handleApi(method, req, contentType, raw, url.searchParams));
    } else if (url.pathname.startsWith("/upload/")) {
      const fileId = url.pathname.slice("/upload/".length);
      const failure = await this.applyFault("upload");
      send(res, failure ?? (await this.handleUpload(fileId, contentType, raw)));
    } else if (url.pathname.startsWith("/response/")) {
      const id = url.pathname.slice("/response/".length);
      const failure = await this.applyFault("response_url");
      send(res, failure ?? this.handleResponseUrl(id, `${this.origin}${url.pathname}`, raw));
    } else {
      send(res, { status: 404, body: fail("not_found") });
    }
  }

  private async handleApi(
    method: string,
    req: IncomingMessage,
    contentType: string,
    raw: Buffer,
    query: URLSearchParams,
  ): Promise<Answer> {
    const parsed = await parseArgs(contentType, raw, query);
    const args = typeof parsed === "string" ? {} : parsed;
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "")?.[1];
    const token = bearer ?? str(args.token);
    const call: RecordedCall = { method, args, at: Date.now(), token };
    this.calls.push(call);
    this.notify();
    const answer = await this.answerApi(method, parsed, token);
    call.status = answer.status;
    call.response = answer.body;
    this.notify(); // again, for predicates on the response
    return answer;
  }

  private async answerApi(
    method: string,
    parsed: JsonObject | string,
    token: string | undefined,
  ): Promise<Answer> {
    const failure = await this.applyFault(method);
    if (failure) return failure;
    const ok = (body: JsonObject): Answer => ({ status: 200, body });
    if (typeof parsed === "string") return ok(fail(parsed));
    const handler = this.handlers[method];
    if (!handler) return ok(fail("unknown_method", { req_method: method }));
    if (token === undefined) return ok(fail("not_authed"));
    // Socket Mode opens its connection with the app-level token, and only that.
    const expected = method === "apps.connections.open" ? this.appToken : this.botToken;
    if (token !== expected) return ok(fail("invalid_auth"));
    return ok(handler(parsed));
  }

  /** Outage, then the next queued fault for `target` (after its delay); undefined to go on. */
  private async applyFault(target: string): Promise<Answer | undefined> {
    if (this.isDown) return { status: 503, body: fail("service_unavailable") };
    const queue = this.faults.get(target);
    const fault = queue?.[0];
    if (!queue || !fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) queue.shift();
    if (fault.delayMs) await this.sleep(fault.delayMs);
    if (fault.error === undefined && fault.status === undefined) return undefined;
    const status = fault.status ?? 200;
    const error =
      fault.error ??
      (status === 429 ? "ratelimited" : status === 200 ? "fatal_error" : "internal_error");
    const headers: Record<string, string> = {};
    if (fault.retryAfter !== undefined) headers["retry-after"] = String(fault.retryAfter);
    return { status, body: fail(error), headers };
  }

  private sleep(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.sleeps.delete(timer);
        resolve();
      }, ms);
      this.sleeps.set(timer, resolve);
    });
  }

  private async handleUpload(fileId: string, contentType: string, raw: Buffer): Promise<Answer> {
    const pending = this.pendingUploads.get(fileId);
    if (!pending) return { status: 404, body: fail("file_not_found") };
    pending.content = await uploadContent(contentType, raw);
    // Slack answers the upload itself with a plain "OK - <bytes>"; WebClient only checks the status.
    return { status: 200, body: { ok: true, size: pending.content.length } };
  }

  private handleResponseUrl(id: string, url: string, raw: Buffer): Answer {
    let body: JsonObject;
    try {
      const parsed: unknown = JSON.parse(raw.toString("utf8"));
      if (!isObject(parsed)) throw new Error("not an object");
      body = parsed;
    } catch {
      return { status: 400, body: fail("invalid_payload") };
    }
    const answer = this.answerResponseUrl(id, body);
    this.responses.push({ url, body, at: Date.now(), status: answer.status });
    this.notify();
    return answer;
  }

  private answerResponseUrl(id: string, body: JsonObject): Answer {
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
    return { status: 200, body: { ok: true } };
  }

  // --- shared checks -------------------------------------------------------------------------

  private addViolations(method: string, issues: BlockKitIssue[]): void {
    for (const issue of issues) this.violations.push(`${method}: ${issue.path}: ${issue.message}`);
  }

  private messageFailure(method: string, args: JsonObject): JsonObject | undefined {
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

  private viewFailure(method: string, view: unknown, type?: "modal" | "home") {
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
  private channelError(channel: string | undefined, purpose: "post" | "join" | "read") {
    if (channel === undefined || matches(this.options.missingChannels, channel)) {
      return "channel_not_found";
    }
    if (purpose !== "read" && this.options.archivedChannels?.includes(channel))
      return "is_archived";
    if (purpose === "post" && this.notMember.has(channel)) return "not_in_channel";
    return undefined;
  }

  private triggerError(triggerId: unknown): JsonObject | undefined {
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

  // --- ids -----------------------------------------------------------------------------------

  private nextSeq(): number {
    this.seq += 1;
    return this.seq;
  }

  private newId(prefix: string): string {
    return `${prefix}0${String(this.nextSeq()).padStart(9, "0")}`;
  }

  /** "1712345678.000042": seconds, then a sequence number, so ts values are unique and ordered. */
  private newTs(): string {
    return `${Math.floor(Date.now() / 1000)}.${String(this.nextSeq() % 1_000_000).padStart(6, "0")}`;
  }

  private dmFor(user: string): string {
    return `D${user.slice(1)}`;
  }

  // --- method handlers -----------------------------------------------------------------------

  private readonly handlers: Record<string, Handler> = {
    "auth.test": () => ({
      ok: true,
      url: "https://kms-test.slack.com/",
      team: this.teamName,
      user: "kms-bot",
      team_id: this.teamId,
      user_id: this.botUserId,
      bot_id: this.botId,
      is_enterprise_install: false,
    }),
    "apps.connections.open": () =>
      this.socketUrl ? { ok: true, url: this.socketUrl() } : fail("internal_error"),
    "chat.postMessage": (args) => this.postMessage(args),
    "chat.postEphemeral": (args) => this.postEphemeral(args),
    "chat.update": (args) => this.updateMessage(args),
    "chat.delete": (args) => this.deleteMessage(args),
    "chat.getPermalink": (args) => {
      const channel = str(args.channel);
      const ts = str(args.message_ts);
      if (!channel || !ts) return fail("invalid_arguments");
      const error = this.channelError(channel, "read");
      if (error) return fail(error);
      return {
        ok: true,
        channel,
        permalink: `https://kms-test.slack.com/archives/${channel}/p${ts.replace(".", "")}`,
      };
    },
    "views.open": (args) => this.openView("views.open", args),
    "views.push": (args) => this.openView("views.push", args),
    "views.update": (args) => this.updateView(args),
    "views.publish": (args) => this.publishView(args),
    "conversations.join": (args) => this.join(args),
    "conversations.history": (args) => {
      const channel = str(args.channel);
      const error = this.channelError(channel, "read");
      if (error || !channel) return fail(error ?? "channel_not_found");
      const oldest = Number(args.oldest ?? 0);
      const withMetadata =
        args.include_all_metadata === true || args.include_all_metadata === "true";
      const messages = [...this.storedMessages.values()]
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
    "conversations.open": (args) => this.openConversation(args),
    "users.info": (args) => {
      const user = str(args.user);
      if (!user || matches(this.options.missingUsers, user)) return fail("user_not_found");
      return { ok: true, user: this.userInfo(user) };
    },
    "files.getUploadURLExternal": (args) => {
      const filename = str(args.filename);
      const length = Number(args.length);
      if (!filename || !Number.isInteger(length) || length < 0) return fail("invalid_arguments");
      const fileId = this.newId("F");
      this.pendingUploads.set(fileId, { filename });
      return { ok: true, upload_url: `${this.origin}/upload/${fileId}`, file_id: fileId };
    },
    "files.completeUploadExternal": (args) => this.completeUpload(args),
  };

  private botMessage(args: JsonObject, ts: string): JsonObject {
    return {
      type: "message",
      user: this.botUserId,
      bot_id: this.botId,
      app_id: this.appId,
      team: this.teamId,
      text: typeof args.text === "string" ? args.text : "",
      ts,
      ...(Array.isArray(args.blocks) ? { blocks: args.blocks } : {}),
      ...(str(args.thread_ts) ? { thread_ts: args.thread_ts } : {}),
      bot_profile: {
        id: this.botId,
        app_id: this.appId,
        name: "kms-bot",
        team_id: this.teamId,
        deleted: false,
      },
    };
  }

  private hasContent(args: JsonObject): boolean {
    return (
      str(args.text) !== undefined || args.blocks !== undefined || args.attachments !== undefined
    );
  }

  private postMessage(args: JsonObject): JsonObject {
    const target = str(args.channel);
    const channel = target && /^[UW]/.test(target) ? this.dmFor(target) : target;
    const error = this.channelError(channel, "post");
    if (error || !channel) return fail(error ?? "channel_not_found");
    if (!this.hasContent(args)) return fail("no_text");
    const failure = this.messageFailure("chat.postMessage", args);
    if (failure) return failure;
    const ts = this.newTs();
    this.storedMessages.set(`${channel}/${ts}`, {
      channel,
      ts,
      text: typeof args.text === "string" ? args.text : undefined,
      blocks: Array.isArray(args.blocks) ? args.blocks : undefined,
      threadTs: str(args.thread_ts),
      user: this.botUserId,
      botId: this.botId,
      metadata: isObject(args.metadata) ? args.metadata : undefined,
    });
    return { ok: true, channel, ts, message: this.botMessage(args, ts) };
  }

  private postEphemeral(args: JsonObject): JsonObject {
    const channel = str(args.channel);
    const error = this.channelError(channel, "post");
    if (error) return fail(error);
    const user = str(args.user);
    if (!user || matches(this.options.missingUsers, user)) return fail("user_not_in_channel");
    if (!this.hasContent(args)) return fail("no_text");
    const failure = this.messageFailure("chat.postEphemeral", args);
    if (failure) return failure;
    return { ok: true, message_ts: this.newTs() };
  }

  private findMessage(
    args: JsonObject,
    action: "update" | "delete",
  ): { message: StoredMessage } | { error: JsonObject } {
    const channel = str(args.channel);
    const ts = str(args.ts);
    const error = this.channelError(channel, "read");
    if (error) return { error: fail(error) };
    const message = this.storedMessages.get(`${channel}/${ts}`);
    if (!message) return { error: fail("message_not_found") };
    if (message.botId !== this.botId) return { error: fail(`cant_${action}_message`) };
    return { message };
  }

  private updateMessage(args: JsonObject): JsonObject {
    const found = this.findMessage(args, "update");
    if ("error" in found) return found.error;
    const { message } = found;
    if (!this.hasContent(args)) return fail("no_text");
    const failure = this.messageFailure("chat.update", args);
    if (failure) return failure;
    if (typeof args.text === "string") message.text = args.text;
    if (Array.isArray(args.blocks)) message.blocks = args.blocks;
    return {
      ok: true,
      channel: message.channel,
      ts: message.ts,
      text: message.text ?? "",
      message: this.botMessage({ ...args, blocks: message.blocks }, message.ts),
    };
  }

  private deleteMessage(args: JsonObject): JsonObject {
    const found = this.findMessage(args, "delete");
    if ("error" in found) return found.error;
    const { message } = found;
    this.storedMessages.delete(`${message.channel}/${message.ts}`);
    return { ok: true, channel: message.channel, ts: message.ts };
  }

  private viewObject(input: JsonObject, id: string, previous?: JsonObject): JsonObject {
    return {
      id,
      team_id: this.teamId,
      type: input.type,
      blocks: input.blocks,
      private_metadata: input.private_metadata ?? "",
      callback_id: input.callback_id ?? "",
      state: { values: {} },
      hash: `${Math.floor(Date.now() / 1000)}.${randomBytes(4).toString("hex")}`,
      title: input.title ?? null,
      close: input.close ?? null,
      submit: input.submit ?? null,
      clear_on_close: input.clear_on_close === true || input.clear_on_close === "true",
      notify_on_close: input.notify_on_close === true || input.notify_on_close === "true",
      previous_view_id: previous?.previous_view_id ?? null,
      root_view_id: previous?.root_view_id ?? id,
      app_id: this.appId,
      external_id: input.external_id ?? "",
      app_installed_team_id: this.teamId,
      bot_id: this.botId,
    };
  }

  private openView(method: "views.open" | "views.push", args: JsonObject): JsonObject {
    const triggerError = this.triggerError(args.trigger_id);
    if (triggerError) return triggerError;
    const failure = this.viewFailure(method, args.view, "modal");
    if (failure || !isObject(args.view)) return failure ?? fail("invalid_arguments");
    const trigger = this.triggers.get(String(args.trigger_id));
    if (trigger) trigger.used = true;
    const id = this.newId("V");
    const view = this.viewObject(args.view, id);
    this.storedViews.set(id, view);
    return { ok: true, view };
  }

  private updateView(args: JsonObject): JsonObject {
    const viewId = str(args.view_id);
    const externalId = str(args.external_id);
    if (!viewId && !externalId) return fail("invalid_arguments");
    const current = viewId
      ? this.storedViews.get(viewId)
      : this.views.find((view) => view.external_id === externalId);
    if (!current) return fail("not_found");
    if (str(args.hash) && args.hash !== current.hash) return fail("hash_conflict");
    const failure = this.viewFailure("views.update", args.view);
    if (failure || !isObject(args.view)) return failure ?? fail("invalid_arguments");
    const id = String(current.id);
    const view = this.viewObject(args.view, id, current);
    this.storedViews.set(id, view);
    return { ok: true, view };
  }

  private publishView(args: JsonObject): JsonObject {
    const user = str(args.user_id);
    if (!user) return fail("invalid_arguments");
    if (matches(this.options.missingUsers, user)) return fail("user_not_found");
    const existingId = this.homeViews.get(user);
    const current = existingId ? this.storedViews.get(existingId) : undefined;
    if (current && str(args.hash) && args.hash !== current.hash) return fail("hash_conflict");
    const failure = this.viewFailure("views.publish", args.view, "home");
    if (failure || !isObject(args.view)) return failure ?? fail("invalid_arguments");
    const id = existingId ?? this.newId("V");
    const view = this.viewObject(args.view, id, current);
    this.storedViews.set(id, view);
    this.homeViews.set(user, id);
    return { ok: true, view };
  }

  private channelObject(id: string): JsonObject {
    return {
      id,
      name: id.toLowerCase(),
      is_channel: id.startsWith("C"),
      is_group: false,
      is_im: id.startsWith("D"),
      is_private: id.startsWith("G"),
      is_archived: this.options.archivedChannels?.includes(id) ?? false,
      is_member: this.isMember(id),
      created: 1_700_000_000,
      creator: SLACK_TEST_IDS.userId,
      context_team_id: this.teamId,
    };
  }

  private join(args: JsonObject): JsonObject {
    const channel = str(args.channel);
    const error = this.channelError(channel, "join");
    if (error || !channel) return fail(error ?? "channel_not_found");
    const refused = this.refuseJoin.get(channel);
    if (refused) return fail(refused);
    const wasMember = this.isMember(channel);
    this.notMember.delete(channel);
    const answer: JsonObject = { ok: true, channel: this.channelObject(channel) };
    if (wasMember) {
      answer.warning = "already_in_channel";
      answer.response_metadata = { warnings: ["already_in_channel"] };
    }
    return answer;
  }

  private openConversation(args: JsonObject): JsonObject {
    const channel = str(args.channel);
    if (channel) {
      const error = this.channelError(channel, "read");
      return error ? fail(error) : { ok: true, channel: { id: channel } };
    }
    const users = (str(args.users) ?? "").split(",").filter((user) => user !== "");
    if (users.length === 0) return fail("users_list_not_supplied");
    if (users.some((user) => matches(this.options.missingUsers, user))) {
      return fail("user_not_found");
    }
    const first = users[0] ?? "";
    const id = users.length === 1 ? this.dmFor(first) : `G${users.join("").replace(/\W/g, "")}`;
    return { ok: true, no_op: true, already_open: true, channel: { id } };
  }

  private userInfo(id: string): JsonObject {
    const override = this.options.users?.[id] ?? {};
    const name = `user-${id.toLowerCase()}`;
    const profile = {
      real_name: `Test ${id}`,
      display_name: name,
      email: `${name}@example.com`,
      team: this.teamId,
    };
    return {
      id,
      team_id: this.teamId,
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
      is_bot: id === this.botUserId,
      is_app_user: false,
      updated: 1_700_000_000,
      ...override,
      profile: { ...profile, ...(isObject(override.profile) ? override.profile : {}) },
    };
  }

  private completeUpload(args: JsonObject): JsonObject {
    const files = args.files;
    if (!Array.isArray(files) || files.length === 0) return fail("invalid_arguments");
    const channelId = str(args.channel_id) ?? str(args.channels);
    if (channelId) {
      const error = this.channelError(channelId, "post");
      if (error) return fail(error);
    }
    if (args.blocks !== undefined) {
      const failure = this.messageFailure("files.completeUploadExternal", { blocks: args.blocks });
      if (failure) return failure;
    }
    const entries: Array<{ id: string; title?: string; content: Buffer; filename: string }> = [];
    for (const file of files) {
      const id = isObject(file) ? str(file.id) : undefined;
      const pending = id ? this.pendingUploads.get(id) : undefined;
      if (!id || !pending?.content) return fail("file_not_found");
      const title = isObject(file) ? str(file.title) : undefined;
      entries.push({ id, title, content: pending.content, filename: pending.filename });
    }
    const now = Math.floor(Date.now() / 1000);
    const answered = entries.map((entry) => {
      this.pendingUploads.delete(entry.id);
      const title = entry.title ?? entry.filename;
      this.uploadedFiles.push({
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
        user: this.botUserId,
        user_team: this.teamId,
        editable: false,
        size: entry.content.length,
        mode: "hosted",
        is_external: false,
        is_public: channelId?.startsWith("C") ?? false,
        url_private: `https://files.slack.com/files-pri/${this.teamId}-${entry.id}/${entry.filename}`,
        permalink: `https://kms-test.slack.com/files/${this.botUserId}/${entry.id}/${entry.filename}`,
        channels: channelId?.startsWith("C") ? [channelId] : [],
        groups: channelId?.startsWith("G") ? [channelId] : [],
        ims: channelId?.startsWith("D") ? [channelId] : [],
      };
    });
    return { ok: true, files: answered };
  }
}

/** Starts a fake Slack Web API on 127.0.0.1 (random port). Close it with `fake.close()`. */
export async function startFakeSlack(options: FakeSlackOptions = {}): Promise<FakeSlack> {
  const fake = new FakeSlackServer(options);
  await fake.listen();
  return fake;
}
