import { createServer, type Server } from "node:http";

/**
 * Where `/kms status` posts its answers during the benchmark: Slack's response_url, reduced to
 * what Slack must do with one (read it, answer 200). Reading every 100 KB answer costs the
 * bench process as it would cost Slack; parsing each one too would measure the fake rather
 * than the bot, so the first answer and every 100th are parsed and checked.
 */
export interface ReplySink {
  url(id: number): string;
  /** Answers received, answers whose check failed, and bytes received. */
  readonly received: number;
  readonly wrong: number;
  readonly bytes: number;
  close(): Promise<void>;
}

export async function startReplySink(check: (reply: unknown) => boolean): Promise<ReplySink> {
  let received = 0;
  let wrong = 0;
  let bytes = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => {
      chunks.push(c);
      bytes += c.length;
    });
    req.on("end", () => {
      if (received % 100 === 0) {
        try {
          if (!check(JSON.parse(Buffer.concat(chunks).toString("utf8")))) wrong++;
        } catch {
          wrong++;
        }
      }
      received++;
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("ok");
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: (id) => `http://127.0.0.1:${port}/response/${id}`,
    get received() {
      return received;
    },
    get wrong() {
      return wrong;
    },
    get bytes() {
      return bytes;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
