// Requests that are not from Slack, or not what Slack sends, change nothing and crash nothing.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { balance, topup } from "../../src/billing/account.js";
import { cliActor } from "../../src/billing/context.js";
import {
  BUY_CHANNEL,
  BUY_NAME,
  BUY_OWNER,
  BUY_PERIOD,
  BUY_SITE,
  BUY_VIEW,
} from "../../src/slack/features/buy/blocks.js";
import { RENEW_INSTANCE, RENEW_PERIOD, RENEW_VIEW } from "../../src/slack/features/renew/blocks.js";
import { TERMS } from "../../src/slack/kit/form.js";
import { SIGNING_SECRET, startTestBot, type TestBot } from "../helpers/app.js";
import { ADMIN, DAY_MS, seedInstance, T0 } from "../helpers/billing.js";
import {
  postToApp,
  type SlackRequest,
  signRequest,
  slashCommand,
  sslCheck,
  urlVerification,
} from "../helpers/slack-requests.js";

type Json = Record<string, unknown>;

const FORM = "application/x-www-form-urlencoded";
const nowSec = () => Math.floor(Date.now() / 1000);

/** POSTs to /slack/events with exactly these headers (no signing added). */
async function rawPost(
  baseUrl: string,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; text: string }> {
  const res = await fetch(`${baseUrl}/slack/events`, { method: "POST", headers, body });
  return { status: res.status, text: await res.text() };
}

/** Everything a write would leave behind. */
async function writes(s: TestBot) {
  return {
    ledger: await s.db("ledger").select("id"),
    orders: await s.db("orders").select("id"),
    audit: await s.db("audit_log").select("action"),
    instances: (await s.db("instances").select("id").orderBy("id")).map((r) => r.id as string),
    balance: await balance(s.billing),
  };
}

describe("request authenticity", () => {
  let s: TestBot;
  let topupByAdmin: () => SlackRequest;
  beforeEach(async () => {
    s = await startTestBot();
    topupByAdmin = () =>
      slashCommand({
        text: "topup 100",
        userId: ADMIN,
        triggerId: s.fake.newTriggerId(),
        responseUrl: s.fake.newResponseUrl(),
      });
  });
  afterEach(async () => {
    s.fake.assertNoViolations();
    await s.close();
  });

  async function expectNothingWritten() {
    expect(await s.db("ledger")).toEqual([]);
    expect(await s.db("audit_log")).toEqual([]);
    expect(await balance(s.billing)).toBe(0);
    expect(s.fake.callsTo("views.publish")).toEqual([]);
    expect(s.fake.responses).toEqual([]);
  }

  it("accepts a correctly signed /kms topup 100 (the control for the rejections below)", async () => {
    const res = await s.send(topupByAdmin());
    expect(res.status).toBe(200);
    // Acknowledged first; the answer follows through response_url.
    expect(res.text).toBe("");
    expect(String((await s.fake.waitForResponse()).body.text)).toContain("Recharged USD 100.00");
    expect(await s.db("ledger")).toHaveLength(1);
    expect(await balance(s.billing)).toBe(10_000);
  });

  it("rejects an unsigned request with 401", async () => {
    const req = topupByAdmin();
    const res = await rawPost(s.url, req.body, { "content-type": req.contentType });
    expect(res.status).toBe(401);
    await expectNothingWritten();
  });

  it("rejects a request signed with the wrong secret, or with a garbage signature, with 401", async () => {
    const wrongSecret = await postToApp(s.url, topupByAdmin(), {
      signingSecret: "not-the-signing-secret",
    });
    expect(wrongSecret.status).toBe(401);
    const garbage = await postToApp(s.url, topupByAdmin(), {
      signingSecret: SIGNING_SECRET,
      signature: `v0=${"0".repeat(64)}`,
    });
    expect(garbage.status).toBe(401);
    const noVersion = await postToApp(s.url, topupByAdmin(), {
      signingSecret: SIGNING_SECRET,
      signature: "deadbeef",
    });
    expect(noVersion.status).toBe(401);
    await expectNothingWritten();
  });

  it("rejects a body tampered with after signing with 401", async () => {
    const req = topupByAdmin();
    const headers = signRequest(req.body, SIGNING_SECRET);
    const tampered = req.body.replace("topup+100", "topup+9999999");
    expect(tampered).not.toBe(req.body);
    const res = await rawPost(s.url, tampered, { "content-type": req.contentType, ...headers });
    expect(res.status).toBe(401);
    await expectNothingWritten();
  });

  it("rejects a correctly signed request whose timestamp is older than 5 minutes with 401 (a replay)", async () => {
    const stale = await postToApp(s.url, topupByAdmin(), {
      signingSecret: SIGNING_SECRET,
      timestamp: nowSec() - 6 * 60,
    });
    expect(stale.status).toBe(401);
    const ancient = await postToApp(s.url, topupByAdmin(), {
      signingSecret: SIGNING_SECRET,
      timestamp: nowSec() - 365 * 24 * 3600,
    });
    expect(ancient.status).toBe(401);
    await expectNothingWritten();
    // Within the window the same request is fine.
    const recent = await postToApp(s.url, topupByAdmin(), {
      signingSecret: SIGNING_SECRET,
      timestamp: nowSec() - 4 * 60,
    });
    expect(recent.status).toBe(200);
    await s.fake.waitForResponse();
    expect(await s.db("ledger")).toHaveLength(1);
  });

  it("answers url_verification with the challenge, and only when signed", async () => {
    const res = await s.send(urlVerification("challenge-3f9a"));
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ challenge: "challenge-3f9a" });
    const unsigned = urlVerification("challenge-unsigned");
    const rejected = await rawPost(s.url, unsigned.body, { "content-type": unsigned.contentType });
    expect(rejected.status).toBe(401);
    expect(rejected.text).not.toContain("challenge-unsigned");
  });

  it("answers ssl_check with 200, and a payload smuggled into an unsigned ssl_check does nothing", async () => {
    const res = await s.send(sslCheck());
    expect(res.status).toBe(200);
    const smuggled = new URLSearchParams(topupByAdmin().body);
    smuggled.set("ssl_check", "1");
    const unsigned = await rawPost(s.url, smuggled.toString(), { "content-type": FORM });
    expect(unsigned.status).toBe(200);
    expect(unsigned.text).not.toContain("Recharged");
    await expectNothingWritten();
  });

  it("GET /healthz answers 200 {ok:true, database:'sqlite'}", async () => {
    const res = await fetch(`${s.url}/healthz`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(await res.json()).toEqual({ ok: true, database: "sqlite" });
  });
});

describe("malformed payloads", () => {
  let s: TestBot;
  beforeEach(async () => {
    s = await startTestBot();
    await seedInstance(s.db, { id: "kst-a", name: "payments", expires_at: T0 + 10 * DAY_MS });
    await seedInstance(s.db, { id: "kst-b", name: "ledger-hsm", expires_at: T0 + 20 * DAY_MS });
  });
  afterEach(async () => {
    s.fake.assertNoViolations();
    await s.close();
  });

  /** A `/kms <text>` form with some fields changed (a string) or removed (undefined). */
  function commandWith(text: string, fields: Record<string, string | undefined>): SlackRequest {
    const form = new URLSearchParams(
      slashCommand({
        text,
        userId: ADMIN,
        triggerId: s.fake.newTriggerId(),
        responseUrl: s.fake.newResponseUrl(),
      }).body,
    );
    for (const [key, value] of Object.entries(fields)) {
      if (value === undefined) form.delete(key);
      else form.set(key, value);
    }
    return { body: form.toString(), contentType: FORM };
  }

  async function expectStillAnswers(expectedBalance: string) {
    const res = await s.command("balance", ADMIN);
    expect(res.status).toBe(200);
    expect(res.reply.text).toBe(`Balance: ${expectedBalance}`);
  }

  it("a slash command without user_id, or with a garbage one, gets an ephemeral 'malformed' reply and writes nothing", async () => {
    const before = await writes(s);
    const cases: Record<string, string | undefined>[] = [
      { user_id: undefined },
      { user_id: "" },
      { user_id: "'; drop table ledger; --" },
      { user_id: "uadmin001" },
      { user_id: `${ADMIN}\n` },
      { user_id: "<@UADMIN001>" },
      { user_id: "x".repeat(10_000) },
    ];
    for (const fields of cases) {
      const res = await s.send(commandWith("topup 100", fields));
      const label = JSON.stringify(fields).slice(0, 60);
      expect(res.status, label).toBe(200);
      const reply = res.json as Json;
      expect(reply.response_type, label).toBe("ephemeral");
      expect(String(reply.text), label).toMatch(/malformed/i);
      expect(String(reply.text), label).toContain("nothing was done");
    }
    // Missing trigger_id or channel_id: also malformed, also nothing written.
    for (const fields of [{ trigger_id: undefined }, { channel_id: undefined }]) {
      const res = await s.send(commandWith("topup 100", fields));
      expect(res.status).toBe(200);
      expect(String((res.json as Json).text)).toMatch(/malformed/i);
    }
    expect(await writes(s)).toEqual(before);
    expect(await s.db("ledger")).toEqual([]);
    expect(s.fake.callsTo("views.publish")).toEqual([]);
    await expectStillAnswers("USD 0.00");
  });

  it("a payload= that is not JSON is refused with 400 and the app keeps answering", async () => {
    for (const payload of ["{not json", "", "null]", "%%%"]) {
      const res = await s.send({
        body: `payload=${encodeURIComponent(payload)}`,
        contentType: FORM,
      });
      expect(res.status, JSON.stringify(payload)).toBe(400);
    }
    await expectStillAnswers("USD 0.00");
  });

  describe("view_submission with garbage state.values", () => {
    const LONG = "9".repeat(10_000);
    const SQL = "'; drop table instances; --";

    const renewState = (instance: unknown, period: unknown, terms: unknown): Json => ({
      [RENEW_INSTANCE.block]: { [RENEW_INSTANCE.action]: instance },
      [RENEW_PERIOD.block]: { [RENEW_PERIOD.action]: period },
      [TERMS.block]: { [TERMS.action]: terms },
    });
    const select = (value: unknown) => ({ type: "static_select", selected_option: { value } });
    const accepted = { type: "checkboxes", selected_options: [{ value: TERMS.value }] };

    const I = RENEW_INSTANCE.block;
    const P = RENEW_PERIOD.block;
    const T = TERMS.block;
    /** [label, state.values, the fields the errors must name] */
    const GARBAGE_RENEW: Array<[string, unknown, string[]]> = [
      ["values is a string", "garbage", [I, P, T]],
      ["values is an array", [1, 2, 3], [I, P, T]],
      ["values is a number", 42, [I, P, T]],
      ["no blocks at all", {}, [I, P, T]],
      ["blocks are strings", { [I]: "kst-a", [P]: "1" }, [I, P, T]],
      [
        "selected_option is a string, value a number",
        renewState({ type: "static_select", selected_option: "kst-a" }, select(1), {
          type: "checkboxes",
          selected_options: "accepted",
        }),
        [I, P, T],
      ],
      [
        "10,000-character values",
        renewState(select(`kst-a${LONG}`), select(LONG), accepted),
        [I, P],
      ],
      ["SQL in the instance", renewState(select(SQL), select("1"), accepted), [I]],
      ["SQL in the period", renewState(select("kst-a"), select(SQL), accepted), [P]],
      ["a negative period", renewState(select("kst-a"), select("-1"), accepted), [P]],
      [
        "10,000 checkbox options",
        renewState(select("kst-a"), select("1"), {
          type: "checkboxes",
          selected_options: Array.from({ length: 10_000 }, () => ({ value: TERMS.value })),
        }),
        [T],
      ],
      [
        "terms missing, period null",
        renewState(select("kst-a"), { type: "static_select", selected_option: null }, null),
        [P, T],
      ],
    ];

    async function submitRenew(label: string, values: unknown) {
      const res = await s.submit({
        callbackId: RENEW_VIEW,
        viewId: `V-GARBAGE-${label.replace(/\W+/g, "-")}`,
        userId: ADMIN,
        values: values as Json,
      });
      expect(res.status, label).toBe(200);
      const body = res.json as Json | undefined;
      expect(body?.response_action, label).toBe("errors");
      const errors = (body?.errors ?? {}) as Record<string, string>;
      for (const message of Object.values(errors)) {
        expect(message.length, label).toBeGreaterThan(0);
        expect(message.length, label).toBeLessThanOrEqual(300);
      }
      return errors;
    }

    it("the renew modal answers response_action: errors on the right fields to every one, charges nothing, and the app keeps answering", async () => {
      await topup(s.billing, cliActor, 1_000_000);
      const before = await writes(s);
      for (const [label, values, fields] of GARBAGE_RENEW) {
        const errors = await submitRenew(label, values);
        expect(Object.keys(errors).sort(), label).toEqual([...fields].sort());
      }
      const sql = await submitRenew("SQL again", renewState(select(SQL), select("1"), accepted));
      expect(sql[I]).toContain("Unknown instance");
      expect(await writes(s)).toEqual(before);
      expect(await s.db("instances").count({ n: "*" })).toEqual([{ n: 2 }]);
      expect(s.fake.callsTo("chat.postMessage")).toEqual([]);
      await expectStillAnswers("USD 10,000.00");
    });

    it("the renew modal puts 'period not on sale' (99 or 0 months) on the period field", async () => {
      await topup(s.billing, cliActor, 1_000_000);
      const before = await writes(s);
      for (const months of ["99", "0"]) {
        const errors = await submitRenew(
          `period ${months}`,
          renewState(select("kst-a"), select(months), accepted),
        );
        expect(errors, `period ${months}`).toEqual({
          [P]: expect.stringContaining("not on sale"),
        });
      }
      expect(await writes(s)).toEqual(before);
    });

    const buyState = (fields: {
      name?: unknown;
      site?: unknown;
      period?: unknown;
      channel?: unknown;
      owner?: unknown;
      terms?: unknown;
    }): Json => ({
      [BUY_NAME.block]: {
        [BUY_NAME.action]: fields.name ?? { type: "plain_text_input", value: "new-hsm" },
      },
      [BUY_SITE.block]: { [BUY_SITE.action]: fields.site ?? select("international") },
      [BUY_PERIOD.block]: { [BUY_PERIOD.action]: fields.period ?? select("1") },
      [BUY_CHANNEL.block]: {
        [BUY_CHANNEL.action]: fields.channel ?? {
          type: "conversations_select",
          selected_conversation: null,
        },
      },
      [BUY_OWNER.block]: {
        [BUY_OWNER.action]: fields.owner ?? { type: "users_select", selected_user: null },
      },
      [TERMS.block]: { [TERMS.action]: fields.terms ?? accepted },
    });
    const text = (value: unknown) => ({ type: "plain_text_input", value });
    const BUY_BLOCKS = [
      BUY_NAME.block,
      BUY_SITE.block,
      BUY_PERIOD.block,
      BUY_CHANNEL.block,
      BUY_OWNER.block,
      TERMS.block,
    ];

    async function submitBuy(label: string, values: unknown) {
      const res = await s.submit({
        callbackId: BUY_VIEW,
        viewId: `V-BUY-${label.replace(/\W+/g, "-")}`,
        userId: ADMIN,
        values: values as Json,
      });
      expect(res.status, label).toBe(200);
      const body = res.json as Json | undefined;
      expect(body?.response_action, label).toBe("errors");
      const errors = (body?.errors ?? {}) as Record<string, string>;
      expect(Object.keys(errors).length, label).toBeGreaterThan(0);
      for (const block of Object.keys(errors)) expect(BUY_BLOCKS, label).toContain(block);
      return errors;
    }

    it("the buy modal answers response_action: errors to garbage in its required fields, buys nothing, and the app keeps answering", async () => {
      await topup(s.billing, cliActor, 1_000_000);
      const before = await writes(s);
      const cases: Array<[string, unknown, string]> = [
        ["values is a string", "garbage", BUY_NAME.block],
        ["no blocks at all", {}, BUY_NAME.block],
        ["name is a number", buyState({ name: text(12345) }), BUY_NAME.block],
        ["10,000-character name", buyState({ name: text(LONG) }), BUY_NAME.block],
        ["3,000-character name", buyState({ name: text("n".repeat(3000)) }), BUY_NAME.block],
        [
          "name with control characters",
          buyState({ name: text("a\u0000b\u0007") }),
          BUY_NAME.block,
        ],
        ["SQL as the site", buyState({ site: select(SQL) }), BUY_SITE.block],
        ["site is an object", buyState({ site: select({ x: 1 }) }), BUY_SITE.block],
        ["10,000-character period", buyState({ period: select(LONG) }), BUY_PERIOD.block],
        ["SQL as the period", buyState({ period: select(SQL) }), BUY_PERIOD.block],
        [
          "SQL as the channel",
          buyState({
            channel: { type: "conversations_select", selected_conversation: SQL },
          }),
          BUY_CHANNEL.block,
        ],
        [
          "SQL as the owner",
          buyState({ owner: { type: "users_select", selected_user: SQL } }),
          BUY_OWNER.block,
        ],
        ["terms as a string", buyState({ terms: "accepted" }), TERMS.block],
      ];
      for (const [label, values, block] of cases) {
        const errors = await submitBuy(label, values);
        expect(Object.keys(errors), label).toContain(block);
      }
      expect(await writes(s)).toEqual(before);
      expect(await s.db("instances").count({ n: "*" })).toEqual([{ n: 2 }]);
      await expectStillAnswers("USD 10,000.00");
    });

    it("the buy modal refuses garbage in its optional fields (owner, alert channel) instead of buying without them", async () => {
      await topup(s.billing, cliActor, 1_000_000);
      const before = await writes(s);
      const cases: Array<[string, unknown, string]> = [
        [
          "10,000-character owner",
          buyState({ owner: { type: "users_select", selected_user: `U${"A".repeat(9_999)}` } }),
          BUY_OWNER.block,
        ],
        [
          "owner is a number",
          buyState({ owner: { type: "users_select", selected_user: 42 } }),
          BUY_OWNER.block,
        ],
        [
          "10,000-character channel",
          buyState({
            channel: { type: "conversations_select", selected_conversation: `C${LONG}` },
          }),
          BUY_CHANNEL.block,
        ],
        [
          "channel is an array",
          buyState({ channel: { type: "conversations_select", selected_conversation: ["C1"] } }),
          BUY_CHANNEL.block,
        ],
      ];
      const bought: string[] = [];
      for (const [label, values, block] of cases) {
        const res = await s.submit({
          callbackId: BUY_VIEW,
          viewId: `V-BUY-OPT-${label.replace(/\W+/g, "-")}`,
          userId: ADMIN,
          values: values as Json,
        });
        expect(res.status, label).toBe(200);
        const body = res.json as Json | undefined;
        if (body?.response_action !== "errors") {
          bought.push(label);
          continue;
        }
        expect(Object.keys(body.errors as Json), label).toContain(block);
      }
      expect(bought, "submissions that bought an instance despite a garbage field").toEqual([]);
      expect(await writes(s)).toEqual(before);
    });
  });
});
