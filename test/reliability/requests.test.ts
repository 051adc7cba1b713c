import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { balance } from "../../src/billing/account.js";
import { SIGNING_SECRET, startTestBot, type TestBot } from "../helpers/app.js";
import { ADMIN } from "../helpers/billing.js";
import { postToApp, slashCommand } from "../helpers/slack-requests.js";

describe("request guard", () => {
  let s: TestBot;
  beforeEach(async () => {
    s = await startTestBot();
  });
  afterEach(async () => {
    await s.close();
  });

  const topup = (teamId?: string) =>
    slashCommand({
      text: "topup 100",
      userId: ADMIN,
      teamId,
      triggerId: s.fake.newTriggerId(),
      responseUrl: s.fake.newResponseUrl(),
    });

  it("refuses a replayed request (the same signed request sent again) and changes nothing", async () => {
    const request = topup();
    const timestamp = Math.floor(Date.now() / 1000);
    const first = await postToApp(s.url, request, { signingSecret: SIGNING_SECRET, timestamp });
    expect(first.status).toBe(200);
    await s.fake.waitForResponse();
    expect(await balance(s.billing)).toBe(10_000);
    for (let i = 0; i < 3; i++) {
      const replay = await postToApp(s.url, request, { signingSecret: SIGNING_SECRET, timestamp });
      expect(replay.status).toBe(200);
      expect(String((replay.json as { text?: string }).text)).toContain("already handled");
    }
    expect(await balance(s.billing)).toBe(10_000);
    expect(await s.db("ledger").count({ n: "*" }).first()).toMatchObject({ n: 1 });
  });

  it("refuses a request from another workspace", async () => {
    const res = await s.send(topup("T0OTHERWS"));
    expect(String((res.json as { text?: string }).text)).toContain("serves another workspace");
    expect(await balance(s.billing)).toBe(0);
    const ours = await s.send(topup("T0TEST"));
    expect(ours.text).toBe("");
    expect(String((await s.fake.waitForResponse()).body.text)).toContain("Recharged USD 100.00");
  });
});
