// `/kms status` through the real Bolt app: the fleet reply is rendered once per fleet read and
// reused for up to a second (renderedFleet, cachedFleetRead), yet a change made through the bot
// shows in the very next answer. Answers are posted to response_url by the router itself, so
// a command whose response_url is unusable is refused up front.
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import { balance, topup } from "../../src/billing/account.js";
import { cliActor } from "../../src/billing/context.js";
import { RENEW_VIEW } from "../../src/slack/features/renew/blocks.js";
import { FLEET_CACHE_MS } from "../../src/store/fleet-cache.js";
import { getInstance } from "../../src/store/instances.js";
import { MEMBER_ID, shown, startTestBot, type TestBot } from "../helpers/app.js";
import { ADMIN, DAY_MS, seedInstance, T0 } from "../helpers/billing.js";
import { renewValues } from "../helpers/forms.js";
import { slashCommand } from "../helpers/slack-requests.js";

/** `<!date^SECONDS^`: the start of Slack's date token for an instant. */
const dateToken = (at: number) => `<!date^${Math.floor(at / 1000)}^`;

/** The line of a status reply that lists `id`. */
function lineOf(reply: unknown, id: string): string {
  const found = shown(reply)
    .split("\n")
    .filter((l) => l.startsWith(`*${id}* `));
  expect(found, `one line for ${id}`).toHaveLength(1);
  return found[0];
}

/**
 * Real time for the fleet cache runs 100 times slower: a test's whole sequence of commands stays
 * inside one cache second however slow the machine, so an up-to-date answer can only come from
 * the cache being dropped on a write (not from the second running out meanwhile).
 */
function slowRealTime(): MockInstance<() => number> {
  const real = performance.now.bind(performance);
  const base = real();
  return vi.spyOn(performance, "now").mockImplementation(() => base + (real() - base) / 100);
}

describe("/kms status answers from one rendered fleet per fleet read", () => {
  let s: TestBot;
  beforeEach(async () => {
    s = await startTestBot();
    await seedInstance(s.db, { id: "kst-a", name: "payments", expires_at: T0 + 10 * DAY_MS });
    await seedInstance(s.db, { id: "kst-b", name: "ledger", expires_at: T0 + 40 * DAY_MS });
    slowRealTime();
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    s.fake.assertNoViolations();
    await s.close();
  });

  /** `/kms status` as `userId`: its response_url answer. */
  const status = async (userId: string = MEMBER_ID) => (await s.command("status", userId)).reply;

  it("twice in a row (two people): the same answer, listing the fleet", async () => {
    const first = await status();
    const second = await status(ADMIN);
    expect(first.response_type).toBe("ephemeral");
    expect(second).toEqual(first);
    expect(String(first.text)).toBe("2 Dedicated KMS instance(s)");
    expect(lineOf(first, "kst-a")).toContain("active");
    expect(lineOf(first, "kst-b")).toContain("40 days left");
  });

  it("a write by another process (the CLI, a replica) shows once the cache's second is over", async () => {
    // Shows the cache is in play here, so the tests below that see a change at once do test
    // that a write through the bot drops it.
    expect(lineOf(await status(), "kst-b")).toContain("active");
    const other = s.t.another({ poolMax: 1 });
    await other("instances").where({ id: "kst-b" }).update({ admin_disabled_at: T0 });
    expect(lineOf(await status(), "kst-b")).toContain("active");
    s.clock.advance(FLEET_CACHE_MS + 1);
    expect(lineOf(await status(), "kst-b")).toContain("disabled (by an admin)");
  });

  it("after /kms disable and /kms enable by an admin, the very next status shows the new state", async () => {
    const before = await status();
    expect(lineOf(before, "kst-a")).toContain("active");
    expect(shown(before)).toContain("2 active, 0 disabled");

    const disabled = await s.command("disable kst-a", ADMIN);
    expect(String(disabled.reply.text)).toContain("kst-a is disabled");
    const after = await status();
    expect(lineOf(after, "kst-a")).toContain("disabled (by an admin)");
    expect(shown(after)).toContain("1 active, 1 disabled");

    const enabled = await s.command("enable kst-a", ADMIN);
    expect(String(enabled.reply.text)).toBe("kst-a is active again.");
    const again = await status();
    expect(lineOf(again, "kst-a")).not.toContain("disabled");
    expect(shown(again)).toContain("2 active, 0 disabled");
    await s.fake.waitFor("views.publish", (c) => c.args.user_id === ADMIN && !!c.response);
  });

  it("after a renewal through the renew modal, the very next status shows the new expiry", async () => {
    await topup(s.billing, cliActor, 500_000);
    const before = lineOf(await status(), "kst-a");
    expect(before).toContain(dateToken(T0 + 10 * DAY_MS));
    expect(before).toContain("10 days left");

    await s.command("renew kst-a");
    await s.fake.waitFor("views.open", (c) => c.response?.ok === true);
    const view = s.fake.findView(RENEW_VIEW);
    const res = await s.submit({ view, callbackId: RENEW_VIEW, values: renewValues("kst-a", "1") });
    expect(res.status).toBe(200);
    await s.fake.waitFor("chat.postMessage", (c) => String(c.args.text).includes("Renewed kst-a"));
    expect(await balance(s.billing)).toBe(500_000 - 179_900);
    const renewed = await getInstance({ tx: s.db }, "kst-a");
    expect(renewed?.expires_at).toBeGreaterThan(T0 + 10 * DAY_MS);

    const after = lineOf(await status(), "kst-a");
    expect(after).toContain(dateToken(renewed?.expires_at ?? 0));
    expect(after).not.toContain(dateToken(T0 + 10 * DAY_MS));
    expect(after).not.toContain("10 days left");
    await s.fake.waitFor("views.publish");
  });
});

describe("a /kms command without a usable response_url", () => {
  let s: TestBot;
  beforeEach(async () => {
    s = await startTestBot();
  });
  afterEach(async () => {
    s.fake.assertNoViolations();
    await s.close();
  });

  it.each([
    ["missing", ""],
    ["not a URL", "not a url"],
    ["not http(s)", "javascript:alert(1)"],
  ])("(%s) is refused as malformed, naming response_url, and nothing is done", async (_, url) => {
    const res = await s.send(
      slashCommand({
        text: "topup 100",
        userId: ADMIN,
        triggerId: s.fake.newTriggerId(),
        responseUrl: url,
      }),
    );
    expect(res.status).toBe(200);
    const reply = res.json as { response_type?: string; text?: string };
    expect(reply.response_type).toBe("ephemeral");
    expect(reply.text).toContain("malformed");
    expect(reply.text).toContain("response_url is not a URL");
    expect(reply.text).toContain("nothing was done");
    await new Promise((r) => setTimeout(r, 200));
    expect(await balance(s.billing)).toBe(0);
    expect(s.fake.responses).toEqual([]);
  });

  it("while the same command with a response_url is done and answered there", async () => {
    const res = await s.command("topup 100", ADMIN);
    expect(String(res.reply.text)).toBe("Recharged USD 100.00. Balance: USD 100.00");
    expect(await balance(s.billing)).toBe(10_000);
    await s.fake.waitFor("views.publish", (c) => c.args.user_id === ADMIN && !!c.response);
  });
});
