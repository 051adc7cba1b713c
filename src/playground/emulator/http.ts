/** HTTP plumbing of the emulator: reading Web API requests as Slack accepts them, answering. */
import type { IncomingMessage, ServerResponse } from "node:http";
import { isObject } from "./blockkit-rules.js";
import type { Fault, JsonObject } from "./types.js";

/** Form fields WebClient JSON-encodes (it stringifies every non-scalar argument). */
const JSON_FIELDS = new Set(["blocks", "attachments", "view", "files", "metadata", "unfurls"]);

export type Handler = (args: JsonObject) => JsonObject;

export interface Answer {
  status: number;
  body: JsonObject;
  headers?: Record<string, string>;
}

export interface QueuedFault extends Fault {
  remaining: number;
}

export const fail = (error: string, extra: JsonObject = {}): JsonObject => ({
  ok: false,
  error,
  ...extra,
});

export const str = (value: unknown): string | undefined =>
  typeof value === "string" && value !== "" ? value : undefined;

export const matches = (list: Array<string | RegExp> | undefined, id: string): boolean =>
  (list ?? []).some((entry) => (typeof entry === "string" ? entry === id : entry.test(id)));

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Decodes a Web API request body the way Slack accepts them; returns an error code if unreadable. */
export async function parseArgs(contentType: string, raw: Buffer, query: URLSearchParams) {
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
export async function uploadContent(contentType: string, raw: Buffer): Promise<Buffer> {
  if (!contentType.startsWith("multipart/form-data")) return raw;
  const form = await new Response(raw, { headers: { "content-type": contentType } }).formData();
  const values = [...form.values()];
  const file = values.find((value) => typeof value !== "string") ?? values[0] ?? "";
  if (typeof file === "string") return Buffer.from(file, "utf8");
  return Buffer.from(await file.arrayBuffer());
}

export function send(res: ServerResponse, answer: Answer): void {
  if (res.destroyed || res.writableEnded) return;
  res.writeHead(answer.status, {
    "content-type": "application/json; charset=utf-8",
    ...answer.headers,
  });
  res.end(JSON.stringify(answer.body));
}
