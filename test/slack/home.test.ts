import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { topup } from "../../src/billing/account.js";
import { cliActor, userActor } from "../../src/billing/context.js";
import { renew } from "../../src/billing/orders.js";
import { RENEW_INSTANCE, RENEW_VIEW } from "../../src/slack/features/renew/blocks.js";
import { OPEN_RENEW } from "../../src/slack/kit/buttons.js";
import { elementsWith, MEMBER_ID, shown, startTestBot, type TestBot } from "../helpers/app.js";
import { ADMIN, DAY_MS, seedInstance, T0 } from "../helpers/billing.js";
import type { JsonObject, RecordedCall } from "../helpers/fake-slack.js";

function dateToken(at: number): string {
  return `<!date^${Math.floor(at / 1000)}^`;
}

const homeOpened = (user: string, tab = "home") => ({
  type: "app_home_opened",
  user,
  channel: `D${user.slice(1)}`,
  tab,
});

describe("App Home", () => {
  let s: TestBot;
  beforeEach(async () => {
    s = await startTestBot();
  });
  afterEach(async () => {
    s.fake.assertNoViolations();
    await s.close();
  });

  /** Opens App Home as `user` and returns the answered views.publish for them. */
  async function openHome(user: string): Promise<RecordedCall> {
    const seen = new Set(s.fake.callsTo("views.publish"));
    const res = await s.event(homeOpened(user));
    expect(res.status).toBe(200);
    return s.fake.waitFor(
      "views.publish",
      (c) => !seen.has(c) && c.args.user_id === user && c.response?.ok === true,
    );
  }

  describe("with a fleet and bills", () => {
    beforeEach(async () => {
      await seedInstance(s.db, { id: "kst-late", name: "archive", expires_at: T0 + 100 * DAY_MS });
      await seedInstance(s.db, { id: "kst-soon", name: "payments", expires_at: T0 + 5 * DAY_MS });
      await seedInstance(s.db, {
        id: "kst-exp",
        name: "old-hsm",
        site: "china",
        expires_at: T0 - 2 * DAY_MS,
      });
      await seedInstance(s.db, { id: "kst-gone", name: "history", expires_at: T0 - 30 * DAY_MS });
      await topup(s.billing, cliActor, 500_000);
      await renew(s.billing, userActor(ADMIN), { instanceId: "kst-late", months: 1 });
    });

    it("publishes balance, instances soonest expiry first with Renew buttons, recent bills", async () => {
      const call = await openHome(MEMBER_ID);
      const view = call.args.view as JsonObject;
      expect(view.type).toBe("home");
      const text = shown(view);
      expect(text).toContain("*Balance:* USD 3,201.00");
      expect(text).not.toContain("you are a billing admin");
      expect(text).toContain("*Instances* (3, soonest expiry first)");
      // Released instances are not on App Home.
      expect(JSON.stringify(view)).not.toContain("kst-gone");
      const buttons = elementsWith(view, OPEN_RENEW);
      expect(buttons.map((b) => b.value)).toEqual(["kst-exp", "kst-soon", "kst-late"]);
      expect(buttons.every((b) => b.type === "button")).toBe(true);
      const blocks = view.blocks as JsonObject[];
      const row = (id: string) =>
        blocks.find((b) => (b.accessory as JsonObject | undefined)?.value === id);
      const exp = shown(row("kst-exp"));
      expect(exp).toContain("old-hsm");
      expect(exp).toContain("china");
      expect(exp).toContain("expired 2 days ago, released in 13 days");
      const soon = shown(row("kst-soon"));
      expect(soon).toContain("5 days left");
      expect(soon).toContain(dateToken(T0 + 5 * DAY_MS));
      // Recent bills, newest first.
      const bills = text.slice(text.indexOf("*Recent bills*"));
      const renewal = bills.indexOf("*Renewal*");
      const recharge = bills.indexOf("*Recharge*");
      expect(renewal).toBeGreaterThan(0);
      expect(recharge).toBeGreaterThan(renewal);
      expect(bills).toContain("ORD-000001");
      expect(bills).toContain("*-USD 1,799.00*");
      expect(bills).toContain("*USD 5,000.00*");
    });

    it("tells an admin they are one", async () => {
      const call = await openHome(ADMIN);
      expect(shown(call.args.view)).toContain(
        "*Balance:* USD 3,201.00  ·  you are a billing admin",
      );
    });

    it("publishes nothing when the Messages tab is opened", async () => {
      const res = await s.event(homeOpened(MEMBER_ID, "messages"));
      expect(res.status).toBe(200);
      // A later Home-tab open by someone else is answered; the Messages tab still published nothing.
      await openHome(ADMIN);
      await new Promise((r) => setTimeout(r, 50));
      expect(
        s.fake.callsTo("views.publish").filter((c) => c.args.user_id === MEMBER_ID),
      ).toHaveLength(0);
    });

    it("opens the renew modal from a Renew button on App Home", async () => {
      const call = await openHome(MEMBER_ID);
      const home = s.fake.findView();
      expect(home?.type).toBe("home");
      expect(call.response?.ok).toBe(true);
      await s.click({
        actionId: OPEN_RENEW,
        view: home,
        value: "kst-soon",
        responseUrl: undefined,
      });
      const open = await s.fake.waitFor("views.open", (c) => c.response?.ok === true);
      const modal = open.args.view as JsonObject;
      expect(modal.callback_id).toBe(RENEW_VIEW);
      expect(elementsWith(modal, RENEW_INSTANCE.action)[0]?.initial_option).toMatchObject({
        value: "kst-soon",
      });
      expect(shown(modal)).toContain("USD 1,799.00 x 1 month = *USD 1,799.00*");
    });

    it("answers a Renew click on App Home for an instance released since by DM", async () => {
      await openHome(MEMBER_ID);
      const home = s.fake.findView();
      s.clock.set(T0 + 14 * DAY_MS);
      // Actions on App Home carry no response_url: the bot can only answer by DM.
      await s.click({ actionId: OPEN_RENEW, view: home, value: "kst-exp", responseUrl: undefined });
      const dm = await s.fake.waitFor(
        "chat.postMessage",
        (c) => c.args.channel === MEMBER_ID && c.response?.ok === true,
      );
      expect(String(dm.args.text)).toContain("has been released");
      expect(s.fake.callsTo("views.open")).toHaveLength(0);
    });
  });

  it("says when there are no instances and no bills", async () => {
    const call = await openHome(MEMBER_ID);
    const text = shown(call.args.view);
    expect(text).toContain("*Balance:* USD 0.00");
    expect(text).toContain("No instances yet.");
    expect(text).toContain("Nothing billed yet.");
    expect(elementsWith(call.args.view, OPEN_RENEW)).toEqual([]);
  });

  it("fits a large fleet: 40 rows, then a count of the rest", async () => {
    for (let i = 0; i < 45; i++) {
      const id = `kst-${String(i).padStart(3, "0")}`;
      await seedInstance(s.db, {
        id,
        name: `${"n".repeat(180)}-${i}`,
        expires_at: T0 + (i + 1) * DAY_MS,
      });
    }
    const call = await openHome(MEMBER_ID);
    const buttons = elementsWith(call.args.view, OPEN_RENEW);
    expect(buttons).toHaveLength(40);
    expect(buttons[0].value).toBe("kst-000");
    expect(buttons[39].value).toBe("kst-039");
    expect(shown(call.args.view)).toContain("…and 5 more.");
  });

  it("refreshes the caller's App Home after a top-up", async () => {
    await s.command("topup 250", ADMIN);
    const call = await s.fake.waitFor(
      "views.publish",
      (c) => c.args.user_id === ADMIN && c.response?.ok === true,
    );
    expect(shown(call.args.view)).toContain("*Balance:* USD 250.00");
    expect(shown(call.args.view)).toContain("*Recharge*");
  });
});
