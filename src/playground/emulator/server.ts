/**
 * A stand-in for the Slack Web API: a real node:http server on 127.0.0.1 that answers the methods
 * kms-bot uses the way Slack does (same response shapes, same error codes), records every call,
 * enforces Block Kit limits, and lets tests inject faults (rate limits, 5xx, delays, outages).
 * The tests use it as their fake Slack; the playground uses it as the workspace a browser shows.
 *
 * Point the app's WebClient at it with `slackApiUrl: fake.url` (Bolt: `clientOptions.slackApiUrl`).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { isObject } from "./blockkit-rules.js";
import { chatMethods } from "./chat.js";
import {
  type Answer,
  fail,
  type Handler,
  parseArgs,
  type QueuedFault,
  readBody,
  send,
  str,
  uploadContent,
} from "./http.js";
import { otherMethods } from "./methods.js";
import { Recorder } from "./records.js";
import { SLACK_TEST_IDS } from "./requests.js";
import type {
  FakeSlack,
  FakeSlackOptions,
  Fault,
  FaultTarget,
  JsonObject,
  RecordedCall,
  ResponseUrlContext,
  StoredEphemeral,
  StoredMessage,
  UploadedFile,
} from "./types.js";
import { applyResponseAction, closeModal, modalStack, viewMethods } from "./views.js";
import { Workspace } from "./workspace.js";

class FakeSlackServer extends Recorder implements FakeSlack {
  readonly botToken: string;
  readonly appToken: string;
  readonly botUserId: string;
  readonly botId: string;
  readonly teamId: string;
  origin = "";

  private readonly server = createServer((req, res) => {
    this.handle(req, res).catch((error: unknown) => {
      this.violations.push(`fake Slack internal error on ${req.url}: ${String(error)}`);
      send(res, { status: 500, body: fail("internal_error") });
    });
  });
  private readonly ws: Workspace;
  private readonly handlers: Record<string, Handler>;
  private faults = new Map<string, QueuedFault[]>();
  private isDown = false;
  private socketUrl?: () => string;
  private closed = false;
  private readonly sleeps = new Map<NodeJS.Timeout, () => void>();

  constructor(options: FakeSlackOptions) {
    super();
    this.botToken = options.botToken ?? "xoxb-test-token";
    this.appToken = options.appToken ?? "xapp-test-token";
    this.botUserId = options.botUserId ?? SLACK_TEST_IDS.botUserId;
    this.botId = options.botId ?? SLACK_TEST_IDS.botId;
    this.teamId = options.teamId ?? SLACK_TEST_IDS.teamId;
    const ids = {
      botToken: this.botToken,
      botUserId: this.botUserId,
      botId: this.botId,
      teamId: this.teamId,
      teamName: options.teamName ?? "KMS Test",
      appId: options.appId ?? SLACK_TEST_IDS.appId,
    };
    this.ws = new Workspace(options, ids, this.violations, () => this.origin);
    this.handlers = {
      ...chatMethods(this.ws),
      ...viewMethods(this.ws),
      ...otherMethods(this.ws),
      "apps.connections.open": () =>
        this.socketUrl ? { ok: true, url: this.socketUrl() } : fail("internal_error"),
    };
  }

  get url(): string {
    return `${this.origin}/api/`;
  }

  get messages(): StoredMessage[] {
    return [...this.ws.storedMessages.values()];
  }

  get ephemerals(): StoredEphemeral[] {
    return this.ws.ephemerals;
  }

  get views(): JsonObject[] {
    return [...this.ws.storedViews.values()];
  }

  get uploadedFiles(): UploadedFile[] {
    return this.ws.uploadedFiles;
  }

  async listen(port = 0): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, "127.0.0.1", () => resolve());
    });
    const address = this.server.address() as AddressInfo;
    this.origin = `http://127.0.0.1:${address.port}`;
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
    this.faults = new Map();
    this.isDown = false;
    this.ws.reset();
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

  newTriggerId(options: { ageMs?: number; user?: string } = {}): string {
    return this.ws.newTriggerId(options);
  }

  newResponseUrl(context?: ResponseUrlContext): string {
    return this.ws.newResponseUrl(context);
  }

  addMessage(message: Parameters<Workspace["addMessage"]>[0]): string {
    const ts = this.ws.addMessage(message);
    this.notify();
    return ts;
  }

  addEphemeral(message: Omit<StoredEphemeral, "ts">): string {
    const ts = this.ws.addEphemeral(message);
    this.notify();
    return ts;
  }

  findView(callbackId?: string): JsonObject | undefined {
    return this.views.findLast(
      (view) => callbackId === undefined || view.callback_id === callbackId,
    );
  }

  isMember(channel: string): boolean {
    return this.ws.isMember(channel);
  }

  // --- what a person sees (the playground) ---------------------------------------------------

  modalStack(user: string): JsonObject[] {
    return modalStack(this.ws, user);
  }

  closeModal(user: string, all = false): void {
    closeModal(this.ws, user, all);
    this.notify();
  }

  applyResponseAction(user: string, action: "update" | "push", view: unknown): JsonObject {
    const shown = applyResponseAction(this.ws, user, action, view);
    this.notify();
    return shown;
  }

  homeView(user: string): JsonObject | undefined {
    const id = this.ws.homeViews.get(user);
    return id ? this.ws.storedViews.get(id) : undefined;
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
    const pending = this.ws.pendingUploads.get(fileId);
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
    const answer = this.ws.answerResponseUrl(id, body);
    this.responses.push({ url, body, at: Date.now(), status: answer.status });
    this.notify();
    return answer;
  }
}

/** Starts a fake Slack Web API on 127.0.0.1 (a random port, or `port`). Close it with `fake.close()`. */
export async function startFakeSlack(options: FakeSlackOptions = {}, port = 0): Promise<FakeSlack> {
  const fake = new FakeSlackServer(options);
  await fake.listen(port);
  return fake;
}
