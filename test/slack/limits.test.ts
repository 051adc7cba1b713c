// A large fleet (300 instances with long names full of emoji and mrkdwn) must still render
// within Slack's limits on every surface, and a name's markup must never reach Slack raw.

import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { topup } from "../../src/billing/account.js";
import { cliActor, userActor } from "../../src/billing/context.js";
import { renew } from "../../src/billing/orders.js";
import { RENEW_INSTANCE, RENEW_VIEW } from "../../src/slack/features/renew/blocks.js";
import { MEMBER_ID, shown, startTestBot, type TestBot } from "../helpers/app.js";
import { ADMIN, DAY_MS, seedInstance, T0 } from "../helpers/billing.js";
import { checkMessage, checkView, type RecordedCall } from "../helpers/fake-slack.js";
import { renewValues, shownPrice } from "../helpers/forms.js";

type Json = Record<string, unknown>;

const FLEET = 300;

/** Markup a person could type into an instance name; each must reach Slack escaped. */
const MARKUP_HEADS = [
  "*bold* <!channel> ",
  "<@U123> _italic_ ",
  "<!here> ~strike~ `code` ",
  "<https://evil.example|click here> ",
  "> quote <#C123> <!everyone> ",
];
/** What must never appear in any JSON the app sends to Slack. */
const RAW_MARKUP = [
  "<!channel>",
  "<!here>",
  "<!everyone>",
  "<@U123>",
  "<#C123>",
  "<https://evil.example",
];

type Kind = "active" | "expired" | "admin_disabled" | "released" | "released_early";

function kindOf(i: number): Kind {
  if (i % 10 === 0) return "released"; // expired 20 days ago: released on the 16th day
  if (i % 20 === 1) return "released_early"; // released by an unsubscription
  if (i % 10 === 2) return "expired"; // disabled, 3 days after expiry
  if (i % 10 === 3) return "admin_disabled";
  return "active";
}

const idOf = (i: number) => `kst-${String(i).padStart(3, "0")}`;

/** ~200 UTF-16 units (the column's size): markup first, then emoji and formatting characters. */
function longName(i: number): string {
  const head = `${MARKUP_HEADS[i % MARKUP_HEADS.length]}${"x".repeat(i % 3)}🔐 payments-${i} `;
  const fill = ["🔑", "🚀", "é", " ", "*", "🔑", "_", "🚀", "~", "a"];
  let name = head;
  for (let k = i; ; k++) {
    const next = fill[k % fill.length] ?? "a";
    if (name.length + next.length > 200) break;
    name += next;
  }
  return name;
}

const ALL = Array.from({ length: FLEET }, (_, k) => k + 1);
const RELEASED_IDS = ALL.filter((i) => kindOf(i).startsWith("released")).map(idOf);
const CURRENT_IDS = ALL.filter((i) => !kindOf(i).startsWith("released")).map(idOf);
const COUNTS = {
  active: ALL.filter((i) => kindOf(i) === "active").length,
  disabled: ALL.filter((i) => kindOf(i) === "expired" || kindOf(i) === "admin_disabled").length,
  released: RELEASED_IDS.length,
};
/** An active instance whose name starts with `*bold* <!channel>`. */
const MARKUP_ID = idOf(5);

async function seedFleet(s: TestBot): Promise<void> {
  for (const i of ALL) {
    const kind = kindOf(i);
    const base = {
      id: idOf(i),
      name: longName(i),
      site: i % 3 === 0 ? ("china" as const) : ("international" as const),
      owner: i % 5 === 0 ? "U0OWNER01" : null,
      channel: i % 7 === 0 ? "C0PAYMENTS" : null,
      auto_renew_months: i % 4 === 0 ? 12 : null,
    };
    if (kind === "released") {
      await seedInstance(s.db, { ...base, expires_at: T0 - 20 * DAY_MS - i * 1000 });
    } else if (kind === "released_early") {
      await seedInstance(s.db, {
        ...base,
        expires_at: T0 + 10 * DAY_MS,
        released_at: T0 - DAY_MS,
      });
    } else if (kind === "expired") {
      await seedInstance(s.db, { ...base, expires_at: T0 - 3 * DAY_MS - i * 60_000 });
    } else if (kind === "admin_disabled") {
      await seedInstance(s.db, {
        ...base,
        expires_at: T0 + (i % 50) * DAY_MS + DAY_MS,
        admin_disabled_at: T0 - DAY_MS,
      });
    } else {
      await seedInstance(s.db, { ...base, expires_at: T0 + ((i % 97) + 1) * DAY_MS + i * 1000 });
    }
  }
}

/**
 * Paths of the strings in `payload` holding raw markup, e.g. `blocks[1].text.text`. Slack
 * shows `plain_text` objects literally (no mentions, links or formatting), so markup inside
 * them is harmless and is not reported; everything else (mrkdwn, message `text`) is.
 */
function rawMarkupPaths(payload: unknown, path = "", out: string[] = []): string[] {
  if (payload && typeof payload === "object" && (payload as Json).type === "plain_text") return out;
  if (typeof payload === "string") {
    if (RAW_MARKUP.some((m) => payload.includes(m))) out.push(path);
  } else if (Array.isArray(payload)) {
    payload.forEach((v, i) => {
      rawMarkupPaths(v, `${path}[${i}]`, out);
    });
  } else if (payload && typeof payload === "object") {
    for (const [k, v] of Object.entries(payload)) rawMarkupPaths(v, path ? `${path}.${k}` : k, out);
  }
  return out;
}

function expectNoRawMarkup(where: string, payload: unknown): void {
  const paths = rawMarkupPaths(payload);
  expect(
    { paths: paths.slice(0, 5), count: paths.length },
    `${where} carries an instance name's markup unescaped`,
  ).toEqual({ paths: [], count: 0 });
}

const blocksOf = (payload: unknown): Json[] => {
  const blocks = (payload as Json | undefined)?.blocks;
  return Array.isArray(blocks) ? (blocks as Json[]) : [];
};

/** Every section's text and fields are within Slack's limits (counted in UTF-16 units, the stricter count). */
function expectSectionsWithinLimits(blocks: Json[]): void {
  for (const [i, block] of blocks.entries()) {
    if (block.type !== "section") continue;
    const text = (block.text as Json | undefined)?.text;
    if (typeof text === "string") {
      expect(text.length, `blocks[${i}].text`).toBeLessThanOrEqual(3000);
      expect(text.length, `blocks[${i}].text`).toBeGreaterThan(0);
    }
    for (const field of (block.fields as Json[] | undefined) ?? []) {
      expect(String(field.text).length, `blocks[${i}].fields`).toBeLessThanOrEqual(2000);
    }
  }
}

/** The instance select of a renew modal. */
const instanceSelect = (view: unknown): Json | undefined =>
  blocksOf(view).find((b) => b.block_id === RENEW_INSTANCE.block)?.element as Json | undefined;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Waits until the fake has answered a call of `method` matching `pred`, whatever the answer. */
function answered(s: TestBot, method: string, pred: (c: RecordedCall) => boolean = () => true) {
  return s.fake.waitFor(method, (c) => c.response !== undefined && pred(c), 5000);
}

describe("a 300-instance fleet with long, markup-laden names", () => {
  let s: TestBot;
  beforeAll(async () => {
    s = await startTestBot();
    await seedFleet(s);
  });
  afterEach(() => {
    s.fake.assertNoViolations();
  });
  afterAll(async () => {
    await s.close();
  });

  it("the seeded fleet is what the tests assume", () => {
    expect(COUNTS).toEqual({ active: 195, disabled: 60, released: 45 });
    expect(CURRENT_IDS).toHaveLength(255);
    for (const i of [1, 5, 77, 300]) {
      const name = longName(i);
      expect(name.length).toBeGreaterThan(190);
      expect(name.length).toBeLessThanOrEqual(200);
      expect(name).not.toMatch(LONE_SURROGATE);
    }
  });

  it("/kms status: at most 50 blocks, sections within 3000 characters, and every instance listed or counted", async () => {
    const res = await s.command("status");
    expect(res.status).toBe(200);
    expect(res.reply.response_type).toBe("ephemeral");
    const blocks = blocksOf(res.reply);
    expect(blocks.length).toBeGreaterThan(2);
    expect(blocks.length).toBeLessThanOrEqual(50);
    expect(checkMessage(res.reply)).toEqual([]);
    expectSectionsWithinLimits(blocks);

    const text = shown(res.reply);
    expect(text).toContain(
      `*${FLEET} instance(s)*: ${COUNTS.active} active, ${COUNTS.disabled} disabled, ${COUNTS.released} released`,
    );
    const listed = CURRENT_IDS.filter((id) => text.includes(`*${id}*`));
    const more = /…and (\d+) more/.exec(text);
    const notShown = more ? Number(more[1]) : 0;
    // Either every current instance has its line, or the reply says exactly how many don't.
    expect(listed.length + notShown).toBe(CURRENT_IDS.length);
    expect(RELEASED_IDS.filter((id) => text.includes(`*${id}*`))).toEqual([]);
  });

  it("/kms status never shows a name's markup raw", async () => {
    const res = await s.command("status");
    expectNoRawMarkup("/kms status", res.reply);
    const one = await s.command(`status ${MARKUP_ID}`);
    expect(shown(one.reply)).toContain("&lt;!channel&gt;");
    expectNoRawMarkup(`/kms status ${MARKUP_ID}`, one.reply);
  });

  it("App Home (app_home_opened → views.publish): at most 100 blocks, no violations, the rest counted", async () => {
    const res = await s.event({
      type: "app_home_opened",
      user: MEMBER_ID,
      channel: "D0MEMBER1",
      tab: "home",
    });
    expect(res.status).toBe(200);
    const call = await answered(s, "views.publish", (c) => c.args.user_id === MEMBER_ID);
    expect(call.response?.ok).toBe(true);
    const view = call.args.view as Json;
    expect(view.type).toBe("home");
    const blocks = blocksOf(view);
    expect(blocks.length).toBeLessThanOrEqual(100);
    expect(checkView(view)).toEqual([]);
    expectSectionsWithinLimits(blocks);
    const renewButtons = blocks
      .map((b) => b.accessory as Json | undefined)
      .filter((a): a is Json => a?.type === "button");
    expect(renewButtons.length).toBeGreaterThan(0);
    const buttonIds = renewButtons.map((b) => String(b.value));
    expect(new Set(buttonIds).size).toBe(buttonIds.length);
    expect(buttonIds.filter((id) => !CURRENT_IDS.includes(id))).toEqual([]);
    const text = shown(view);
    expect(text).toContain(`(${CURRENT_IDS.length}, soonest expiry first)`);
    expect(text).toContain(`…and ${CURRENT_IDS.length - buttonIds.length} more`);
    expectNoRawMarkup("App Home", view);
  });

  it("the renew modal (/kms renew → views.open): offers the 100 that expire soonest, labels ≤75, released not offered; any other can be preselected", async () => {
    const res = await s.command("renew");
    expect(res.status).toBe(200);
    const call = await answered(s, "views.open");
    expect(call.response?.ok).toBe(true);
    const view = call.args.view as Json;
    expect(view.callback_id).toBe(RENEW_VIEW);
    expect(checkView(view)).toEqual([]);
    expect(blocksOf(view).length).toBeLessThanOrEqual(100);
    const select = instanceSelect(view);
    expect(select?.type).toBe("static_select");
    const options = select?.options as Json[];
    const soonest = (
      await s
        .db("instances")
        .whereIn("id", CURRENT_IDS)
        .orderBy([{ column: "expires_at" }, { column: "id" }])
        .limit(100)
    ).map((r: { id: string }) => r.id);
    expect(CURRENT_IDS.length).toBeGreaterThan(100);
    expect(options.map((o) => String(o.value))).toEqual(soonest);
    expect(options.filter((o) => RELEASED_IDS.includes(String(o.value)))).toEqual([]);
    for (const option of options) {
      const label = String((option.text as Json).text);
      expect(label.length, label).toBeLessThanOrEqual(75);
      expect(label.startsWith(`${String(option.value)} · `)).toBe(true);
    }
    expect(shown(view)).toContain("/kms renew <instance>");
    // An instance beyond the first 100 is offered, and chosen, when named.
    const later = CURRENT_IDS.find((id) => !soonest.includes(id)) as string;
    await s.command(`renew ${later}`);
    const named = await answered(
      s,
      "views.open",
      (c) => instanceSelect(c.args.view)?.initial_option !== undefined,
    );
    const namedSelect = instanceSelect(named.args.view) as Json;
    expect((namedSelect.initial_option as Json).value).toBe(later);
    expect((namedSelect.options as Json[]).map((o) => o.value)).toContain(later);
    expect((namedSelect.options as Json[]).length).toBeLessThanOrEqual(100);
  });

  it("the renew modal's instance labels never cut an emoji in half", async () => {
    await s.command("renew");
    const call = await answered(s, "views.open", (c) => c.response?.ok === true);
    const select = instanceSelect(call.args.view) as Json;
    const labels = (select.options as Json[]).map((o) => String((o.text as Json).text));
    expect(labels).toHaveLength(100);
    const broken = labels.filter((l) => LONE_SURROGATE.test(l));
    expect(broken, "option labels ending in half a surrogate pair").toEqual([]);
  });

  it("the renew modal never carries a name's markup raw (fleet list and preselected instance)", async () => {
    await s.command("renew");
    const all = await answered(s, "views.open", (c) => c.response?.ok === true);
    const one = await s.command(`renew ${MARKUP_ID}`);
    expect(one.status).toBe(200);
    const preselected = await answered(
      s,
      "views.open",
      (c) => (instanceSelect(c.args.view)?.initial_option as Json | undefined)?.value === MARKUP_ID,
    );
    expect(shown(preselected.args.view)).toContain("&lt;!channel&gt;");
    expect(preselected.response?.ok).toBe(true);
    expectNoRawMarkup("the renew modal (preselected)", preselected.args.view);
    expectNoRawMarkup("the renew modal", all.args.view);
  });

  it("the renewal confirmation DM never carries a name's markup raw", async () => {
    await topup(s.billing, cliActor, 1_000_000);
    const res = await s.submit({
      callbackId: RENEW_VIEW,
      viewId: "V-MARKUP-RENEW",
      userId: MEMBER_ID,
      values: renewValues(MARKUP_ID, "1"),
      privateMetadata: shownPrice(MARKUP_ID),
    });
    expect(res.status).toBe(200);
    expect(res.text).toBe("");
    const dm = await answered(s, "chat.postMessage", (c) => c.args.channel === MEMBER_ID);
    expect(dm.response?.ok).toBe(true);
    expect(String(dm.args.text)).toContain(MARKUP_ID);
    expectNoRawMarkup("the renewal confirmation DM", dm.args);
    const home = await answered(s, "views.publish", (c) => c.args.user_id === MEMBER_ID);
    expectNoRawMarkup("App Home after the renewal", home.args.view);
  });
});

describe("/kms bills with 300 bill lines in one month", () => {
  let s: TestBot;
  beforeAll(async () => {
    s = await startTestBot();
    await seedFleet(s);
    // One recharge and 299 renewals, all in the billing cycle of T0 (2026-01).
    await topup(s.billing, cliActor, 1_000_000_000);
    for (let k = 0; k < FLEET - 1; k++) {
      await renew(s.billing, userActor(ADMIN), {
        instanceId: CURRENT_IDS[k % CURRENT_IDS.length] as string,
        months: [1, 3, 12, 1][k % 4] as number,
        idempotencyKey: `limits-${k}`,
      });
    }
  });
  afterEach(() => {
    s.fake.assertNoViolations();
  });
  afterAll(async () => {
    await s.close();
  });

  it("fits one message (≤50 blocks, sections ≤3000) and lists or counts every line", async () => {
    expect(await s.db("ledger").count({ n: "*" })).toEqual([{ n: FLEET }]);
    const res = await s.command("bills");
    expect(res.status).toBe(200);
    const blocks = blocksOf(res.reply);
    expect(blocks.length).toBeGreaterThan(3);
    expect(blocks.length).toBeLessThanOrEqual(50);
    expect(checkMessage(res.reply)).toEqual([]);
    expectSectionsWithinLimits(blocks);
    const text = shown(res.reply);
    expect(text).toContain(`*${FLEET} line(s)* in billing cycle 2026-01`);
    const lines = text.match(/ · balance USD /g) ?? [];
    const more = /…and (\d+) more/.exec(text);
    expect(lines.length + (more ? Number(more[1]) : 0)).toBe(FLEET);
    // The Export CSV button survives the packing.
    const last = blocks.at(-1) as Json;
    expect(last.type).toBe("actions");
    expect(JSON.stringify(last)).toContain('"value":"2026-01"');
    expectNoRawMarkup("/kms bills", res.reply);
  });
});
