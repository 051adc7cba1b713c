/**
 * The playground in a real browser, used as a person would: `npm run playground`'s built entry
 * on a free port, Debian's Chromium, clicks and typing only. Screenshots of every step are saved
 * under test-artifacts/playground/; `npm run screenshot` also refreshes docs/playground.png.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Browser,
  chromiumPath,
  openBrowser,
  type PlaygroundProcess,
  SKIP_BROWSER,
  startPlaygroundProcess,
} from "../helpers/browser.js";
import { ROOT } from "../helpers/cli-process.js";

const SCREENSHOT = join(ROOT, "docs/playground.png");
/** Types a line in the composer and sends it with Enter. */
async function type(page: Page, text: string): Promise<void> {
  await page.getByLabel("Message", { exact: true }).fill(text);
  await page.getByLabel("Message", { exact: true }).press("Enter");
}

const conversation = (page: Page, name: string): Locator =>
  page.getByRole("navigation", { name: "Conversations" }).getByRole("button", { name });

describe.skipIf(SKIP_BROWSER)("playground in a browser", () => {
  let playground: PlaygroundProcess;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    const executable = chromiumPath();
    playground = await startPlaygroundProcess();
    browser = await openBrowser(executable, playground.url);
    page = browser.page;
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await playground?.stop();
  });

  it("prints exactly one line, the URL on 127.0.0.1", () => {
    expect(playground.output()).toBe(`Playground: ${playground.url}\n`);
  });

  it("/kms status shows the sample fleet, only to the person who asked", async () => {
    await conversation(page, "# kms-alerts").click();
    await type(page, "/kms status");
    const reply = page.locator("article.ephemeral", { hasText: "Dedicated KMS instances" });
    await reply.waitFor();
    const text = (await reply.textContent()) ?? "";
    for (const name of ["payments-prod", "identity-cn", "data-lake-keys", "staging-hsm"]) {
      expect(text).toContain(name);
    }
    expect(text).toContain("3 active, 1 disabled, 1 released");
    expect(text).toContain("Only visible to you");
    await browser.shot("01-status");
  });

  it("renews through the modal: a field error for unaccepted terms, then the confirmation and the new balance", async () => {
    await type(page, "/kms renew");
    const modal = page.getByRole("dialog", { name: "Renew instance" });
    await modal.waitFor();
    const instance = modal.getByLabel("Instance");
    const value = await instance
      .locator("option", { hasText: "payments-prod" })
      .getAttribute("value");
    await instance.selectOption(value ?? "");
    await modal.getByText("Balance:").waitFor();
    await modal.getByLabel("Subscription Period").selectOption({ label: "3 months" });
    await modal.getByText("x 3 months").waitFor();
    await browser.shot("02-renew-modal");
    // `npm run screenshot`: the README's picture is this moment.
    if (process.env.KMS_SCREENSHOT === "1") await page.screenshot({ path: SCREENSHOT });
    await modal.getByRole("button", { name: "Buy Now" }).click();
    const terms = modal.locator(".block.input", {
      has: page.getByRole("group", { name: "Terms of Service" }),
    });
    await terms.getByRole("alert").filter({ hasText: "Please read and accept" }).waitFor();
    await browser.shot("03-terms-error");
    const summary = (await modal.locator("section", { hasText: "Balance:" }).textContent()) ?? "";
    const after = /Balance: USD [\d,.]+ now, (USD [\d,.]+) after/.exec(summary)?.[1];
    expect(after).toBeDefined();
    await modal.getByRole("checkbox", { name: /I have read and agree/ }).check();
    await modal.getByRole("button", { name: "Buy Now" }).click();
    await modal.waitFor({ state: "detached" });
    const dm = conversation(page, "kms-bot (unread)");
    await dm.waitFor();
    await dm.click();
    const confirmation = page.locator("article", { hasText: "Renewed" });
    await confirmation.waitFor();
    const text = (await confirmation.textContent()) ?? "";
    expect(text).toContain("payments-prod");
    expect(text).toContain("for 3 months");
    expect(text).toContain(`Balance: ${after}`);
    await browser.shot("04-renewed");
  });

  it("offers the CSV the bot uploads as a download", async () => {
    await type(page, "/kms bills export");
    const file = page.locator(".file", { hasText: "Dedicated KMS bills" });
    await file.waitFor();
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      file.getByRole("link", { name: "Download" }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^kms-bills-\d{4}-\d{2}\.csv$/);
    const csv = readFileSync((await download.path()) ?? "", "utf8");
    expect(csv.split("\r\n")[0]).toMatch(/^billing_cycle,time,order_id,item,/);
    expect(csv).toContain("Renewal");
    await browser.shot("04b-csv-export");
  });

  it("answers the FAQ about a free trial when mentioned in a channel, in a thread", async () => {
    await conversation(page, "# kms-alerts").click();
    await type(page, "@kms-bot is there a free trial?");
    const thread = page.getByRole("group", { name: "Thread" });
    await thread.waitFor();
    expect((await thread.textContent())?.toLowerCase()).toContain("does not support free trials");
    await browser.shot("05-faq");
  });

  it("refuses a member an admin action, naming the admins", async () => {
    await page.getByLabel("User").selectOption({ label: "Ben (member, owns payments)" });
    await type(page, "/kms topup 1000");
    const refusal = page.locator("article.ephemeral", { hasText: "Only a billing admin" });
    await refusal.waitFor();
    expect(await refusal.textContent()).toContain("@Ada");
    await browser.shot("06-member-refused");
  });

  it("runs a sweep at a later date; the owner snoozes the warning it posted", async () => {
    const now = Date.parse((await page.locator("#now").getAttribute("datetime")) ?? "");
    const later = new Date(now + 3 * 24 * 3600_000).toISOString().slice(0, 16);
    await page.getByLabel("Sweep date").fill(later);
    await page.getByRole("button", { name: "Run sweep at" }).click();
    await page.locator("#sweep-result", { hasText: "posted" }).waitFor();
    const channel = conversation(page, "# data-platform (unread)");
    await channel.waitFor();
    await channel.click();
    const warning = page.locator("article", { hasText: "data-lake-keys" }).last();
    await warning.getByRole("combobox", { name: "Snooze" }).selectOption({ label: "1 day" });
    await page.locator("article", { hasText: "snoozed reminders" }).first().waitFor();
    await browser.shot("07-snoozed");
  });

  it("opens the App Home tab", async () => {
    await conversation(page, "kms-bot").click();
    await page.getByRole("tab", { name: "Home" }).click();
    const home = page.getByRole("region", { name: "Home" });
    await home.getByText("Balance").first().waitFor();
    expect(await home.textContent()).toContain("payments-prod");
    await browser.shot("08-home");
  });

  it("refuses to move the playground's clock back, and says why", async () => {
    await page.getByLabel("Sweep date").fill("2020-01-01T09:00");
    await page.getByRole("button", { name: "Run sweep at" }).click();
    await page.getByRole("alert").filter({ hasText: "only moves forward" }).waitFor();
    await browser.shot("09-clock-refused");
  });
});
