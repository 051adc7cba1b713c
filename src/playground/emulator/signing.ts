/**
 * Slack's request signing (v0: HMAC-SHA256 of `v0:{timestamp}:{body}`) and a helper that POSTs a
 * built request to a running Bolt app over real HTTP, signed exactly as Slack signs it.
 */
import { createHmac } from "node:crypto";

export interface SlackRequest {
  body: string;
  contentType: string;
}

export interface SlackSignatureHeaders {
  "x-slack-request-timestamp": string;
  "x-slack-signature": string;
}

const nowSec = (): number => Math.floor(Date.now() / 1000);

/** Headers Slack adds: `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}` keyed by the signing secret. */
export function signRequest(
  body: string,
  signingSecret: string,
  timestampSec: number = nowSec(),
): SlackSignatureHeaders {
  const digest = createHmac("sha256", signingSecret)
    .update(`v0:${timestampSec}:${body}`)
    .digest("hex");
  return {
    "x-slack-request-timestamp": String(timestampSec),
    "x-slack-signature": `v0=${digest}`,
  };
}

export interface PostToAppOptions {
  signingSecret: string;
  /** Seconds; signs with it (a stale one makes a correctly signed but stale request). */
  timestamp?: number;
  /** Replaces the computed `x-slack-signature`. */
  signature?: string;
  /** Extra headers, e.g. `{ "x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout" }`. */
  headers?: Record<string, string>;
  /** Default `/slack/events`. */
  path?: string;
}

export interface AppResponse {
  status: number;
  text: string;
  json?: unknown;
  headers: Headers;
}

/** POSTs a built request to the app (`${baseUrl}/slack/events`) with Slack's signature headers. */
export async function postToApp(
  baseUrl: string,
  request: SlackRequest,
  options: PostToAppOptions,
): Promise<AppResponse> {
  const signature = signRequest(request.body, options.signingSecret, options.timestamp);
  const headers: Record<string, string> = {
    "content-type": request.contentType,
    ...signature,
    ...(options.signature !== undefined ? { "x-slack-signature": options.signature } : {}),
    ...options.headers,
  };
  const url = `${baseUrl.replace(/\/+$/, "")}${options.path ?? "/slack/events"}`;
  const response = await fetch(url, { method: "POST", headers, body: request.body });
  const text = await response.text();
  let json: unknown;
  try {
    json = text === "" ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, text, json, headers: response.headers };
}
