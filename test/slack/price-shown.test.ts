import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { balance, topup } from "../../src/billing/account.js";
import { cliActor } from "../../src/billing/context.js";
import { setPrice } from "../../src/billing/prices.js";
import { BUY_VIEW } from "../../src/slack/features/buy/blocks.js";
import { RENEW_INSTANCE, RENEW_PERIOD, RENEW_VIEW } from "../../src/slack/features/renew/blocks.js";
import { listOrders } from "../../src/store/orders.js";
import { shown, startTestBot, type TestBot } from "../helpers/app.js";
import { ADMIN, DAY_MS, seedInstance, T0 } from "../helpers/billing.js";
import { buyValues, renewValues } from "../helpers/forms.js";

describe("Buy Now charges the price the modal showed", () => {
  let s: TestBot;
  beforeEach(async () => {
    s = await startTestBot();
    await topup(s.billing, cliActor, 10_000_000);
    await seedInstance(s.db, { id: "kst-a", expires_at: T0 + 10 * DAY_MS });
    await seedInstance(s.db, { id: "kst-b", expires_at: T0 + 20 * DAY_MS, site: "china" });
  });
  afterEach(async () => {
    s.fake.assertNoViolations();
    await s.close();
  });

  async function openRenew(id: string) {
    await s.command(`renew ${id}`);
    await s.fake.waitFor("views.open", (c) => c.response?.ok === true);
    return s.fake.findView(RENEW_VIEW) as Record<string, unknown>;
  }

  /** The modal a submission answered with `response_action: update`, as Slack now shows it. */
  function redrawn(res: { json?: unknown }, shownView: Record<string, unknown>) {
    const body = res.json as { response_action?: string; view?: Record<string, unknown> };
    expect(body.response_action).toBe("update");
    return { ...body.view, id: shownView.id } as Record<string, unknown>;
  }

  /** The words shown under the period field of a redrawn modal. */
  const periodProblem = (view: Record<string, unknown>) =>
    shown(
      (view.blocks as { block_id?: string }[]).find(
        (b) => b.block_id === `${RENEW_PERIOD.block}_problem`,
      ),
    );

  it("after a price change, refuses without charging, shows the new price on the period field, and the next Buy Now charges it", async () => {
    const view = await openRenew("kst-a");
    expect(JSON.parse(String(view.private_metadata))).toEqual({ k: "kst-a", m: 1, u: 179_900 });
    await setPrice(s.billing, cliActor, "international", 250_000);
    const res = await s.submit({ view, callbackId: RENEW_VIEW, values: renewValues("kst-a", "1") });
    const again = redrawn(res, view);
    expect(periodProblem(again)).toContain("The price changed to USD 2,500.00 per month");
    expect(shown(again)).toContain("USD 2,500.00 x 1 month = *USD 2,500.00*");
    expect(JSON.parse(String(again.private_metadata))).toEqual({ k: "kst-a", m: 1, u: 250_000 });
    expect(await listOrders({ tx: s.db }, "kst-a")).toEqual([]);
    expect(await balance(s.billing)).toBe(10_000_000);
    // Buy Now on the redrawn modal (a new submission of the same view) succeeds.
    const ok = await s.submit({
      view: again,
      callbackId: RENEW_VIEW,
      values: renewValues("kst-a", "1"),
      triggerId: "3.3.b",
    });
    expect(ok.text).toBe("");
    expect((await listOrders({ tx: s.db }, "kst-a")).map((o) => o.unit_cents)).toEqual([250_000]);
  });

  it("charges the shown price when it still holds, and refuses a summary shown for another choice", async () => {
    const view = await openRenew("kst-a");
    const stale = await s.submit({
      view,
      callbackId: RENEW_VIEW,
      values: renewValues("kst-b", "1"),
    });
    const again = redrawn(stale, view);
    expect(periodProblem(again)).toContain("another choice");
    expect(shown(again)).toContain("USD 2,399.00 x 1 month");
    expect(await listOrders({ tx: s.db }, "kst-b")).toEqual([]);
    const ok = await s.submit({
      view,
      callbackId: RENEW_VIEW,
      values: renewValues("kst-a", "1"),
      triggerId: "2.2.b",
    });
    expect(ok.text).toBe("");
    expect((await listOrders({ tx: s.db }, "kst-a")).map((o) => o.unit_cents)).toEqual([179_900]);
  });

  it("a modal opened with no instance whose refresh failed charges nothing: it refuses on the period field and shows the price", async () => {
    await s.command("renew");
    await s.fake.waitFor("views.open", (c) => c.response?.ok === true);
    const opened = s.fake.findView(RENEW_VIEW) as Record<string, unknown>;
    expect(opened.private_metadata).toBe("");
    s.fake.failNext("views.update", { error: "internal_error" });
    await s.click({
      actionId: RENEW_INSTANCE.action,
      view: opened,
      selectedOption: { value: "kst-a" },
      stateValues: renewValues("kst-a", "1"),
    });
    await s.fake.waitFor("views.update");
    const res = await s.submit({
      view: opened,
      callbackId: RENEW_VIEW,
      values: renewValues("kst-a", "1"),
    });
    const again = redrawn(res, opened);
    expect(periodProblem(again)).toContain("showed no price for this choice");
    expect(shown(again)).toContain("USD 1,799.00 x 1 month = *USD 1,799.00*");
    expect(await listOrders({ tx: s.db }, "kst-a")).toEqual([]);
    expect(await balance(s.billing)).toBe(10_000_000);
    const ok = await s.submit({
      view: again,
      callbackId: RENEW_VIEW,
      values: renewValues("kst-a", "1"),
      triggerId: "4.4.b",
    });
    expect(ok.text).toBe("");
    expect((await listOrders({ tx: s.db }, "kst-a")).map((o) => o.unit_cents)).toEqual([179_900]);
  });

  it("a buy modal whose price changed is drawn again with the new price; nothing is charged", async () => {
    await s.command("buy", ADMIN);
    await s.fake.waitFor("views.open", (c) => c.response?.ok === true);
    const view = s.fake.findView(BUY_VIEW) as Record<string, unknown>;
    await setPrice(s.billing, cliActor, "international", 200_000);
    const res = await s.submit({
      view,
      callbackId: BUY_VIEW,
      userId: ADMIN,
      values: buyValues({ name: "payments-hsm" }),
    });
    const again = redrawn(res, view);
    expect(shown(again)).toContain("The price changed to USD 2,000.00 per month");
    expect(JSON.parse(String(again.private_metadata))).toMatchObject({ u: 200_000 });
    expect(await balance(s.billing)).toBe(10_000_000);
  });

  it("the buy modal carries its price too", async () => {
    await s.command("buy", ADMIN);
    await s.fake.waitFor("views.open", (c) => c.response?.ok === true);
    const view = s.fake.findView(BUY_VIEW) as Record<string, unknown>;
    expect(JSON.parse(String(view.private_metadata))).toEqual({
      k: "international",
      m: 1,
      u: 179_900,
    });
  });
});
