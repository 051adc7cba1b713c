import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { Reply } from "./command.js";

/** How long Slack gets to take a reply posted to a response_url. */
const REPLY_TIMEOUT_MS = 10_000;

/** Connections to Slack's response_url host, kept open between replies. */
const agents = {
  "http:": new HttpAgent({ keepAlive: true, maxSockets: 32 }),
  "https:": new HttpsAgent({ keepAlive: true, maxSockets: 32 }),
};

/**
 * Each reply's ephemeral message as the bytes posted, made once per reply object: the fleet
 * list is one shared reply of about 100 KB, and serializing it (and letting fetch re-encode
 * it) for everyone who asked cost more than everything else a `/kms status` does.
 */
const encoded = new WeakMap<Reply, Buffer>();

function bytesOf(reply: Reply): Buffer {
  let bytes = encoded.get(reply);
  if (!bytes) {
    bytes = Buffer.from(JSON.stringify({ response_type: "ephemeral", ...reply }), "utf8");
    encoded.set(reply, bytes);
  }
  return bytes;
}

/** Slack refused a reply posted to a response_url (expired: 30 minutes, or 5 uses). */
export class ReplyRefused extends Error {
  constructor(readonly status: number) {
    super(`Slack refused the reply to the response_url: HTTP ${status}`);
  }
}

/**
 * Posts `reply` to a command's response_url as an ephemeral message (what Bolt's `respond`
 * does, on kept-alive connections and without serializing a shared reply again).
 */
export async function postReply(responseUrl: string, reply: Reply): Promise<void> {
  const url = new URL(responseUrl);
  if (url.protocol !== "https:" && url.protocol !== "http:")
    throw new Error(`not a response_url: ${url.protocol}`);
  const body = bytesOf(reply);
  try {
    await post(url, body);
  } catch (error) {
    // A kept-alive connection the other side had just closed: the reply never left, send
    // it once more on a fresh one (what Node's documentation advises for reused sockets).
    if (!(error as { reusedSocket?: boolean }).reusedSocket) throw error;
    await post(url, body);
  }
}

/** What a failed reply is counted as in kms_slack_api_errors_total. */
export function replyFailure(error: unknown): string {
  return error instanceof ReplyRefused ? `http_${error.status}` : "network";
}

function post(url: URL, body: Buffer): Promise<void> {
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method: "POST",
        agent: agents[url.protocol as "http:" | "https:"],
        headers: { "content-type": "application/json", "content-length": body.length },
        timeout: REPLY_TIMEOUT_MS,
      },
      (res) => {
        res.resume();
        res.on("end", () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve();
          else reject(new ReplyRefused(status));
        });
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error("Slack did not take the reply in time")));
    req.on("error", (error: NodeJS.ErrnoException) => {
      const stale = req.reusedSocket && error.code === "ECONNRESET";
      reject(stale ? Object.assign(error, { reusedSocket: true }) : error);
    });
    req.end(body);
  });
}
