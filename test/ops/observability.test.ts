// Logs and metrics as an operator meets them: the real bot process's output at LOG_LEVEL=debug
// (HTTP and Socket Mode), and GET /metrics after requests, a failed Slack call and a sweep.
import { afterEach, describe, expect, it } from "vitest";
import { MEMBER_ID, SIGNING_SECRET, startTestBot, type TestBot } from "../helpers/app.js";
import { ADMIN, DAY_MS, fund, seedInstance, T0 } from "../helpers/billing.js";
import { createTestDatabase, type TestDatabase } from "../helpers/databases.js";
import { type FakeSlack, startFakeSlack } from "../helpers/fake-slack.js";
import { type FakeSocket, startFakeSocket } from "../helpers/fake-socket.js";
import { eventCallback, SLACK_TEST_IDS, slashCommand } from "../helpers/slack-requests.js";
import {
  type BotProcess,
  killAllBots,
  renewSubmission,
  send,
  sleep,
  startBot,
} from "../reliability/bot-process.js";

/** Every line the process wrote, parsed: each must be one JSON object. */
function jsonLines(output: string): Array<Record<string, unknown>> {
  return output
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`not a JSON log line: ${line}`);
      }
    });
}

function expectNoSecrets(output: string, fake: FakeSlack, responseUrls: string[]): void {
  const secrets = {
    "bot token": fake.botToken,
    "app-level token": fake.appToken,
    "signing secret": SIGNING_SECRET,
    "verification token": SLACK_TEST_IDS.verificationToken,
  };
  for (const [what, value] of Object.entries(secrets)) {
    expect(output.includes(value), `the ${what} appears in the logs`).toBe(false);
  }
  for (const url of responseUrls) {
    const path = new URL(url).pathname;
    expect(output.includes(path), "a response URL appears in the logs").toBe(false);
  }
  expect(output).not.toMatch(/xox[abeoprs]-|xapp-\d/);
}

describe("logs", () => {
  let fake: FakeSlack;
  let t: TestDatabase;
  let socket: FakeSocket | undefined;
  afterEach(async () => {
    await killAllBots();
    await socket?.close();
    socket = undefined;
    await fake.close();
    await t.destroy();
  });

  async function startLoggingBot(env: Record<string, string>): Promise<BotProcess> {
    t = await createTestDatabase("sqlite");
    fake = await startFakeSlack();
    await seedInstance(t.db, { id: "kst-a", expires_at: Date.now() + 10 * DAY_MS });
    if (env.SLACK_APP_TOKEN === "socket") {
      socket = await startFakeSocket(fake);
      env.SLACK_APP_TOKEN = fake.appToken;
    }
    return startBot({ databaseUrl: t.url, fake, env: { LOG_LEVEL: "debug", ...env } });
  }

  it("HTTP: JSON lines, one per request with kind, id, outcome and ms, and no secret anywhere", async () => {
    const bot = await startLoggingBot({});
    const urls = [fake.newResponseUrl(), fake.newResponseUrl()];
    const command = slashCommand({ text: "balance", userId: MEMBER_ID, responseUrl: urls[0] });
    const topup = slashCommand({ text: "topup 12.34", userId: ADMIN, responseUrl: urls[1] });
    for (const request of [command, topup, renewSubmission("V0LOG", "kst-a", 1, MEMBER_ID)]) {
      expect((await send(bot.url, request)).kind).toBe("response");
    }
    await send(bot.url, eventCallback({ event: { type: "app_home_opened", user: MEMBER_ID } }));
    await fake.waitFor("views.publish");
    await sleep(200);
    const lines = jsonLines(bot.output());
    const requests = lines.filter((l) => l.msg === "request");
    // A line is written when a request's work is done (after the ack too), so in any order.
    const byKind = (a: unknown[], b: unknown[]) => String(a).localeCompare(String(b));
    expect(requests.map((l) => [l.kind, l.id, l.outcome]).sort(byKind)).toEqual(
      [
        ["command", "/kms balance", "ok"],
        ["command", "/kms topup", "ok"],
        ["view", "renew_modal", "ok"],
        ["event", "app_home_opened", "ok"],
      ].sort(byKind),
    );
    for (const line of requests) expect(line.ms).toEqual(expect.any(Number));
    expect(
      lines.some((l) => l.level === 20),
      "debug lines are written at LOG_LEVEL=debug",
    ).toBe(true);
    expectNoSecrets(bot.output(), fake, urls);
  });

  it("Socket Mode: no secret in any line either", async () => {
    const bot = await startLoggingBot({ SLACK_APP_TOKEN: "socket" });
    const live = socket as FakeSocket;
    await live.waitForConnection(1);
    const url = fake.newResponseUrl();
    await live.deliver(slashCommand({ text: "balance", responseUrl: url }));
    live.requestRefresh();
    await live.waitForConnection(2);
    await sleep(200);
    const requests = jsonLines(bot.output()).filter((l) => l.msg === "request");
    expect(requests).toEqual([expect.objectContaining({ kind: "command", id: "/kms balance" })]);
    expectNoSecrets(bot.output(), fake, [url]);
  });
});

/** The value of one sample in Prometheus text, or undefined. */
function sample(text: string, name: string, labels = ""): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.split(" ").at(-1));
}

describe("GET /metrics", () => {
  let s: TestBot;
  afterEach(async () => {
    await s.close();
  });

  it("counts a command's answer that Slack refused at its response_url", async () => {
    s = await startTestBot();
    // The answer and then the apology both refused (an expired response_url answers 404).
    s.fake.failNext("response_url", { status: 404, times: 2 });
    const response = await s.send(
      slashCommand({
        text: "balance",
        triggerId: s.fake.newTriggerId(),
        responseUrl: s.fake.newResponseUrl(),
      }),
    );
    expect(response.status).toBe(200);
    const refused = async () =>
      sample(
        await (await fetch(`${s.url}/metrics`)).text(),
        "kms_slack_api_errors_total",
        '{method="response_url",error="http_404"}',
      );
    const deadline = Date.now() + 5_000;
    while ((await refused()) !== 2 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(await refused()).toBe(2);
  });

  it("counts requests, Slack errors, sweeps, warnings, orders and refunds", async () => {
    s = await startTestBot();
    await seedInstance(s.db, { id: "kst-a", expires_at: T0 + 10 * DAY_MS });
    await fund(s.billing, 500_000);
    await s.command("balance");
    s.fake.failNext("views.open", { error: "expired_trigger_id" });
    await s.command("renew kst-a");
    await s.fake.waitFor("views.open", (c) => c.response?.ok === false);
    await s.send(renewSubmission("V0METRICS", "kst-a", 1, MEMBER_ID));
    const summary = await s.bot.sweep({ sleep: async () => {} });

    const res = await fetch(`${s.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();
    expect(sample(text, "kms_requests_total", '{kind="command",outcome="ok"}')).toBe(2);
    expect(sample(text, "kms_requests_total", '{kind="view",outcome="ok"}')).toBe(1);
    expect(
      sample(text, "kms_request_duration_seconds_count", '{kind="command",outcome="ok"}'),
    ).toBe(2);
    expect(
      sample(
        text,
        "kms_slack_api_errors_total",
        '{method="views.open",error="expired_trigger_id"}',
      ),
    ).toBe(1);
    expect(sample(text, "kms_sweep_runs_total", '{outcome="ok"}')).toBe(1);
    expect(sample(text, "kms_sweep_duration_seconds_count")).toBe(1);
    expect(sample(text, "kms_sweep_last_success_timestamp_seconds")).toBeGreaterThan(0);
    expect(sample(text, "kms_warnings_sent_total")).toBe(summary.posted);
    expect(sample(text, "kms_warnings_failed_total")).toBe(summary.failed);
    expect(sample(text, "kms_warnings_backlog")).toEqual(expect.any(Number));
    expect(sample(text, "kms_warnings_due")).toEqual(expect.any(Number));
    expect(sample(text, "kms_orders", '{kind="renewal"}')).toBe(1);
    expect(sample(text, "kms_orders_cents", '{kind="renewal"}')).toBe(179_900);
    expect(text).toContain("# TYPE kms_refunds gauge");
    expect(text).not.toContain("kms_slack_socket_connected");
  });

  it("shows the socket's state in Socket Mode", async () => {
    s = await startTestBot({ socket: true });
    await s.socket?.waitForConnection(1);
    const text = await (await fetch(`${s.url}/metrics`)).text();
    expect(sample(text, "kms_slack_socket_connected")).toBe(1);
  });
});
