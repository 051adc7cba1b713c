// kms-bot as real processes against the fake account: kill -9 between RenewInstance and
// recording its answer, then a restart; and the start-up AccessKey check.
import { spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { getInstance } from "../../src/store/instances.js";
import { listOrdersByStatus } from "../../src/store/orders.js";
import { accountFleet, alibabaEnv } from "../helpers/alibaba.js";
import { type ProcessResult, ROOT, runCliProcess, startCli } from "../helpers/cli-process.js";
import { createTestDatabase, DATABASES, type TestDatabase } from "../helpers/databases.js";
import { type FakeBss, startFakeBss, TEST_ACCESS_KEY_SECRET } from "../helpers/fake-bss.js";
import { type FakeSlack, startFakeSlack } from "../helpers/fake-slack.js";
import { BOT_ALERTS, freePort, killAllBots, startBot } from "../reliability/bot-process.js";

describe.each(DATABASES)("kms-bot processes on the Alibaba Cloud account (%s)", (dbId) => {
  let t: TestDatabase;
  let fake: FakeBss;
  let env: Record<string, string>;

  beforeEach(async () => {
    t = await createTestDatabase(dbId);
    fake = await startFakeBss({ instances: accountFleet(1, Date.now()), balanceCents: 10_000_000 });
    env = { DATABASE_URL: t.processUrl, KMS_TIMEZONE: "UTC", ...alibabaEnv(fake) };
  });
  afterEach(async () => {
    await fake.close();
    await t.destroy();
  });

  it("kill -9 after the account renewed but before the answer was recorded: no double renewal, no lost order", async () => {
    expect((await runCliProcess(["sync"], env)).code).toBe(0);
    // The account carries out the renewal; its answer never reaches the process.
    fake.failNext("RenewInstance", { kind: "hang", apply: true });
    const arrived = fake.waitFor("RenewInstance");
    const { child, done } = startCli(["renew", "kst-0000", "3", "--key", "crash-1"], env);
    await arrived;
    child.kill("SIGKILL");
    expect((await done).signal).toBe("SIGKILL");
    const [submitted] = await listOrdersByStatus({ tx: t.db }, "submitted");
    expect(submitted).toMatchObject({ instance_id: "kst-0000", months: 3, account_order_id: null });
    expect(fake.state.orders).toHaveLength(1);

    // The restart (the next sync, as the timer's sweep would) finishes it with the same token.
    const restart = await runCliProcess(["sync"], env);
    expect(restart.stdout).toMatch(/^ORD-\d{6} \(kst-0000, 3 months\): paid\n/);
    const [paid] = await listOrdersByStatus({ tx: t.db }, "paid");
    expect(paid).toMatchObject({
      id: submitted.id,
      account_order_id: fake.state.orders[0].OrderId,
    });
    expect((await getInstance({ tx: t.db }, "kst-0000"))?.expires_at).toBe(
      fake.state.instances.get("kst-0000")?.endTime,
    );
    // The person resubmitting the same request is told it is done, and nothing renews again.
    const again = await runCliProcess(["renew", "kst-0000", "3", "--key", "crash-1"], env);
    expect(again.stdout).toMatch(/^Already renewed kst-0000/);
    expect(fake.state.orders).toHaveLength(1);
    const tokens = new Set(fake.callsOf("RenewInstance").map((c) => c.params.ClientToken));
    expect(tokens.size).toBe(1);
  });
});

describe("start-up AccessKey check", () => {
  let fake: FakeBss;
  let slack: FakeSlack;
  let t: TestDatabase;

  beforeEach(async () => {
    fake = await startFakeBss({ balanceCents: 100 });
    slack = await startFakeSlack();
    t = await createTestDatabase("sqlite");
  });
  afterEach(async () => {
    await killAllBots();
    await slack.close();
    await fake.close();
    await t.destroy();
  });

  async function startMain(extra: Record<string, string>): Promise<ProcessResult> {
    const port = String(await freePort());
    const child = spawn(process.execPath, [join(ROOT, "dist/src/main.js")], {
      cwd: tmpdir(),
      env: {
        PATH: process.env.PATH ?? "",
        SLACK_BOT_TOKEN: slack.botToken,
        SLACK_SIGNING_SECRET: "test-signing-secret",
        SLACK_API_URL: slack.url,
        KMS_ALERT_CHANNEL: BOT_ALERTS,
        DATABASE_URL: t.url,
        PORT: port,
        ...extra,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d) => {
      stdout += d;
    });
    child.stderr?.on("data", (d) => {
      stderr += d;
    });
    return new Promise((resolve) =>
      child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })),
    );
  }

  it("a wrong secret stops the bot with one line naming the AccessKey problem, never the secret", async () => {
    const secret = "wrong-secret-but-long-enough-1234";
    const result = await startMain(alibabaEnv(fake, secret));
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "kms-bot: Alibaba Cloud rejected the signature of AccessKey LTAI5tFakeKmsBotKeyId (SignatureDoesNotMatch): ALIBABA_CLOUD_ACCESS_KEY_SECRET is not this key's secret.\n",
    );
    expect(result.stdout + result.stderr).not.toContain(secret);
  });

  it("an unknown AccessKey ID stops it too", async () => {
    const result = await startMain({
      ...alibabaEnv(fake),
      ALIBABA_CLOUD_ACCESS_KEY_ID: "LTAI5tNobodyKnowsThis",
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^kms-bot: Alibaba Cloud does not know AccessKey LTAI5tNobodyKnowsThis \(InvalidAccessKeyId\.NotFound\)/,
    );
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).not.toContain(TEST_ACCESS_KEY_SECRET);
  });

  it("an unreachable account lets the bot start and says it will retry", async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const bot = await startBot({
      databaseUrl: t.url,
      fake: slack,
      env: { ...alibabaEnv(fake), KMS_ALIBABA_ENDPOINT: closed },
    });
    expect(bot.output()).toMatch(
      /Alibaba Cloud could not be reached at 127\.0\.0\.1:\d+ \([\w ]+\); starting anyway and retrying/,
    );
  });
});
