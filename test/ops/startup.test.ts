// Honest start-up: the real bot process (`node dist/src/main.js`) either starts or says in one
// line what is wrong and what to do, with a non-zero exit and no stack trace.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SIGNING_SECRET } from "../helpers/app.js";
import { ROOT } from "../helpers/cli-process.js";
import { PG_URL } from "../helpers/databases.js";
import { type FakeSlack, startFakeSlack } from "../helpers/fake-slack.js";
import { freePort, killAllBots, sleep, startBot } from "../reliability/bot-process.js";

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

let dir: string;
let fake: FakeSlack;

/** Runs the bot with `env` over a working base, expecting it to stop by itself. */
async function runBot(env: Record<string, string>): Promise<Exit> {
  const port = String(await freePort());
  const child = spawn(process.execPath, [join(ROOT, "dist/src/main.js")], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? "",
      SLACK_BOT_TOKEN: fake.botToken,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: fake.url,
      DATABASE_URL: `sqlite:${join(dir, "kms.sqlite3")}`,
      KMS_ALERT_CHANNEL: "C0ALERTS",
      PORT: port,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => {
    stdout += d;
  });
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  return new Promise((resolve) =>
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

/** One line on stderr, matching `pattern`, and nothing that looks like a stack trace. */
function expectOneLine(exit: Exit, pattern: RegExp): void {
  const lines = exit.stderr.trimEnd().split("\n");
  expect(lines, exit.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(`${exit.stdout}${exit.stderr}`).not.toMatch(/\n\s+at /);
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "kms-start-"));
  fake = await startFakeSlack();
});
afterEach(async () => {
  await killAllBots();
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("Slack refusing the bot token stops the bot with exit 2", () => {
  it.each(["invalid_auth", "account_inactive", "token_revoked"])("%s", async (code) => {
    fake.failNext("auth.test", { error: code });
    const exit = await runBot({});
    expect(exit.code).toBe(2);
    expectOneLine(exit, new RegExp(`^kms-bot: Slack refused SLACK_BOT_TOKEN \\(${code}\\): `));
    expect(exit.stderr).not.toContain(fake.botToken);
  });
});

it("Socket Mode: Slack refusing the app-level token stops the bot with exit 2", async () => {
  const exit = await runBot({ SLACK_APP_TOKEN: "xapp-1-not-this-one" });
  expect(exit.code).toBe(2);
  expectOneLine(exit, /^kms-bot: Slack refused SLACK_APP_TOKEN \(invalid_auth\): /);
});

describe("the bot starts while Slack is out of reach", () => {
  it("keeps asking auth.test, says so on /healthz, and is healthy once Slack answers", async () => {
    fake.down(true);
    const bot = await startBot({ databaseUrl: `sqlite:${join(dir, "kms.sqlite3")}`, fake });
    const early = await fetch(`${bot.url}/healthz`);
    expect(await early.json()).toMatchObject({ ok: true, slack: "unreachable" });
    fake.down(false);
    for (let i = 0; i < 100; i++) {
      const body = (await (await fetch(`${bot.url}/healthz`)).json()) as Record<string, unknown>;
      if (body.slack === undefined) break;
      await sleep(200);
    }
    expect(await (await fetch(`${bot.url}/healthz`)).json()).toEqual({
      ok: true,
      database: "sqlite",
    });
    expect(bot.running()).toBe(true);
  });
});

describe("start-up problems are one line and a non-zero exit", () => {
  it("placeholders copied from .env.example", async () => {
    const exit = await runBot({
      SLACK_BOT_TOKEN: "xoxb-replace-me",
      SLACK_SIGNING_SECRET: "replace-me-signing-secret",
      KMS_ALERT_CHANNEL: "C0000000000",
    });
    expect(exit.code).toBe(2);
    for (const name of ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "KMS_ALERT_CHANNEL"]) {
      expect(exit.stderr).toMatch(
        new RegExp(`${name}: is still the placeholder from .env.example`),
      );
    }
  });

  it("a port in use", async () => {
    const port = await freePort();
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(port, resolve));
    try {
      const exit = await runBot({ PORT: String(port) });
      expect(exit.code).toBe(1);
      expectOneLine(exit, new RegExp(`^kms-bot: port ${port} is already in use: .*PORT`));
    } finally {
      taken.close();
    }
  });

  it("a SQLite path that can't be written", async () => {
    const file = join(dir, "not-a-folder");
    writeFileSync(file, "");
    const exit = await runBot({ DATABASE_URL: `sqlite:${join(file, "kms.sqlite3")}` });
    expect(exit.code).toBe(1);
    expectOneLine(exit, /^kms-bot: cannot write the SQLite database .*DATABASE_URL/);
  });

  it("PostgreSQL refusing connections", async () => {
    const port = await freePort();
    const exit = await runBot({ DATABASE_URL: `postgres://kms@127.0.0.1:${port}/kms` });
    expect(exit.code).toBe(1);
    expectOneLine(
      exit,
      new RegExp(`^kms-bot: PostgreSQL at 127.0.0.1:${port} refuses connections`),
    );
  });

  it.runIf(PG_URL)("a PostgreSQL database that does not exist", async () => {
    const url = new URL(PG_URL ?? "");
    url.pathname = "/kms_bot_no_such_database";
    const exit = await runBot({ DATABASE_URL: url.toString() });
    expect(exit.code).toBe(1);
    expectOneLine(
      exit,
      /^kms-bot: PostgreSQL database "kms_bot_no_such_database" does not exist .*createdb/,
    );
  });
});
