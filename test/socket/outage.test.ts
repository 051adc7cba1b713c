// Slack away for 40 s: apps.connections.open answers HTTP 500 to every attempt. The bot keeps
// trying with its own backoff (defaults, nothing shortened), /healthz says so once the socket
// has been down for more than 10 s, and it reconnects and serves once Slack is back.
import { afterEach, describe, expect, it } from "vitest";
import { shown, socketCommand, startTestBot, type TestBot } from "../helpers/app.js";
import { fund } from "../helpers/billing.js";
import type { FakeSocket } from "../helpers/fake-socket.js";
import { sleep } from "../reliability/bot-process.js";

const OUTAGE_MS = 40_000;

async function health(s: TestBot): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${s.url}/healthz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("Socket Mode through a Slack outage", () => {
  let s: TestBot | undefined;
  afterEach(async () => {
    await s?.close();
  });

  it("survives 40 s of HTTP 500 from apps.connections.open, reports it on /healthz, then reconnects", async () => {
    s = await startTestBot({ socket: true });
    const socket = s.socket as FakeSocket;
    await socket.waitForConnection(1);
    expect(await health(s)).toEqual({
      status: 200,
      body: { ok: true, database: "sqlite", slack: "connected" },
    });

    s.fake.failNext("apps.connections.open", { status: 500, times: 1_000_000 });
    const cutAt = Date.now();
    socket.drop();
    await sleep(12_000);
    const down = await health(s);
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ ok: false, slack: "disconnected" });
    // Down since the drop, not since start-up.
    const since = Date.parse(String(down.body.since));
    expect(since).toBeGreaterThanOrEqual(cutAt - 1_000);
    expect(since).toBeLessThanOrEqual(cutAt + 5_000);

    await sleep(OUTAGE_MS - 12_000);
    const attempts = s.fake.callsTo("apps.connections.open").filter((c) => c.status === 500);
    // Patient but not idle: the backoff (1 s doubling to 10 s) makes several attempts in 40 s
    // and spaces them out (a tight loop would make thousands).
    expect(attempts.length).toBeGreaterThanOrEqual(3);
    expect(attempts.length).toBeLessThan(40);
    s.fake.clearFaults("apps.connections.open");

    await socket.waitForConnection(2, 15_000);
    expect((await health(s)).status).toBe(200);
    await fund(s.billing, 4_200);
    expect(shown(await socketCommand(s, "balance"))).toContain("USD 42.00");
  }, 90_000);
});
