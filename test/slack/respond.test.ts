// `/kms` answers are posted to the command's response_url by postReply (src/slack/kit/respond.ts),
// not by Bolt's `respond`: an ephemeral JSON message, a shared reply serialized once, and a
// refusal or an unreachable URL reported to the caller (who logs it) rather than lost.
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Reply } from "../../src/slack/kit/command.js";
import { postReply, ReplyRefused } from "../../src/slack/kit/respond.js";

interface Received {
  path: string;
  method: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A stand-in for Slack's response_url host: records each post, answers `status`. */
async function replyHost(status: () => number = () => 200) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({
        path: req.url ?? "",
        method: req.method ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks),
      });
      const code = status();
      res.writeHead(code, { "content-type": "text/plain" });
      res.end(code === 200 ? "ok" : "expired_url");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    received,
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const fleetReply = (): Reply => ({
  text: "2 Dedicated KMS instance(s)",
  blocks: [
    {
      type: "section",
      text: { type: "mrkdwn", text: "*kst-a* payments · international · €, 你好 :key:" },
    },
    { type: "section", text: { type: "mrkdwn", text: "*kst-b* ledger · china" } },
  ],
});

describe("postReply", () => {
  let host: Awaited<ReturnType<typeof replyHost>>;
  let status = 200;
  beforeEach(async () => {
    status = 200;
    host = await replyHost(() => status);
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await host.close();
  });

  it("posts the reply to the response_url as an ephemeral JSON message, text and blocks intact", async () => {
    const reply = fleetReply();
    await postReply(host.url("/commands/T0TEST/1234/abcd"), reply);
    expect(host.received).toHaveLength(1);
    const [post] = host.received;
    expect(post.method).toBe("POST");
    expect(post.path).toBe("/commands/T0TEST/1234/abcd");
    expect(post.headers["content-type"]).toBe("application/json");
    // Non-ASCII text: the length sent is the bytes', so nothing is cut off.
    expect(Number(post.headers["content-length"])).toBe(post.body.length);
    expect(JSON.parse(post.body.toString("utf8"))).toEqual({
      response_type: "ephemeral",
      text: reply.text,
      blocks: reply.blocks,
    });
  });

  it("a reply of text only is ephemeral too", async () => {
    await postReply(host.url("/r/1"), { text: "Balance: USD 0.00" });
    expect(JSON.parse(host.received[0].body.toString("utf8"))).toEqual({
      response_type: "ephemeral",
      text: "Balance: USD 0.00",
    });
  });

  it("posting one shared reply to several people sends identical bytes, serialized once", async () => {
    const reply = fleetReply();
    const stringify = vi.spyOn(JSON, "stringify");
    await postReply(host.url("/r/first"), reply);
    await postReply(host.url("/r/second"), reply);
    await Promise.all([
      postReply(host.url("/r/third"), reply),
      postReply(host.url("/r/fourth"), reply),
    ]);
    const bodies = host.received.map((r) => r.body);
    expect(bodies).toHaveLength(4);
    for (const body of bodies.slice(1)) expect(body.equals(bodies[0])).toBe(true);
    const ofThisReply = stringify.mock.calls.filter(
      ([value]) => (value as { text?: unknown } | null)?.text === reply.text,
    );
    expect(ofThisReply).toHaveLength(1);
  });

  it("another reply object is sent as itself, not as an earlier reply's bytes", async () => {
    await postReply(host.url("/r/a"), { text: "kst-a is disabled" });
    await postReply(host.url("/r/b"), { text: "kst-a is active again." });
    const texts = host.received.map((r) => JSON.parse(r.body.toString("utf8")).text);
    expect(texts).toEqual(["kst-a is disabled", "kst-a is active again."]);
  });

  it.each([404, 410, 500])(
    "an answer of HTTP %i rejects with ReplyRefused carrying the status",
    async (code) => {
      status = code;
      const posting = postReply(host.url("/r/expired"), { text: "too late" });
      await expect(posting).rejects.toBeInstanceOf(ReplyRefused);
      await expect(posting).rejects.toMatchObject({ status: code });
      await expect(posting).rejects.toThrow(`HTTP ${code}`);
      // The post did reach the host: refused, not lost on the way.
      expect(host.received).toHaveLength(1);
    },
  );

  it("a 2xx other than 200 is accepted", async () => {
    status = 204;
    await expect(postReply(host.url("/r/204"), { text: "ok" })).resolves.toBeUndefined();
  });

  it("an unreachable response_url rejects (and is no ReplyRefused)", async () => {
    const gone = await replyHost();
    const url = gone.url("/r/nobody");
    await gone.close();
    const posting = postReply(url, { text: "hello?" });
    await expect(posting).rejects.toThrow();
    await expect(posting).rejects.not.toBeInstanceOf(ReplyRefused);
  });

  it("a URL that is not http(s) rejects without posting anything", async () => {
    await expect(postReply("file:///etc/passwd", { text: "x" })).rejects.toThrow(
      "not a response_url",
    );
    expect(host.received).toEqual([]);
  });
});

describe("postReply on a kept-alive connection the host has dropped", () => {
  it("sends the reply again on a fresh connection, once", async () => {
    // The host answers the first request of each connection and drops the connection on the
    // second without answering: what a load balancer closing an idle keep-alive socket does.
    const perSocket = new WeakMap<object, number>();
    let answered = 0;
    const server = createServer((req, res) => {
      const n = (perSocket.get(req.socket) ?? 0) + 1;
      perSocket.set(req.socket, n);
      if (n > 1) {
        req.socket.destroy();
        return;
      }
      req.resume();
      req.on("end", () => {
        answered++;
        res.writeHead(200, { connection: "keep-alive" });
        res.end("ok");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const url = `http://127.0.0.1:${port}/response/1`;
      await postReply(url, { text: "first" });
      await postReply(url, { text: "second" });
      expect(answered).toBe(2);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
