import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { renew } from "../../src/billing/orders.js";
import { SNOOZE, WONT_RENEW } from "../../src/slack/features/warnings/blocks.js";
import { getInstance } from "../../src/store/instances.js";
import type { WarningRow } from "../../src/store/rows.js";
import { MEMBER_ID, shown, startTestBot, type TestBot } from "../helpers/app.js";
import { ADMIN, admin, DAY_MS, fund, seedInstance, T0 } from "../helpers/billing.js";
import type { JsonObject } from "../helpers/fake-slack.js";
import { emojiOf, HOUR, MINUTE, NO_SLEEP, OWNER, okPosts, warningOf } from "./harness.js";

describe("expiry warnings: Snooze and Won't renew, over the real app", () => {
  let s: TestBot;
  const expires = T0 + 20 * DAY_MS;
  /** Sweeps at `at` (ms); returns the emoji of each message it posted. */
  const sweepAt = async (at: number): Promise<string[]> => {
    s.clock.set(at);
    const before = okPosts(s.fake).length;
    await s.bot.sweep(NO_SLEEP);
    return okPosts(s.fake).slice(before).map(emojiOf);
  };
  /** The message Slack holds for a sent warning, as a block action payload carries it. */
  const posted = (w: WarningRow): { message: JsonObject; channelId: string } => {
    const m = s.fake.messages.find((x) => x.ts === w.message_ts && x.channel === w.posted_channel);
    if (!m) throw new Error(`warning ${w.id} is not in Slack`);
    return {
      channelId: m.channel,
      message: {
        type: "message",
        user: s.fake.botUserId,
        bot_id: s.fake.botId,
        ts: m.ts,
        text: m.text ?? "",
        blocks: m.blocks ?? [],
      },
    };
  };
  const snooze = async (w: WarningRow, choice: string, userId = OWNER) => {
    const res = await s.click({
      actionId: SNOOZE,
      ...posted(w),
      selectedOption: { value: `${choice}:${w.id}` },
      userId,
    });
    expect(res.status).toBe(200);
  };
  const wontRenew = async (w: WarningRow, userId = OWNER) => {
    const res = await s.click({ actionId: WONT_RENEW, ...posted(w), userId });
    expect(res.status).toBe(200);
  };
  const instance = async () => {
    const i = await getInstance({ tx: s.db }, "kst-a");
    if (!i) throw new Error("kst-a is gone");
    return i;
  };
  const refusal = async (includes: string) => {
    const r = await s.fake.waitForResponse((x) => String(x.body.text).includes(includes));
    expect(r.body.response_type).toBe("ephemeral");
    expect(r.body.replace_original).toBe(false);
    return r;
  };

  beforeEach(async () => {
    s = await startTestBot();
    await seedInstance(s.db, {
      id: "kst-a",
      expires_at: expires,
      channel: "C0TEAM",
      owner: OWNER,
    });
    expect(await sweepAt(expires - 14 * DAY_MS + HOUR)).toEqual([":hourglass_flowing_sand:"]);
  });
  afterEach(async () => {
    s.fake.assertNoViolations();
    await s.close();
  });

  it("Snooze 1 day: the message says who snoozed, no reminder for a day, then one reminder", async () => {
    const w = await warningOf(s.db, "kst-a", "pre_expiry");
    const snoozedAt = s.clock();
    await snooze(w, "1d");
    const update = await s.fake.waitFor("chat.update", (c) => c.response !== undefined);
    expect(update.response?.ok).toBe(true);
    expect(update.args).toMatchObject({ channel: "C0TEAM", ts: w.message_ts });
    expect(shown(update.args)).toContain(`<@${OWNER}> snoozed reminders for kst-a (1 day)`);
    expect(JSON.stringify(update.args.blocks)).not.toContain(SNOOZE);
    expect(s.fake.messages.find((m) => m.ts === w.message_ts)?.blocks).toEqual(update.args.blocks);
    expect((await instance()).snoozed_until).toBe(snoozedAt + DAY_MS);
    const audit = await s.db("audit_log").where({ action: "instance.snooze" });
    expect(audit.map((a) => [a.actor, a.subject])).toEqual([[OWNER, "kst-a"]]);

    for (const later of [MINUTE, 12 * HOUR, DAY_MS - MINUTE]) {
      expect(await sweepAt(snoozedAt + later), `${later / HOUR} h after snoozing`).toEqual([]);
    }
    expect(await sweepAt(snoozedAt + DAY_MS + MINUTE)).toEqual([":alarm_clock:"]);
    const reminder = okPosts(s.fake).at(-1);
    expect(reminder?.args.channel).toBe("C0TEAM");
    expect(String(reminder?.args.text)).toContain("Snoozed reminder: *kst-a*");
    expect(JSON.stringify(reminder?.args.blocks)).toContain(`<@${OWNER}>`);
    expect(await sweepAt(snoozedAt + DAY_MS + HOUR)).toEqual([]);
    expect(await sweepAt(snoozedAt + 3 * DAY_MS)).toEqual([]);
    // The next threshold still comes.
    expect(await sweepAt(expires - 7 * DAY_MS + HOUR)).toEqual([":hourglass_flowing_sand:"]);
  });

  it("Snooze until the next threshold: nothing until then, then that threshold's warning only", async () => {
    const w = await warningOf(s.db, "kst-a", "pre_expiry");
    await snooze(w, "next");
    const update = await s.fake.waitFor("chat.update");
    expect(shown(update.args)).toContain("snoozed reminders for kst-a (until the next threshold)");
    expect((await instance()).snoozed_until).toBe(expires - 7 * DAY_MS);
    for (const at of [
      expires - 13 * DAY_MS,
      expires - 10 * DAY_MS,
      expires - 7 * DAY_MS - MINUTE,
    ]) {
      expect(await sweepAt(at)).toEqual([]);
    }
    expect(await sweepAt(expires - 7 * DAY_MS + HOUR)).toEqual([":hourglass_flowing_sand:"]);
    expect(await sweepAt(expires - 6 * DAY_MS)).toEqual([]);
    expect(await sweepAt(expires - 3 * DAY_MS + HOUR)).toEqual([":hourglass_flowing_sand:"]);
  });

  it("Won't renew: no more pre-expiry warnings this period, auto-renew off, the expiry and release notices still come", async () => {
    await s.db("instances").where({ id: "kst-a" }).update({ auto_renew_months: 1 });
    await fund(s.billing, 1_000_000);
    const w = await warningOf(s.db, "kst-a", "pre_expiry");
    await wontRenew(w);
    const update = await s.fake.waitFor("chat.update");
    expect(update.args).toMatchObject({ channel: "C0TEAM", ts: w.message_ts });
    expect(shown(update.args)).toContain(`<@${OWNER}> won't renew kst-a this period`);
    expect(JSON.stringify(update.args.blocks)).not.toContain(WONT_RENEW);
    expect(await instance()).toMatchObject({
      wont_renew_expires_at: expires,
      auto_renew_months: null,
    });

    for (const days of [7, 3, 1]) {
      expect(await sweepAt(expires - days * DAY_MS + HOUR), `${days} days before`).toEqual([]);
    }
    expect(await s.db("orders")).toEqual([]);
    expect(await sweepAt(expires + HOUR)).toEqual([":red_circle:"]);
    expect(await sweepAt(expires + 8 * DAY_MS + HOUR)).toEqual([":warning:"]);
    expect(await s.db("orders")).toEqual([]);
    expect((await instance()).expires_at).toBe(expires);
  });

  it("Won't renew also holds back a pre-expiry warning that was still waiting for a retry", async () => {
    const w = await warningOf(s.db, "kst-a", "pre_expiry");
    s.fake.down();
    expect(await sweepAt(expires - 7 * DAY_MS + HOUR)).toEqual([]);
    expect(await warningOf(s.db, "kst-a", "pre_expiry")).toMatchObject({
      slot: 7,
      status: "pending",
    });
    s.fake.down(false);
    await wontRenew(w);
    await s.fake.waitFor("chat.update", (c) => c.response !== undefined);
    expect(await sweepAt(expires - 7 * DAY_MS + 2 * HOUR)).toEqual([]);
    expect(await sweepAt(expires - 6 * DAY_MS)).toEqual([]);
    expect(await sweepAt(expires + HOUR)).toEqual([":red_circle:"]);
  });

  it("Snooze also holds back a pre-expiry warning that was still waiting for a retry", async () => {
    const w = await warningOf(s.db, "kst-a", "pre_expiry");
    s.fake.down();
    expect(await sweepAt(expires - 7 * DAY_MS + HOUR)).toEqual([]);
    s.fake.down(false);
    await snooze(w, "1d");
    await s.fake.waitFor("chat.update", (c) => c.response !== undefined);
    const snoozedAt = s.clock();
    expect(await sweepAt(snoozedAt + HOUR)).toEqual([]);
    expect(await sweepAt(snoozedAt + 12 * HOUR)).toEqual([]);
    // After the snooze: one message, not the stale one and a reminder on top.
    expect((await sweepAt(snoozedAt + DAY_MS + HOUR)).length).toBe(1);
    expect(await sweepAt(snoozedAt + DAY_MS + 2 * HOUR)).toEqual([]);
  });

  it("refuses a member who is neither owner nor admin, and changes nothing", async () => {
    const w = await warningOf(s.db, "kst-a", "pre_expiry");
    await snooze(w, "1d", MEMBER_ID);
    await refusal("the instance's owner can snooze expiry reminders");
    await wontRenew(w, MEMBER_ID);
    await refusal("the instance's owner can stop expiry reminders");
    expect(s.fake.callsTo("chat.update")).toEqual([]);
    expect(await instance()).toMatchObject({ snoozed_until: null, wont_renew_expires_at: null });
    expect(
      await s.db("audit_log").whereIn("action", ["instance.snooze", "instance.wont_renew"]),
    ).toEqual([]);
    expect(await sweepAt(expires - 7 * DAY_MS + HOUR)).toEqual([":hourglass_flowing_sand:"]);
  });

  it("lets a billing admin snooze", async () => {
    const w = await warningOf(s.db, "kst-a", "pre_expiry");
    await snooze(w, "3d", ADMIN);
    const update = await s.fake.waitFor("chat.update");
    expect(shown(update.args)).toContain(`<@${ADMIN}> snoozed reminders for kst-a (3 days)`);
    expect((await instance()).snoozed_until).toBe(s.clock() + 3 * DAY_MS);
  });

  it("refuses a forged warning id and a malformed choice", async () => {
    const w = await warningOf(s.db, "kst-a", "pre_expiry");
    await s.click({
      actionId: SNOOZE,
      ...posted(w),
      selectedOption: { value: "1d:999999" },
      userId: OWNER,
    });
    await refusal("not one kms-bot knows");
    await s.click({
      actionId: SNOOZE,
      ...posted(w),
      selectedOption: { value: `1w:${w.id}` },
      userId: OWNER,
    });
    await refusal("malformed");
    await s.click({ actionId: WONT_RENEW, ...posted(w), value: "999999", userId: OWNER });
    await refusal("not one kms-bot knows");
    expect(s.fake.callsTo("chat.update")).toEqual([]);
    expect(await instance()).toMatchObject({ snoozed_until: null, wont_renew_expires_at: null });
  });

  it("a renewal after a snooze: the new period gets fresh warnings, the old message's buttons are refused", async () => {
    await fund(s.billing, 1_000_000);
    const w = await warningOf(s.db, "kst-a", "pre_expiry");
    await snooze(w, "next");
    await s.fake.waitFor("chat.update");
    s.clock.set(expires - 10 * DAY_MS);
    const r = await renew(s.billing, admin, { instanceId: "kst-a", months: 1 });
    const next = r.instance.expires_at;
    expect(next).toBeGreaterThan(expires + 27 * DAY_MS);
    expect((await instance()).snoozed_until).toBeNull();

    // Where the old period's snooze would have ended and its thresholds were: nothing.
    for (const at of [
      expires - 7 * DAY_MS + HOUR,
      expires - 3 * DAY_MS + HOUR,
      next - 30 * DAY_MS - 1,
    ]) {
      expect(await sweepAt(at)).toEqual([]);
    }
    // The new period's thresholds, including the 14-day one the old period already used.
    expect(await sweepAt(next - 30 * DAY_MS + HOUR)).toEqual([":hourglass_flowing_sand:"]);
    expect(await sweepAt(next - 14 * DAY_MS + HOUR)).toEqual([":hourglass_flowing_sand:"]);
    expect(await warningOf(s.db, "kst-a", "pre_expiry")).toMatchObject({
      slot: 14,
      expires_at: next,
      status: "sent",
    });

    await snooze(w, "1d");
    await refusal("has been renewed since this warning");
    expect(s.fake.callsTo("chat.update")).toHaveLength(1);
    expect((await instance()).snoozed_until).toBeNull();
  });
});
