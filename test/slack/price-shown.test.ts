import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { balance, topup } from "../../src/billing/account.js";
import { cliActor } from "../../src/billing/context.js";
import { setPrice } from "../../src/billing/prices.js";
import { BUY_VIEW } from "../../src/blocks/buy.js";
import { RENEW_INSTANCE, RENEW_PERIOD, RENEW_VIEW, TERMS } from "../../src/blocks/renew.js";
import { listOrders } from "../../src/store/orders.js";
import { startTestBot, type TestBot } from "../helpers/app.js";
import { ADMIN, DAY_MS, seedInstance, T0 } from "../helpers/billing.js";

const values = (instanceId: string, months: string) => ({
  [RENEW_INSTANCE.block]: {
    [RENEW_INSTANCE.action]: { type: "static_select", selected_option: { value: instanceId } },
  },
  [RENEW_PERIOD.block]: {
    [RENEW_PERIOD.action]: { type: "static_select", selected_option: { value: months } },
  },
  [TERMS.block]: {
    [TERMS.action]: { type: "checkboxes", selected_options: [{ value: TERMS.value }] },
  },
});

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

  it("refuses, on the period field and without charging, when the price changed after the modal showed it", async () => {
    const view = await openRenew("kst-a");
    expect(JSON.parse(String(view.private_metadata))).toEqual({ k: "kst-a", m: 1, u: 179_900 });
    await setPrice(s.billing, cliActor, "international", 250_000);
    const res = await s.submit({ view, callbackId: RENEW_VIEW, values: values("kst-a", "1") });
    expect(res.json).toMatchObject({
      response_action: "errors",
      errors: {
        [RENEW_PERIOD.block]: expect.stringContaining(
          "The price changed to USD 2,500.00 per month",
        ),
      },
    });
    expect(await listOrders({ tx: s.db }, "kst-a")).toEqual([]);
    expect(await balance(s.billing)).toBe(10_000_000);
  });

  it("charges the shown price when it still holds, and refuses a summary shown for another choice", async () => {
    const view = await openRenew("kst-a");
    const stale = await s.submit({ view, callbackId: RENEW_VIEW, values: values("kst-b", "1") });
    expect(stale.json).toMatchObject({
      response_action: "errors",
      errors: { [RENEW_PERIOD.block]: expect.stringContaining("another choice") },
    });
    const ok = await s.submit({
      view,
      callbackId: RENEW_VIEW,
      values: values("kst-a", "1"),
      triggerId: "2.2.b",
    });
    expect(ok.text).toBe("");
    expect((await listOrders({ tx: s.db }, "kst-a")).map((o) => o.unit_cents)).toEqual([179_900]);
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
