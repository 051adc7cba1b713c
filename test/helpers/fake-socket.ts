/**
 * A fake of Slack's Socket Mode endpoint: a real WebSocket server on 127.0.0.1 that speaks the
 * protocol the way Slack does. Each connection gets `hello`; the test delivers envelopes
 * (`slash_commands`, `interactive`, `events_api`) and reads the app's acks
 * (`{ envelope_id, payload }`); it can ask for a refresh (`disconnect` with
 * `refresh_requested`) or cut the TCP connection without a close frame.
 *
 * `startFakeSocket(fake)` makes the fake Web API answer `apps.connections.open` with this
 * server's `ws://` URL (a fresh ticket each time), as Slack does.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { type WebSocket, WebSocketServer } from "ws";
import type { FakeSlack, JsonObject } from "./fake-slack.js";
import type { SlackRequest } from "./slack-requests.js";

export interface SocketAck {
  envelope_id: string;
  /** What the app acknowledged with (a command's reply, a modal's response_action, ...). */
  payload?: JsonObject;
}

export type EnvelopeType = "slash_commands" | "interactive" | "events_api";

export interface FakeSocket {
  /** Connections that got `hello` so far. */
  readonly connections: number;
  /** Waits until the `n`-th connection got its `hello` (default: at least one). */
  waitForConnection(n?: number, timeoutMs?: number): Promise<void>;
  /**
   * Sends a request (built with test/helpers/slack-requests.ts) as an envelope on the current
   * connection and waits for its ack. Reuse `envelopeId` to deliver the same envelope again.
   */
  deliver(
    request: SlackRequest,
    options?: { envelopeId?: string; retryAttempt?: number; timeoutMs?: number },
  ): Promise<SocketAck>;
  /** Asks the app to reconnect, as Slack does before recycling a connection. */
  requestRefresh(): void;
  /** Cuts the TCP connection: no close frame, no goodbye. */
  drop(): void;
  close(): Promise<void>;
}

/** The envelope Slack would send for a request the HTTP tests POST. */
export function envelopeOf(request: SlackRequest): { type: EnvelopeType; payload: JsonObject } {
  if (request.contentType.startsWith("application/json")) {
    return { type: "events_api", payload: JSON.parse(request.body) as JsonObject };
  }
  const form = new URLSearchParams(request.body);
  const interactive = form.get("payload");
  if (interactive !== null) {
    return { type: "interactive", payload: JSON.parse(interactive) as JsonObject };
  }
  return { type: "slash_commands", payload: Object.fromEntries(form) };
}

class FakeSocketServer implements FakeSocket {
  connections = 0;
  private readonly http = createServer((_req, res) => {
    res.writeHead(426).end();
  });
  private readonly wss = new WebSocketServer({ noServer: true });
  private current?: { ws: WebSocket; raw: Socket };
  private readonly acks = new Map<string, (ack: SocketAck) => void>();
  private readonly waiters = new Set<() => void>();
  origin = "";

  constructor() {
    this.http.on("upgrade", (req: IncomingMessage, raw: Socket, head: Buffer) => {
      this.wss.handleUpgrade(req, raw, head, (ws) => this.accept(ws, raw));
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.http.once("error", reject);
      this.http.listen(0, "127.0.0.1", () => resolve());
    });
    this.origin = `ws://127.0.0.1:${(this.http.address() as AddressInfo).port}`;
  }

  /** A new ticket per `apps.connections.open`, like Slack's. */
  newUrl(): string {
    return `${this.origin}/link/?ticket=${randomBytes(8).toString("hex")}&app_id=A0TEST`;
  }

  private accept(ws: WebSocket, raw: Socket): void {
    this.current = { ws, raw };
    ws.on("message", (data) => {
      let message: SocketAck;
      try {
        message = JSON.parse(String(data)) as SocketAck;
      } catch {
        return;
      }
      this.acks.get(message.envelope_id)?.(message);
    });
    ws.on("close", () => {
      if (this.current?.ws === ws) this.current = undefined;
    });
    ws.send(
      JSON.stringify({
        type: "hello",
        num_connections: 1,
        debug_info: { host: "fake-socket", approximate_connection_time: 18060 },
        connection_info: { app_id: "A0TEST" },
      }),
    );
    this.connections += 1;
    for (const waiter of [...this.waiters]) waiter();
  }

  waitForConnection(n = 1, timeoutMs = 10_000): Promise<void> {
    if (this.connections >= n && this.current) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.connections < n || !this.current) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`fake socket: ${this.connections} connection(s), not ${n}, in time`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  deliver(
    request: SlackRequest,
    options: { envelopeId?: string; retryAttempt?: number; timeoutMs?: number } = {},
  ): Promise<SocketAck> {
    const ws = this.current?.ws;
    if (!ws) return Promise.reject(new Error("fake socket: no connection to deliver on"));
    const envelopeId = options.envelopeId ?? randomBytes(8).toString("hex");
    const { type, payload } = envelopeOf(request);
    const timeoutMs = options.timeoutMs ?? 3_000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.acks.delete(envelopeId);
        reject(
          new Error(`fake socket: envelope ${envelopeId} (${type}) not acked in ${timeoutMs} ms`),
        );
      }, timeoutMs);
      this.acks.set(envelopeId, (ack) => {
        clearTimeout(timer);
        this.acks.delete(envelopeId);
        resolve(ack);
      });
      ws.send(
        JSON.stringify({
          envelope_id: envelopeId,
          type,
          payload,
          accepts_response_payload: type !== "events_api",
          ...(type === "events_api"
            ? { retry_attempt: options.retryAttempt ?? 0, retry_reason: "" }
            : {}),
        }),
      );
    });
  }

  requestRefresh(): void {
    this.current?.ws.send(
      JSON.stringify({
        type: "disconnect",
        reason: "refresh_requested",
        debug_info: { host: "fake-socket" },
      }),
    );
  }

  drop(): void {
    this.current?.raw.destroy();
    this.current = undefined;
  }

  async close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }
}

/** Starts a fake Socket Mode endpoint and points `fake`'s `apps.connections.open` at it. */
export async function startFakeSocket(fake: FakeSlack): Promise<FakeSocket> {
  const socket = new FakeSocketServer();
  await socket.listen();
  fake.useSocket(() => socket.newUrl());
  return socket;
}
