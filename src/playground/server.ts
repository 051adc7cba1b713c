/**
 * The playground's web server, on 127.0.0.1 only: the page and its assets, a snapshot of what the
 * chosen person sees, a stream that says when it changed, and one POST per thing a person does.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import {
  type BotLink,
  click,
  openHome,
  runCommand,
  sayMessage,
  submit,
  suggest,
} from "./person.js";
import { type SnapshotSources, snapshot } from "./snapshot.js";
import { USERS } from "./world.js";

/** The page's files: plain HTML, CSS and browser modules, served as they are in the source tree. */
const HERE = fileURLToPath(new URL(".", import.meta.url));
const PUBLIC = existsSync(`${HERE}public`)
  ? `${HERE}public/`
  : fileURLToPath(new URL("../../../src/playground/public/", import.meta.url));
/** `/` is the page; `/<name>.js|css` its files (plain names only: nothing outside PUBLIC). */
const assetOf = (path: string): string | undefined =>
  path === "/" ? "index.html" : /^\/([a-z-]+\.(?:js|css))$/.exec(path)?.[1];
const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
};

const userId = z.enum(USERS.map((u) => u.id) as [string, ...string[]]);
const json = z.record(z.string(), z.unknown());
const channelId = z.string().regex(/^[CDG][A-Z0-9]{2,}$/);
const bodies = {
  send: z.object({ user: userId, channel: channelId, text: z.string().trim().min(1).max(4000) }),
  home: z.object({ user: userId }),
  action: z.object({
    user: userId,
    source: z.discriminatedUnion("type", [
      z.object({
        type: z.literal("message"),
        channel: channelId,
        ts: z.string(),
        ephemeral: z.boolean(),
      }),
      z.object({ type: z.literal("view"), viewId: z.string() }),
    ]),
    action: json.and(z.object({ action_id: z.string(), block_id: z.string(), type: z.string() })),
    values: json,
  }),
  suggest: z.object({
    user: userId,
    viewId: z.string(),
    actionId: z.string(),
    blockId: z.string(),
    value: z.string().max(200),
  }),
  submit: z.object({ user: userId, viewId: z.string(), values: json }),
  close: z.object({ user: userId }),
  sweep: z.object({ at: z.iso.datetime({ offset: true }).optional() }),
};

export interface PlaygroundControls {
  link: BotLink;
  sources: SnapshotSources;
  /** Runs the timer now, or after moving the playground's clock to `at`; returns what it did. */
  sweep(at?: number): Promise<string>;
}

type Handler = (body: unknown) => Promise<unknown>;

function routes(c: PlaygroundControls): Record<string, Handler> {
  const { link } = c;
  return {
    "/play/send": async (raw) => {
      const b = bodies.send.parse(raw);
      if (b.text.startsWith("/")) await runCommand(link, b.user, b.channel, b.text);
      else await sayMessage(link, b.user, b.channel, b.text);
      return {};
    },
    "/play/home": async (raw) => openHome(link, bodies.home.parse(raw).user),
    "/play/action": async (raw) => click(link, bodies.action.parse(raw)),
    "/play/suggest": async (raw) => suggest(link, bodies.suggest.parse(raw)),
    "/play/submit": async (raw) => (await submit(link, bodies.submit.parse(raw))) ?? {},
    "/play/close": async (raw) => link.fake.closeModal(bodies.close.parse(raw).user),
    "/play/sweep": async (raw) => {
      const at = bodies.sweep.parse(raw).at;
      return { summary: await c.sweep(at ? Date.parse(at) : undefined) };
    },
  };
}

function reply(
  res: ServerResponse,
  status: number,
  body: unknown,
  type = "application/json",
): void {
  res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
  res.end(typeof body === "string" || Buffer.isBuffer(body) ? body : JSON.stringify(body ?? {}));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  return text === "" ? {} : JSON.parse(text);
}

/** Server-sent events: one `change` per burst of changes in the workspace. */
function changeStream(c: PlaygroundControls) {
  const open = new Set<ServerResponse>();
  let scheduled = false;
  c.link.fake.onChange(() => {
    if (scheduled) return;
    scheduled = true;
    setTimeout(() => {
      scheduled = false;
      for (const res of open) res.write("data: change\n\n");
    }, 30);
  });
  return (req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store" });
    res.write("retry: 1000\n\n");
    open.add(res);
    req.on("close", () => open.delete(res));
  };
}

async function serveGet(c: PlaygroundControls, url: URL, res: ServerResponse): Promise<void> {
  const asset = assetOf(url.pathname);
  if (asset && existsSync(`${PUBLIC}${asset}`)) {
    const type = TYPES[asset.split(".").pop() ?? ""] ?? "text/plain";
    reply(res, 200, await readFile(`${PUBLIC}${asset}`), type);
  } else if (url.pathname === "/play/state") {
    const user = userId.parse(url.searchParams.get("user") ?? USERS[0]?.id);
    reply(res, 200, await snapshot(c.sources, user));
  } else if (url.pathname.startsWith("/play/files/")) {
    const id = url.pathname.slice("/play/files/".length);
    const file = c.link.fake.uploadedFiles.find((f) => f.fileId === id);
    if (!file) return reply(res, 404, { error: "no such file" });
    res.writeHead(200, {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="${file.filename.replace(/[^\w.-]/g, "_")}"`,
    });
    res.end(file.content);
  } else {
    reply(res, 404, { error: "not found" });
  }
}

/** Starts the page's server on 127.0.0.1:`port`. */
export async function startPageServer(c: PlaygroundControls, port: number): Promise<Server> {
  const post = routes(c);
  const events = changeStream(c);
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const handle = async () => {
      if (req.method === "GET" && url.pathname === "/play/events") return events(req, res);
      if (req.method === "GET") return serveGet(c, url, res);
      const route = req.method === "POST" ? post[url.pathname] : undefined;
      if (!route) return reply(res, 404, { error: "not found" });
      return reply(res, 200, (await route(await readJson(req))) ?? {});
    };
    handle().catch((error: unknown) => {
      const message =
        error instanceof z.ZodError
          ? z.prettifyError(error)
          : error instanceof Error
            ? error.message
            : String(error);
      if (!res.headersSent) reply(res, 400, { error: message });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  return server;
}

export const portOf = (server: Server): number => (server.address() as AddressInfo).port;
