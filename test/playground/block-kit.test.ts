/**
 * The page's Block Kit rendering in Chromium, block by block and element by element, including
 * the kinds kms-bot does not send today (image, overflow, external select, pickers), so a new
 * feature that uses one shows up right in the playground.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Browser,
  chromiumPath,
  openBrowser,
  type PlaygroundProcess,
  SKIP_BROWSER,
  startPlaygroundProcess,
} from "../helpers/browser.js";

const plain = (text: string) => ({ type: "plain_text", text });
const mrkdwn = (text: string) => ({ type: "mrkdwn", text });
const option = (text: string, value: string) => ({ text: plain(text), value });

const BLOCKS = [
  { type: "header", text: plain("Gallery :warning:") },
  {
    type: "section",
    text: mrkdwn(
      "*bold* _italic_ ~gone~ `code` <https://example.com|a link> <@U0ADA> <#C0DATA> <!date^86400^{date_num} {time}|fallback> &lt;tag&gt;",
    ),
    fields: [mrkdwn("*Left*\none"), mrkdwn("*Right*\ntwo")],
    accessory: {
      type: "overflow",
      action_id: "more",
      options: [option("Edit", "edit"), option("Delete", "delete")],
    },
  },
  { type: "divider" },
  {
    type: "context",
    elements: [mrkdwn("small print"), { type: "image", image_url: "data:,", alt_text: "tiny" }],
  },
  { type: "image", image_url: "data:,", alt_text: "a chart", title: plain("Chart") },
  {
    type: "actions",
    block_id: "acts",
    elements: [
      { type: "button", action_id: "go", text: plain("Go"), value: "g", style: "primary" },
      {
        type: "button",
        action_id: "drop",
        text: plain("Drop"),
        value: "d",
        style: "danger",
        confirm: {
          title: plain("Really drop?"),
          text: mrkdwn("It *cannot* be undone."),
          confirm: plain("Drop it"),
          deny: plain("Keep"),
        },
      },
      {
        type: "static_select",
        action_id: "pick",
        placeholder: plain("Pick one"),
        options: [option("One", "1"), option("Two", "2")],
      },
      { type: "external_select", action_id: "find", placeholder: plain("Find") },
    ],
  },
  {
    type: "input",
    block_id: "when",
    label: plain("Start date"),
    element: { type: "datepicker", action_id: "d", initial_date: "2026-12-01" },
  },
  {
    type: "input",
    block_id: "who",
    label: plain("Owner"),
    element: { type: "users_select", action_id: "u" },
  },
  {
    type: "input",
    block_id: "where",
    label: plain("Channel"),
    element: { type: "conversations_select", action_id: "c" },
  },
  {
    type: "input",
    block_id: "n",
    label: plain("Months"),
    element: { type: "number_input", action_id: "m", is_decimal_allowed: false },
  },
];

/**
 * Renders BLOCKS with the page's own modules; clicks are collected in window.acts. Browser code
 * is given as a string: it runs in the page, untouched by the test's bundler and types.
 */
async function renderGallery(page: Page): Promise<void> {
  await page.evaluate(`(async () => {
    const { renderBlocks } = await import("/blocks.js");
    const acts = [];
    const inputs = new Map();
    const sc = {
      md: { now: 0, userName: (id) => (id === "U0ADA" ? "Ada" : id), channelName: () => "data-platform", openChannel() {} },
      users: [{ id: "U0ADA", name: "Ada" }],
      channels: [{ id: "C0DATA", name: "data-platform", kind: "channel" }],
      inputs,
      act: (a) => acts.push(a),
      suggest: async () => ({ options: [{ text: { type: "plain_text", text: "Found one" }, value: "found" }] }),
    };
    const root = document.createElement("main");
    root.append(...renderBlocks(${JSON.stringify(BLOCKS)}, sc));
    document.body.replaceChildren(root);
    Object.assign(window, { acts, inputs });
  })()`);
}

const acts = (page: Page) =>
  page.evaluate("window.acts") as Promise<Array<Record<string, unknown>>>;

describe.skipIf(SKIP_BROWSER)("Block Kit in the playground's page", () => {
  let playground: PlaygroundProcess;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    const executable = chromiumPath();
    playground = await startPlaygroundProcess();
    browser = await openBrowser(executable, playground.url);
    page = browser.page;
    await renderGallery(page);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await playground?.stop();
  });

  it("renders text blocks and mrkdwn as a person reads them", async () => {
    await page.getByRole("heading", { name: "Gallery warning" }).waitFor();
    const section = page.locator("section.section");
    expect(await section.locator("strong").first().textContent()).toBe("bold");
    expect(await section.locator("em").textContent()).toBe("italic");
    expect(await section.locator("s").textContent()).toBe("gone");
    expect(await section.locator("code").textContent()).toBe("code");
    expect(await section.getByRole("link", { name: "a link" }).getAttribute("href")).toBe(
      "https://example.com",
    );
    const text = (await section.textContent()) ?? "";
    expect(text).toContain("@Ada");
    expect(text).toContain("#data-platform");
    expect(text).toContain("1970-01-02 00:00"); // the browser's zone is UTC here
    expect(text).toContain("<tag>");
    expect(text).toContain("Left");
    expect(await page.locator("hr").count()).toBe(1);
    expect(await page.getByRole("img", { name: "a chart" }).count()).toBe(1);
    expect(await page.locator(".context").textContent()).toContain("small print");
    await browser.shot("block-kit");
  });

  it("asks a button's confirmation dialog before acting, and sends nothing when denied", async () => {
    await page.getByRole("button", { name: "Drop" }).click();
    const confirm = page.getByRole("dialog", { name: "Really drop?" });
    await confirm.getByRole("button", { name: "Keep" }).click();
    expect(await acts(page)).toEqual([]);
    await page.getByRole("button", { name: "Drop" }).click();
    await confirm.getByRole("button", { name: "Drop it" }).click();
    expect((await acts(page)).at(-1)).toMatchObject({
      action_id: "drop",
      block_id: "acts",
      type: "button",
      value: "d",
    });
  });

  it("sends the choice of an overflow menu, a static select and an external select", async () => {
    await page.getByRole("button", { name: "More actions" }).click();
    await page.getByRole("menuitem", { name: "Delete" }).click();
    expect((await acts(page)).at(-1)).toMatchObject({
      action_id: "more",
      type: "overflow",
      selected_option: { value: "delete" },
    });
    await page.getByRole("combobox", { name: "Pick one" }).selectOption({ label: "Two" });
    expect((await acts(page)).at(-1)).toMatchObject({
      action_id: "pick",
      selected_option: { value: "2" },
    });
    await page.getByRole("searchbox", { name: "Search Find" }).fill("fo");
    await page
      .getByRole("combobox", { name: "Find" })
      .locator("option", { hasText: "Found one" })
      .waitFor({ state: "attached" });
    await page.getByRole("combobox", { name: "Find" }).selectOption({ label: "Found one" });
    expect((await acts(page)).at(-1)).toMatchObject({
      action_id: "find",
      type: "external_select",
      selected_option: { value: "found" },
    });
  });

  it("labels inputs and reads them back as Slack's state.values", async () => {
    await page.getByLabel("Start date").fill("2027-01-15");
    await page.getByLabel("Owner").selectOption({ label: "Ada" });
    await page.getByLabel("Channel").selectOption({ label: "#data-platform" });
    await page.getByLabel("Months").fill("3");
    const values = await page.evaluate(
      `import("/blocks.js").then(({ stateValues }) => stateValues(window.inputs))`,
    );
    expect(values).toMatchObject({
      when: { d: { type: "datepicker", selected_date: "2027-01-15" } },
      who: { u: { type: "users_select", selected_user: "U0ADA" } },
      where: { c: { type: "conversations_select", selected_conversation: "C0DATA" } },
      n: { m: { type: "number_input", value: "3" } },
    });
  });
});
