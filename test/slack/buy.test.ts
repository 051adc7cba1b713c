import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { balance, topup } from "../../src/billing/account.js";
import { cliActor } from "../../src/billing/context.js";
import { addMonths } from "../../src/billing/periods.js";
import {
  BUY_CHANNEL,
  BUY_NAME,
  BUY_OWNER,
  BUY_PERIOD,
  BUY_SITE,
  BUY_SUMMARY_BLOCK,
  BUY_VIEW,
} from "../../src/slack/features/buy/blocks.js";
import { TERMS } from "../../src/slack/kit/form.js";
import { MEMBER_ID, shown, startTestBot, type TestBot } from "../helpers/app.js";
import { ADMIN, T0 } from "../helpers/billing.js";
import type { JsonObject } from "../helpers/fake-slack.js";
import { buyShownPrice, buyValues } from "../helpers/forms.js";
import { countRows, countsAndBalance } from "../helpers/rows.js";

function blockById(view: unknown, blockId: string): JsonObject | undefined {
  const blocks = (view as JsonObject | undefined)?.blocks;
  return Array.isArray(blocks)
    ? (blocks as JsonObject[]).find((b) => b.block_id === blockId)
    : undefined;
}

/** The initial option's value of an input block's select. */
function initialValue(view: unknown, blockId: string): unknown {
  const element = blockById(view, blockId)?.element as JsonObject | undefined;
  return (element?.initial_option as JsonObject | undefined)?.value;
}

describe("/kms buy", () => {
  let s: TestBot;
  beforeEach(async () => {
    s = await startTestBot();
  });
  afterEach(async () => {
    s.fake.assertNoViolations();
    await s.close();
  });

  const count = (table: string) => countRows(s.db, table);
  const snapshot = () =>
    countsAndBalance(s.billing, ["instances", "orders", "ledger", "audit_log"]);

  /** Submits the buy modal as `userId` (default: the admin). */
  // Each delivery gets its own trigger id, as Slack's do, so a second delivery of one view is
  // a distinct request (not a replay the guard refuses) and reaches the purchase.
  let deliveries = 0;
  const submit = (values: JsonObject, viewId = "V0BUY0001", userId = ADMIN) =>
    s.submit({
      callbackId: BUY_VIEW,
      viewId,
      userId,
      values,
      privateMetadata: buyShownPrice(values),
      triggerId: `buy.${++deliveries}`,
    });

  async function openBuyModal(): Promise<JsonObject> {
    await s.command("buy", ADMIN);
    await s.fake.waitFor("views.open", (c) => c.response?.ok === true);
    const view = s.fake.findView(BUY_VIEW);
    expect(view).toBeDefined();
    return view as JsonObject;
  }

  it("opens the purchase modal for an admin, with a live price", async () => {
    await topup(s.billing, cliActor, 500_000);
    const res = await s.command("buy", ADMIN);
    expect(res.status).toBe(200);
    expect(res.text).toBe("");
    const call = await s.fake.waitFor("views.open", (c) => c.response?.ok === true);
    const view = call.args.view as JsonObject;
    expect(view.callback_id).toBe(BUY_VIEW);
    for (const block of [BUY_NAME, BUY_SITE, BUY_PERIOD, BUY_CHANNEL, BUY_OWNER, TERMS]) {
      expect(blockById(view, block.block), block.block).toMatchObject({ type: "input" });
    }
    expect(initialValue(view, BUY_SITE.block)).toBe("international");
    expect(initialValue(view, BUY_PERIOD.block)).toBe("1");
    const summary = shown(blockById(view, BUY_SUMMARY_BLOCK));
    expect(summary).toContain("USD 1,799.00 x 1 month = *USD 1,799.00*");
    expect(summary).toContain("USD 5,000.00 now, USD 3,201.00 after");
    expect(shown(view)).toContain("Terms of Service");
  });

  it("refuses a member by an ephemeral reply naming the admins, opening nothing", async () => {
    const res = await s.command("buy", MEMBER_ID);
    expect(res.status).toBe(200);
    const refusal = await s.fake.waitForResponse();
    expect(refusal.body.response_type).toBe("ephemeral");
    expect(String(refusal.body.text)).toContain("Only a billing admin can buy instances");
    expect(String(refusal.body.text)).toContain(`<@${ADMIN}>`);
    expect(s.fake.callsTo("views.open")).toHaveLength(0);
  });

  it("updates the summary when the site or the period changes", async () => {
    await topup(s.billing, cliActor, 500_000);
    const opened = await openBuyModal();
    await s.click({
      actionId: BUY_SITE.action,
      view: opened,
      userId: ADMIN,
      selectedOption: { value: "china" },
      stateValues: buyValues({ site: "china", months: "1" }),
    });
    const first = await s.fake.waitFor("views.update", (c) => c.response?.ok === true);
    expect(first.args.view_id).toBe(opened.id);
    const v1 = first.args.view as JsonObject;
    expect(v1.callback_id).toBe(BUY_VIEW);
    expect(initialValue(v1, BUY_SITE.block)).toBe("china");
    expect(shown(blockById(v1, BUY_SUMMARY_BLOCK))).toContain(
      "USD 2,399.00 x 1 month = *USD 2,399.00*",
    );
    expect(shown(blockById(v1, BUY_SUMMARY_BLOCK))).toContain(
      "USD 5,000.00 now, USD 2,601.00 after",
    );

    const updated = s.fake.findView(BUY_VIEW);
    await s.click({
      actionId: BUY_PERIOD.action,
      view: updated,
      userId: ADMIN,
      selectedOption: { value: "12" },
      stateValues: buyValues({ site: "china", months: "12" }),
    });
    const second = await s.fake.waitFor(
      "views.update",
      (c) => c !== first && c.response?.ok === true,
    );
    const v2 = second.args.view as JsonObject;
    expect(initialValue(v2, BUY_SITE.block)).toBe("china");
    expect(initialValue(v2, BUY_PERIOD.block)).toBe("12");
    const summary = shown(blockById(v2, BUY_SUMMARY_BLOCK));
    expect(summary).toContain("USD 2,399.00 x 1 year = *USD 28,788.00*");
    expect(summary).toContain("short by *USD 23,788.00*");
    expect(await count("instances")).toBe(0);
  });

  it("buys on submit: instance, order, ledger, modal closed, DM to the buyer", async () => {
    await topup(s.billing, cliActor, 1_000_000);
    const res = await submit(
      buyValues({
        name: "  payments-hsm  ",
        site: "china",
        months: "3",
        channel: "C0PAYMENTS",
        owner: "U0OWNER01",
      }),
    );
    expect(res.status).toBe(200);
    expect(res.text).toBe("");

    const instances = await s.db("instances").select();
    expect(instances).toHaveLength(1);
    const instance = instances[0];
    expect(instance).toMatchObject({
      name: "payments-hsm",
      site: "china",
      channel: "C0PAYMENTS",
      owner: "U0OWNER01",
      expires_at: addMonths(T0, 3),
      admin_disabled_at: null,
      released_at: null,
      auto_renew_months: null,
    });
    expect(instance.id).toMatch(/^kst-[a-z0-9]+$/);
    const orders = await s.db("orders").select();
    expect(orders).toHaveLength(1);
    expect(orders[0]).toMatchObject({
      kind: "purchase",
      instance_id: instance.id,
      site: "china",
      months: 3,
      unit_cents: 239_900,
      amount_cents: 719_700,
      period_start: T0,
      period_end: addMonths(T0, 3),
      created_by: ADMIN,
      idempotency_key: "buy:V0BUY0001",
    });
    expect(await balance(s.billing)).toBe(1_000_000 - 719_700);
    const charge = await s.db("ledger").where({ kind: "purchase" });
    expect(charge).toHaveLength(1);
    expect(charge[0]).toMatchObject({
      amount_cents: -719_700,
      balance_after_cents: 280_300,
      order_id: orders[0].id,
      instance_id: instance.id,
      actor: ADMIN,
    });
    expect(await s.db("audit_log").where({ action: "instance.purchase" })).toHaveLength(1);

    const dm = await s.fake.waitFor(
      "chat.postMessage",
      (c) => c.args.channel === ADMIN && c.response?.ok === true,
    );
    const text = String(dm.args.text);
    expect(text).toContain(instance.id);
    expect(text).toContain("payments-hsm");
    expect(text).toContain("3 months");
    expect(text).toContain("ORD-000001");
    expect(text).toContain("USD 7,197.00");
    expect(text).toContain("Balance: USD 2,803.00");
    expect(text).toContain(`<!date^${Math.floor(addMonths(T0, 3) / 1000)}^`);
    const home = await s.fake.waitFor(
      "views.publish",
      (c) => c.args.user_id === ADMIN && c.response?.ok === true,
    );
    expect(JSON.stringify(home.args.view)).toContain(instance.id);
    const status = shown((await s.command(`status ${instance.id}`)).reply);
    expect(status).toContain("payments-hsm");
    expect(status).toContain("<@U0OWNER01>");
  });

  it("refuses without the terms accepted, on the terms field", async () => {
    await topup(s.billing, cliActor, 1_000_000);
    const before = await snapshot();
    const res = await submit(buyValues({ terms: false }));
    expect(res.json).toEqual({
      response_action: "errors",
      errors: { [TERMS.block]: expect.stringContaining("Terms of Service") },
    });
    expect(await snapshot()).toEqual(before);
  });

  it.each([
    ["empty", ""],
    ["blank", "   "],
    ["missing", null],
  ])("refuses an %s name, on the name field", async (_label, name) => {
    await topup(s.billing, cliActor, 1_000_000);
    const before = await snapshot();
    const res = await submit(buyValues({ name }));
    expect(res.json).toMatchObject({
      response_action: "errors",
      errors: { [BUY_NAME.block]: expect.stringMatching(/name/i) },
    });
    expect(await snapshot()).toEqual(before);
  });

  it("refuses a missing site or period, or a period not on sale, on their fields", async () => {
    await topup(s.billing, cliActor, 1_000_000);
    const before = await snapshot();
    const missing = await submit(buyValues({ site: null, months: null }));
    expect(missing.json).toEqual({
      response_action: "errors",
      errors: {
        [BUY_SITE.block]: expect.stringContaining("site"),
        [BUY_PERIOD.block]: expect.stringContaining("period"),
      },
    });
    const forged = await submit(buyValues({ site: "mars" }), "V0BUY0002");
    expect(forged.json).toMatchObject({
      response_action: "errors",
      errors: { [BUY_SITE.block]: expect.any(String) },
    });
    const thirteen = await submit(buyValues({ months: "13" }), "V0BUY0003");
    expect(thirteen.json).toMatchObject({
      response_action: "errors",
      errors: { [BUY_PERIOD.block]: expect.any(String) },
    });
    expect(await snapshot()).toEqual(before);
  });

  it.each([
    ["a name over 200 characters", { name: "n".repeat(201) }, BUY_NAME.block],
    ["a name with control characters", { name: "pay\u0007ments" }, BUY_NAME.block],
    ["a channel that is no channel id", { channel: "#general" }, BUY_CHANNEL.block],
    ["an owner who is no user id", { owner: "bob" }, BUY_OWNER.block],
  ] as const)("refuses %s on its field", async (_label, choice, block) => {
    await topup(s.billing, cliActor, 1_000_000);
    const before = await snapshot();
    const res = await submit(buyValues(choice));
    expect(res.json).toEqual({
      response_action: "errors",
      errors: { [block]: expect.stringContaining("Invalid") },
    });
    expect(await snapshot()).toEqual(before);
  });

  it("refuses when the balance is short, showing the shortfall on the period field", async () => {
    await topup(s.billing, cliActor, 100_000);
    const before = await snapshot();
    const res = await submit(buyValues({ months: "1" }));
    expect(res.json).toMatchObject({
      response_action: "errors",
      errors: { [BUY_PERIOD.block]: expect.stringContaining("short by USD 799.00") },
    });
    expect(await snapshot()).toEqual(before);
    expect(s.fake.callsTo("chat.postMessage")).toHaveLength(0);
  });

  it("refuses a member submitting a crafted buy view, writing nothing", async () => {
    await topup(s.billing, cliActor, 1_000_000);
    const before = await snapshot();
    const res = await submit(buyValues(), "V0CRAFTED", MEMBER_ID);
    expect(res.status).toBe(200);
    const json = res.json as JsonObject;
    expect(json.response_action).toBe("errors");
    const errors = Object.values(json.errors as JsonObject).join(" ");
    expect(errors).toContain("Only a billing admin can buy instances");
    expect(await snapshot()).toEqual(before);
    expect(s.fake.callsTo("chat.postMessage")).toHaveLength(0);
  });

  it("creates one instance when the same view is submitted twice at once", async () => {
    await topup(s.billing, cliActor, 1_000_000);
    const values = buyValues({ months: "2" });
    const [first, second] = await Promise.all([
      submit(values, "V0TWICE01"),
      submit(values, "V0TWICE01"),
    ]);
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(first.text).toBe("");
    expect(second.text).toBe("");
    expect(await count("instances")).toBe(1);
    expect(await count("orders")).toBe(1);
    expect(await s.db("ledger").where({ kind: "purchase" })).toHaveLength(1);
    expect(await balance(s.billing)).toBe(1_000_000 - 2 * 179_900);
    await s.fake.waitFor("chat.postMessage", (c) => c.response?.ok === true);
    await s.fake.waitFor("views.publish", (c) => c.response?.ok === true);
    expect(s.fake.callsTo("chat.postMessage")).toHaveLength(1);

    // A different modal is a different purchase.
    const third = await submit(values, "V0TWICE02");
    expect(third.text).toBe("");
    expect(await count("instances")).toBe(2);
    await s.fake.waitFor(
      "views.publish",
      (c) => s.fake.callsTo("views.publish").indexOf(c) >= 1 && c.response?.ok === true,
    );
  });

  it("does not let a typed name mention or link in the confirmation DM", async () => {
    await topup(s.billing, cliActor, 1_000_000);
    const res = await submit(buyValues({ name: "<!channel> <https://x.test|pay>" }));
    expect(res.text).toBe("");
    const [instance] = await s.db("instances").select();
    expect(instance.name).toBe("<!channel> <https://x.test|pay>");
    const dm = await s.fake.waitFor(
      "chat.postMessage",
      (c) => c.args.channel === ADMIN && c.response?.ok === true,
    );
    await s.fake.waitFor("views.publish", (c) => c.response?.ok === true);
    expect(String(dm.args.text)).toContain(instance.id);
    expect(String(dm.args.text)).not.toContain("<!channel>");
    expect(String(dm.args.text)).not.toContain("<https://x.test");
  });
});
