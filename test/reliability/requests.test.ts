import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { balance, topup } from "../../src/billing/account.js";
import { cliActor } from "../../src/billing/context.js";
import { fileTicket } from "../../src/billing/tickets.js";
import { APPROVE_TICKET } from "../../src/slack/features/tickets/blocks.js";
import { admission, REPLAY_WINDOW_MS, ReplayFilter, replaySafe } from "../../src/slack/guard.js";
import { MEMBER_ID, SIGNING_SECRET, startTestBot, type TestBot } from "../helpers/app.js";
import { ADMIN, DAY_MS, seedInstance, T0 } from "../helpers/billing.js";
import { DATABASES } from "../helpers/databases.js";
import {
  blockAction,
  postToApp,
  type SlackRequest,
  slashCommand,
} from "../helpers/slack-requests.js";
import { renewSubmission } from "./bot-process.js";

describe("request guard", () => {
  let s: TestBot;
  beforeEach(async () => {
    s = await startTestBot();
  });
  afterEach(async () => {
    await s.close();
  });

  const topupRequest = (teamId?: string) =>
    slashCommand({
      text: "topup 100",
      userId: ADMIN,
      teamId,
      triggerId: s.fake.newTriggerId(),
      responseUrl: s.fake.newResponseUrl(),
    });

  it("refuses a replayed request (the same signed request sent again) and changes nothing", async () => {
    const request = topupRequest();
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
    const res = await s.send(topupRequest("T0OTHERWS"));
    expect(String((res.json as { text?: string }).text)).toContain("serves another workspace");
    expect(await balance(s.billing)).toBe(0);
    const ours = await s.send(topupRequest("T0TEST"));
    expect(ours.text).toBe("");
    expect(String((await s.fake.waitForResponse()).body.text)).toContain("Recharged USD 100.00");
  });
});

describe("the in-process replay filter", () => {
  it("remembers a signature for the 5 minutes Bolt accepts its timestamp, then forgets it", () => {
    const filter = new ReplayFilter();
    const signedAt = 1_000_000;
    expect(filter.seen("v0=abc", signedAt, signedAt)).toBe(false);
    expect(filter.seen("v0=abc", signedAt, signedAt + REPLAY_WINDOW_MS - 1)).toBe(true);
    expect(filter.seen("v0=abc", signedAt, signedAt + REPLAY_WINDOW_MS + 1)).toBe(false);
  });

  it("holds at most its bound under a flood, forgetting the oldest first", () => {
    const filter = new ReplayFilter(REPLAY_WINDOW_MS, 100);
    for (let i = 0; i < 1_000; i++) filter.seen(`v0=${i}`, 0, 0);
    expect(filter.size).toBeLessThanOrEqual(100);
    expect(filter.seen("v0=999", 0, 0)).toBe(true);
    expect(filter.seen("v0=0", 0, 0)).toBe(false);
  });
});

describe.each(DATABASES)("one signed request delivered to two replicas (%s)", (dbId) => {
  let a: TestBot;
  let b: TestBot;
  let running: boolean;
  beforeEach(async () => {
    a = await startTestBot({ db: dbId });
    b = await startTestBot({ replicaOf: a });
    running = true;
    await seedInstance(a.db, { id: "kst-a", expires_at: T0 + 20 * DAY_MS, owner: MEMBER_ID });
    await topup(a.billing, cliActor, 1_000_000);
  });
  /** Lets both replicas finish what they do after the ack (DMs, message updates). */
  const settle = async () => {
    running = false;
    await Promise.all([a.bot.stop(), b.bot.stop()]);
  };
  afterEach(async () => {
    if (running) await settle();
    await a.t.destroy();
    await a.fake.close();
  });

  /** Sends the very same bytes, signature and timestamp to both replicas at once. */
  const toBoth = async (request: SlackRequest) => {
    const timestamp = Math.floor(Date.now() / 1000);
    const answers = await Promise.all(
      [a, b].map((r) => postToApp(r.url, request, { signingSecret: SIGNING_SECRET, timestamp })),
    );
    for (const answer of answers) expect(answer.status).toBe(200);
    return answers;
  };
  const count = async (table: string, where: Record<string, unknown>) =>
    Number((await a.db(table).where(where).count({ n: "*" }).first())?.n);
  const dmsTo = (user: string) =>
    a.fake.callsTo("chat.postMessage").filter((c) => c.args.channel === user && c.response?.ok);

  it("a renewal is charged once and confirmed once", async () => {
    await toBoth(renewSubmission("V0RENEW1", "kst-a", 1, MEMBER_ID));
    await settle();
    expect(await count("orders", { kind: "renewal" })).toBe(1);
    expect(await count("ledger", { kind: "renewal" })).toBe(1);
    expect(await balance(a.billing)).toBe(1_000_000 - 179_900);
    expect(dmsTo(MEMBER_ID)).toHaveLength(1);
    // Keyed by its view id: no shared record of the request was needed.
    expect(await count("seen_requests", {})).toBe(0);
  });

  it("a `/kms topup` is credited once", async () => {
    const request = slashCommand({
      text: "topup 100",
      userId: ADMIN,
      triggerId: a.fake.newTriggerId(),
      responseUrl: a.fake.newResponseUrl(),
    });
    await toBoth(request);
    await settle();
    expect(await count("ledger", { kind: "recharge" })).toBe(2);
    expect(await balance(a.billing)).toBe(1_000_000 + 10_000);
    // Keyed by its trigger id: no shared record of the request was needed.
    expect(await count("seen_requests", {})).toBe(0);
  });

  it("an approval refunds once and tells the requester once", async () => {
    await toBoth(renewSubmission("V0RENEW2", "kst-a", 1, MEMBER_ID));
    const { ticket } = await fileTicket(
      a.billing,
      { type: "user", userId: MEMBER_ID },
      {
        instanceId: "kst-a",
        reason: "moving away",
      },
    );
    const approve = blockAction({
      actionId: APPROVE_TICKET,
      value: String(ticket.id),
      userId: ADMIN,
      triggerId: a.fake.newTriggerId(),
      responseUrl: a.fake.newResponseUrl(),
    });
    await toBoth(approve);
    await settle();
    expect(await count("ledger", { kind: "refund" })).toBe(1);
    expect(await balance(a.billing)).toBe(1_000_000);
    expect(dmsTo(MEMBER_ID).filter((c) => String(c.args.text).includes("approved"))).toHaveLength(
      1,
    );
  });

  it("reads write nothing to the database, and a copy to the same replica is still refused", async () => {
    for (const text of ["help", "status", "renew kst-a"]) {
      const request = slashCommand({
        text,
        triggerId: a.fake.newTriggerId(),
        responseUrl: a.fake.newResponseUrl(),
      });
      const timestamp = Math.floor(Date.now() / 1000);
      const send = (r: TestBot) =>
        postToApp(r.url, request, { signingSecret: SIGNING_SECRET, timestamp });
      expect(JSON.stringify((await send(a)).json ?? "")).not.toContain("already handled");
      expect(JSON.stringify((await send(a)).json)).toContain("already handled");
    }
    expect(await count("seen_requests", {})).toBe(0);
  });
});

describe("admission: at most `limit` requests handled at once, work after the ack included", () => {
  const logger = { warn: () => undefined };
  /** A request's trip through the stage; `done` ends its work. */
  const request = (
    middleware: ReturnType<typeof admission>,
    body: Record<string, unknown> = {},
  ) => {
    const acks: unknown[] = [];
    let started = false;
    let done: () => void = () => undefined;
    const work = new Promise<void>((resolve) => {
      done = resolve;
    });
    const handled = middleware(
      {
        body,
        logger,
        ack: async (r?: unknown) => {
          acks.push(r);
        },
      } as unknown as Parameters<typeof middleware>[0],
      async () => {
        started = true;
        await work;
      },
    );
    return { handled, acks, started: () => started, done: () => done() };
  };
  const tick = () => new Promise((r) => setTimeout(r, 0));

  it("starts the next waiting request as soon as one finishes, oldest first", async () => {
    const middleware = admission({ limit: 2, maxWaitMs: 60_000 });
    const [a, b, c, d] = Array.from({ length: 4 }, () => request(middleware));
    await tick();
    expect([a, b, c, d].map((r) => r.started())).toEqual([true, true, false, false]);
    b.done();
    await b.handled;
    await tick();
    expect([c, d].map((r) => r.started())).toEqual([true, false]);
    for (const r of [a, c, d]) r.done();
    await Promise.all([a.handled, c.handled]);
    await tick();
    expect(d.started()).toBe(true);
    await d.handled;
  });

  it("turns away a command that waited too long, saying so, and does nothing for it", async () => {
    const middleware = admission({ limit: 1, maxWaitMs: 10 });
    const busy = request(middleware);
    const late = request(middleware, { command: "/kms" });
    await late.handled;
    expect(late.started()).toBe(false);
    expect(JSON.stringify(late.acks)).toContain("busy");
    busy.done();
    await busy.handled;
  });
});

describe("which commands a copy can't repeat (the router's replaySafe, used by the guard)", () => {
  const command = (text: string) => ({ command: "/kms", text });
  it("reads, modals and the trigger-keyed top-up need no shared record", () => {
    for (const text of [
      "",
      "help",
      "status",
      "status kst-a",
      "renew kst-a",
      "buy",
      "unsubscribe",
      "tickets",
      "bills",
      "bills 2026-11",
      "balance",
      "topup 100",
      "price",
      "admins",
      "faq",
      "faq is there a free trial?",
      "faq add",
      "faq edit 3",
      "frobnicate",
    ])
      expect(replaySafe(command(text)), text).toBe(true);
  });
  it("everything else that writes is also recorded in the shared database", () => {
    for (const text of [
      "price set china 1,799",
      "bills export",
      "bills export 2026-11",
      "disable kst-a",
      "enable kst-a",
      "autorenew kst-a 3 months",
      "admins add <@U0NEWADMIN>",
      "admins remove <@U0NEWADMIN>",
      "faq remove 3",
      "sync",
      "assign kst-a <#C0ALERTS> <@U0OWNER01>",
    ])
      expect(replaySafe(command(text)), text).toBe(false);
  });
});
