import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { balance } from "../../src/billing/account.js";
import { autoRenew } from "../../src/billing/autorenew.js";
import type { BillingContext } from "../../src/billing/context.js";
import { isBillingError } from "../../src/billing/errors.js";
import { setAutoRenew, wontRenew } from "../../src/billing/instances.js";
import { unsubscribe } from "../../src/billing/refunds.js";
import { approveTicket, fileTicket } from "../../src/billing/tickets.js";
import { getInstance } from "../../src/store/instances.js";
import { listOrders } from "../../src/store/orders.js";
import { slackPoster } from "../../src/timer/poster.js";
import { sweep } from "../../src/timer/sweep.js";
import {
  admin,
  billingContext,
  DAY_MS,
  fund,
  MEMBER,
  seedInstance,
  T0,
  type TestClock,
} from "../helpers/billing.js";
import { createTestDatabase, type TestDatabase } from "../helpers/databases.js";
import { type FakeSlack, startFakeSlack } from "../helpers/fake-slack.js";
import { emojiOf, HOUR, MINUTE, NO_SLEEP, postsAbout, SETTINGS } from "./harness.js";

// Issue 11 ("Money and dates"): the timer's part, each test failing before its fix.

describe("expiry timer, issue 11", () => {
  let t: TestDatabase;
  let fake: FakeSlack;
  let ctx: BillingContext & { clock: TestClock };
  const run = () => sweep(ctx, SETTINGS, slackPoster(fake.botToken, fake.url), NO_SLEEP);
  const lastText = (id: string) => String(postsAbout(fake, id).at(-1)?.args.text ?? "");
  const lastBlocks = (id: string) => JSON.stringify(postsAbout(fake, id).at(-1)?.args.blocks);

  beforeEach(async () => {
    t = await createTestDatabase("sqlite");
    fake = await startFakeSlack();
    ctx = billingContext(t.db, T0);
  });
  afterEach(async () => {
    await fake.close();
    await t.destroy();
  });

  it("item 6: each warning shows the threshold it was sent for, and release is never 'in 0 days'", async () => {
    const expires = T0 + 30 * DAY_MS;
    await seedInstance(t.db, { id: "kst-d", expires_at: expires });
    ctx.clock.set(expires - 30 * DAY_MS + MINUTE);
    await run();
    expect(lastText("kst-d")).toContain("30 days left");
    ctx.clock.set(expires - DAY_MS + MINUTE);
    await run();
    expect(lastText("kst-d")).toContain("1 day left");
    ctx.clock.set(expires + 14 * DAY_MS + MINUTE);
    await run();
    expect(lastText("kst-d")).toContain("(in 1 day)");
    expect(lastBlocks("kst-d")).toContain("expired 14 days ago, released in 1 day");
  });

  it("item 3: an auto-renewal short of money at every slot renews on the first sweep after a top-up", async () => {
    const expires = T0 + 10 * DAY_MS;
    await seedInstance(t.db, { id: "kst-r", expires_at: expires, auto_renew_months: 1 });
    await fund(ctx, 100_000);
    for (const at of [expires - 3 * DAY_MS, expires - DAY_MS, expires + MINUTE]) {
      ctx.clock.set(at + MINUTE);
      expect((await run()).renewed).toBe(0);
    }
    ctx.clock.set(expires + 2 * DAY_MS);
    await fund(ctx, 100_000);
    ctx.clock.set(expires + 2 * DAY_MS + 5 * MINUTE);
    expect((await run()).renewed).toBe(1);
    const renewed = await getInstance({ tx: t.db }, "kst-r");
    expect(renewed?.expires_at).toBeGreaterThan(ctx.clock());
    expect(await balance(ctx)).toBe(200_000 - 179_900);
    // Three failure notices at most (one per slot), however many sweeps retried.
    expect(postsAbout(fake, "kst-r").filter((c) => emojiOf(c) === ":no_entry:")).toHaveLength(3);
  });

  it("item 5: auto-renew turned off after the sweep read the instance: nothing is charged", async () => {
    const expires = T0 + 10 * DAY_MS;
    const read = await seedInstance(t.db, {
      id: "kst-o",
      expires_at: expires,
      auto_renew_months: 1,
    });
    await fund(ctx, 1_000_000);
    ctx.clock.set(expires - 3 * DAY_MS + MINUTE);
    // The sweep has read the instance (auto-renew on); then the owner turns it off.
    await setAutoRenew(ctx, admin, "kst-o", null);
    const error = await autoRenew(ctx, { instance: read, months: 1, slot: 3 }).catch((e) => e);
    expect(isBillingError(error, "AUTO_RENEWAL_STOPPED")).toBe(true);
    expect(await listOrders({ tx: t.db }, "kst-o")).toEqual([]);
    // Won't renew and an open unsubscribe ticket stop it the same way.
    await setAutoRenew(ctx, admin, "kst-o", 1);
    await wontRenew(ctx, admin, "kst-o", expires);
    await setAutoRenew(ctx, admin, "kst-o", 1);
    const wont = await autoRenew(ctx, { instance: read, months: 1, slot: 3 }).catch((e) => e);
    expect(isBillingError(wont, "AUTO_RENEWAL_STOPPED")).toBe(true);
    await seedInstance(t.db, { id: "kst-p", expires_at: expires, auto_renew_months: 1 });
    await fileTicket(
      ctx,
      { type: "user", userId: MEMBER },
      { instanceId: "kst-p", reason: "not needed" },
    );
    const p = await getInstance({ tx: t.db }, "kst-p");
    if (!p) throw new Error("kst-p is gone");
    const ticketed = await autoRenew(ctx, { instance: p, months: 1, slot: 3 }).catch((e) => e);
    expect(isBillingError(ticketed, "AUTO_RENEWAL_STOPPED")).toBe(true);
    expect(await t.db("orders").count({ n: "*" })).toEqual([{ n: 0 }]);
  });

  it("item 10: a warning waiting for a retry is not posted once its instance is released", async () => {
    const expires = T0 - 8 * DAY_MS;
    await seedInstance(t.db, { id: "kst-q", expires_at: expires });
    fake.failNext("chat.postMessage", { status: 503 });
    await run();
    expect(postsAbout(fake, "kst-q")).toEqual([]);
    await unsubscribe(ctx, admin, "kst-q");
    ctx.clock.advance(2 * HOUR);
    await run();
    expect(postsAbout(fake, "kst-q")).toEqual([]);
  });

  it("item 11: a ticket closed by the release updates its support post and tells the requester", async () => {
    const expires = T0 - 2 * DAY_MS;
    await seedInstance(t.db, { id: "kst-t", expires_at: expires });
    const { ticket } = await fileTicket(
      ctx,
      { type: "user", userId: MEMBER },
      { instanceId: "kst-t", reason: "not needed" },
    );
    const ts = fake.addMessage({ channel: "C0SUPPORT", text: "ticket" });
    await t
      .db("tickets")
      .where({ id: ticket.id })
      .update({ support_channel: "C0SUPPORT", support_ts: ts });
    ctx.clock.set(expires + 15 * DAY_MS + MINUTE);
    await run();
    const update = fake.callsTo("chat.update").find((c) => c.args.ts === ts);
    const blocks = JSON.stringify(update?.args.blocks);
    expect(blocks).toContain("Rejected by the expiry timer");
    expect(blocks).not.toContain("Approve");
    const told = fake.callsTo("chat.postMessage").find((c) => c.args.channel === MEMBER);
    expect(String(told?.args.text)).toContain("the expiry timer released kst-t");
    const error = await approveTicket(ctx, admin, ticket.id).then(
      () => "approved",
      (e: Error) => e.message,
    );
    expect(error).toContain("(by the expiry timer)");
    expect(error).not.toContain("<@timer>");
  });

  it("item 13: an auto-renewal's charge and its receipt commit together", async () => {
    const expires = T0 + 10 * DAY_MS;
    await seedInstance(t.db, { id: "kst-c", expires_at: expires, auto_renew_months: 1 });
    await fund(ctx, 1_000_000);
    // The process dies (here: the write fails) right when the receipt is written.
    await t.db.raw(
      "CREATE TRIGGER no_receipt BEFORE INSERT ON warnings WHEN NEW.kind = 'autorenew_ok' BEGIN SELECT RAISE(ABORT, 'crash'); END",
    );
    ctx.clock.set(expires - 3 * DAY_MS + MINUTE);
    await run().catch(() => undefined);
    const receipts = () => t.db("warnings").where({ kind: "autorenew_ok" });
    expect((await listOrders({ tx: t.db }, "kst-c")).length).toBe((await receipts()).length);
    await t.db.raw("DROP TRIGGER no_receipt");
    ctx.clock.advance(5 * MINUTE);
    await run();
    expect(await listOrders({ tx: t.db }, "kst-c")).toHaveLength(1);
    expect(await receipts()).toHaveLength(1);
  });

  it("item 13: answered Slack events are forgotten after a day", async () => {
    await t.db("processed_events").insert([
      { event_id: "Ev-old", received_at: T0 - 2 * DAY_MS },
      { event_id: "Ev-new", received_at: T0 - HOUR },
    ]);
    await run();
    const left = await t.db("processed_events").pluck("event_id");
    expect(left).toEqual(["Ev-new"]);
  });
});
