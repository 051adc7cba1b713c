import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { balance, topup } from "../../src/billing/account.js";
import { cliActor } from "../../src/billing/context.js";
import { RENEW_INSTANCE, RENEW_PERIOD, RENEW_VIEW } from "../../src/slack/features/renew/blocks.js";
import { TERMS } from "../../src/slack/kit/form.js";
import { listOrders } from "../../src/store/orders.js";
import { MEMBER_ID, shown, startTestBot, type TestBot } from "../helpers/app.js";
import { DAY_MS, seedInstance, T0 } from "../helpers/billing.js";
import { renewValues, shownPrice } from "../helpers/forms.js";

describe("/kms renew", () => {
  let s: TestBot;
  beforeEach(async () => {
    s = await startTestBot();
    await seedInstance(s.db, { id: "kst-a", name: "payments", expires_at: T0 + 10 * DAY_MS });
    await seedInstance(s.db, { id: "kst-gone", expires_at: T0 - 20 * DAY_MS });
  });
  afterEach(async () => {
    s.fake.assertNoViolations();
    await s.close();
  });

  it("opens the modal with the instance preselected, released ones not offered, and a live price", async () => {
    await topup(s.billing, cliActor, 500_000);
    const res = await s.command("renew kst-a");
    expect(res.status).toBe(200);
    const call = await s.fake.waitFor("views.open");
    const view = call.args.view as Record<string, unknown>;
    expect(view.callback_id).toBe(RENEW_VIEW);
    const text = JSON.stringify(view);
    expect(text).toContain("kst-a");
    expect(text).not.toContain("kst-gone");
    expect(shown(view)).toContain("USD 1,799.00 x 1 month = *USD 1,799.00*");
    expect(shown(view)).toContain("USD 5,000.00 now, USD 3,201.00 after");
    expect(shown(view)).toContain("I have read and agree to the");
  });

  it("refuses to open for a released or unknown instance, saying why", async () => {
    await s.command("renew kst-gone");
    const released = await s.fake.waitForResponse();
    expect(String(released.body.text)).toContain("has been released");
    await s.command("renew kst-nope");
    const unknown = await s.fake.waitForResponse((r) =>
      String(r.body.text).includes("Unknown instance"),
    );
    expect(unknown.body.response_type).toBe("ephemeral");
    expect(s.fake.callsTo("views.open")).toHaveLength(0);
  });

  it("updates the summary when the period changes", async () => {
    await topup(s.billing, cliActor, 500_000);
    await s.command("renew kst-a");
    await s.fake.waitFor("views.open", (c) => c.response?.ok === true);
    const view = s.fake.findView(RENEW_VIEW);
    expect(view).toBeDefined();
    await s.click({
      actionId: RENEW_PERIOD.action,
      view,
      selectedOption: { value: "3" },
      stateValues: renewValues("kst-a", "3", false),
    });
    const update = await s.fake.waitFor("views.update");
    expect(shown(update.args.view)).toContain("USD 1,799.00 x 3 months = *USD 5,397.00*");
    expect(shown(update.args.view)).toContain("short by *USD 397.00*");
  });

  it("shows errors on the right field: terms, balance, released", async () => {
    const submit = (id: string, terms: boolean) =>
      s.submit({
        callbackId: RENEW_VIEW,
        viewId: `V-${id}-${terms}`,
        values: renewValues(id, "1", terms),
        privateMetadata: shownPrice(id),
      });
    const noTerms = await submit("kst-a", false);
    expect(noTerms.json).toEqual({
      response_action: "errors",
      errors: { [TERMS.block]: expect.stringContaining("Terms of Service") },
    });
    const poor = await submit("kst-a", true);
    expect(poor.json).toMatchObject({
      response_action: "errors",
      errors: { [RENEW_PERIOD.block]: expect.stringContaining("short by USD 1,799.00") },
    });
    const gone = await submit("kst-gone", true);
    expect(gone.json).toMatchObject({
      response_action: "errors",
      errors: { [RENEW_INSTANCE.block]: expect.stringContaining("released") },
    });
    expect(await listOrders({ tx: s.db }, "kst-a")).toEqual([]);
  });

  it("says when an expired instance's new period starts: now, not at the old expiry", async () => {
    await s.close();
    // A clock that moves on every reading, as a real one does between two reads.
    s = await startTestBot({ tickingClock: true });
    await seedInstance(s.db, { id: "kst-old", expires_at: T0 - 2 * DAY_MS });
    await s.command("renew kst-old");
    const call = await s.fake.waitFor("views.open", (c) => c.response?.ok === true);
    expect(shown(call.args.view)).toContain("(expired: the new period starts now)");
    expect(shown(call.args.view)).not.toContain("extends from");
  });

  it("buys on submit, closes the modal, confirms by DM, and charges once when submitted twice", async () => {
    await topup(s.billing, cliActor, 500_000);
    const values = renewValues("kst-a", "1", true);
    await s.command("renew kst-a");
    await s.fake.waitFor("views.open", (c) => c.response?.ok === true);
    const view = s.fake.findView(RENEW_VIEW);
    // Two deliveries of one view (a double click): distinct requests, so they pass the replay
    // guard and both reach the renewal; the view id makes the second charge nothing.
    const [first, second] = await Promise.all([
      s.submit({ view, callbackId: RENEW_VIEW, values, triggerId: "1.1.a" }),
      s.submit({ view, callbackId: RENEW_VIEW, values, triggerId: "1.1.b" }),
    ]);
    expect(first.status).toBe(200);
    expect(first.text).toBe("");
    expect(second.text).toBe("");
    expect(await balance(s.billing)).toBe(500_000 - 179_900);
    const orders = await listOrders({ tx: s.db }, "kst-a");
    expect(orders).toHaveLength(1);
    const dm = await s.fake.waitFor("chat.postMessage", (c) => c.args.channel === MEMBER_ID);
    expect(String(dm.args.text)).toContain(`ORD-${String(orders[0].id).padStart(6, "0")}`);
    expect(String(dm.args.text)).toContain("USD 1,799.00");
    await s.fake.waitFor("views.publish");
  });
});
