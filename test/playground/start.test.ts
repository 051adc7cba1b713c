/**
 * Starting the playground: one line, 127.0.0.1 only, no Slack settings needed or read, its own
 * SQLite file kept between runs and started over with --fresh, never in production.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runPlaygroundProcess, startPlaygroundProcess } from "../helpers/browser.js";

const post = (url: string, path: string, body: unknown) =>
  fetch(new URL(path, url), { method: "POST", body: JSON.stringify(body) });

const messagesOf = async (url: string) =>
  (
    (await (await fetch(new URL("/play/state?user=U0ADA", url))).json()) as {
      messages: Array<{ text?: string }>;
    }
  ).messages;

/**
 * What Ada sees in #kms-alerts after typing `/kms balance`: the bot acknowledges at once and
 * answers through response_url, so wait for the answer to arrive.
 */
async function balanceShown(url: string): Promise<string> {
  const before = (await messagesOf(url)).length;
  await post(url, "/play/send", { user: "U0ADA", channel: "C0KMSALERTS", text: "/kms balance" });
  for (let waited = 0; waited < 10_000; waited += 50) {
    const answer = (await messagesOf(url))
      .slice(before)
      .find((m) => m.text?.startsWith("Balance:"));
    if (answer?.text) return answer.text;
    await new Promise((done) => setTimeout(done, 50));
  }
  return "";
}

const refused = (port: number, host: string) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ port, host });
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(true));
  });

describe("npm run playground", () => {
  const dir = mkdtempSync(join(tmpdir(), "kms-playground-data-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("refuses to start with NODE_ENV=production", async () => {
    const { code, output } = await runPlaygroundProcess({ NODE_ENV: "production" });
    expect(code).toBe(2);
    expect(output).toContain("refusing to start with NODE_ENV=production");
  });

  it("ignores Slack settings, listens on 127.0.0.1 only and serves the page", async () => {
    const playground = await startPlaygroundProcess({
      dir,
      env: {
        SLACK_BOT_TOKEN: "not-a-token",
        SLACK_APP_TOKEN: "xapp-1",
        SLACK_API_URL: "http://127.0.0.1:9/",
      },
    });
    try {
      expect(playground.output()).toBe(`Playground: ${playground.url}\n`);
      const page = await (await fetch(playground.url)).text();
      expect(page).toContain("<title>kms-bot playground</title>");
      expect(await balanceShown(playground.url)).toMatch(/^Balance: USD [\d,]+\.\d\d$/);
      const port = Number(new URL(playground.url).port);
      const outside = Object.values(networkInterfaces())
        .flat()
        .find((i) => i?.family === "IPv4" && !i.internal)?.address;
      if (outside) expect(await refused(port, outside)).toBe(true);
    } finally {
      await playground.stop();
    }
  });

  it("keeps its SQLite file between runs; --fresh starts the sample over", async () => {
    const first = await startPlaygroundProcess({ dir, args: [] });
    const before = await balanceShown(first.url);
    await post(first.url, "/play/send", {
      user: "U0ADA",
      channel: "C0KMSALERTS",
      text: "/kms topup 1000",
    });
    const after = await balanceShown(first.url);
    await first.stop();
    expect(after).not.toBe(before);
    const again = await startPlaygroundProcess({ dir, args: [] });
    expect(await balanceShown(again.url)).toBe(after);
    await again.stop();
    const fresh = await startPlaygroundProcess({ dir, args: ["--fresh"] });
    expect(await balanceShown(fresh.url)).toBe(before);
    await fresh.stop();
  });
});
