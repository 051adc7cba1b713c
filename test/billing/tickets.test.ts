import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { balance } from "../../src/billing/account.js";
import { addAdmin } from "../../src/billing/admins.js";
import { monthBill } from "../../src/billing/bills.js";
import { type BillingContext, userActor } from "../../src/billing/context.js";
import { isBillingError } from "../../src/billing/errors.js";
import { disableInstance, instanceView, setAutoRenew } from "../../src/billing/instances.js";
import { purchase, renew } from "../../src/billing/orders.js";
import { estimateRefund } from "../../src/billing/refunds.js";
import {
  approveTicket,
  fileTicket,
  rejectTicket,
  ticketLabel,
  visibleOpenTickets,
  withdrawTicket,
} from "../../src/billing/tickets.js";
import { listAudit } from "../../src/store/audit.js";
import { getInstance } from "../../src/store/instances.js";
import { ledgerSum } from "../../src/store/ledger.js";
import { listOrders } from "../../src/store/orders.js";
import type { TicketRow } from "../../src/store/rows.js";
import { getTicket } from "../../src/store/tickets.js";
import {
  ADMIN,
  admin,
  billingContext,
  DAY_MS,
  fund,
  MEMBER,
  member,
  seedInstance,
  T0,
  type TestClock,
} from "../helpers/billing.js";
import { createTestDatabase, DATABASES, type TestDatabase } from "../helpers/databases.js";
import { countRows } from "../helpers/rows.js";

const INTL = 179_900;
const CHINA = 239_900;
const FUNDS = 10_000_000;
const OTHER = "UOTHER001";
const ADMIN2 = "UADMIN002";
const requester = { type: "user", userId: MEMBER } as const;
const otherRequester = { type: "user", userId: OTHER } as const;

async function refusal(promise: Promise<unknown>, code: string): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isBillingError(error), `expected a ${code} refusal, got ${String(error)}`).toBe(true);
  expect((error as { code: string }).code).toBe(code);
  return error as Error;
}

/** Every Refund line of a month's bill, as [order id, amount, balance after]. */
async function refundLines(ctx: BillingContext, month = "2026-01") {
  return (await monthBill(ctx, month)).lines
    .filter((l) => l.item === "Refund")
    .map((l) => [l.orderId, l.amountCents, l.balanceAfterCents]);
}

describe.each(DATABASES)("unsubscribe tickets on %s", (dbId) => {
  let t: TestDatabase;
  let ctx: BillingContext & { clock: TestClock };

  beforeEach(async () => {
    t = await createTestDatabase(dbId);
    ctx = billingContext(t.db);
  });
  afterEach(async () => {
    await t.destroy();
  });

  describe("the refund rule, estimated at filing and executed on approval", () => {
    it("(a) active with pending renewals: refunds them in full, rolls the expiry back, keeps it active, stops auto-renewal", async () => {
      await fund(ctx, FUNDS);
      const expiry = T0 + 10 * DAY_MS;
      await seedInstance(t.db, { id: "kst-a", expires_at: expiry });
      await setAutoRenew(ctx, admin, "kst-a", 1);
      const r2 = await renew(ctx, member, { instanceId: "kst-a", months: 2 });
      const r1 = await renew(ctx, member, { instanceId: "kst-a", months: 1 });
      ctx.clock.advance(DAY_MS);

      const filed = await fileTicket(ctx, requester, { instanceId: "kst-a", reason: "moving" });
      expect(ticketLabel(filed.ticket.id)).toBe("TKT-0001");
      expect(filed.replayed).toBe(false);
      expect(filed.estimate.lines.map((l) => [l.orderId, l.kind, l.cents])).toEqual([
        [r2.order.id, "pending_renewal", 2 * INTL],
        [r1.order.id, "pending_renewal", INTL],
      ]);
      expect(filed.estimate.totalCents).toBe(3 * INTL);
      expect(filed.estimate.outcome).toBe("runs_to_expiry");
      expect(filed.estimate.expiresAfter).toBe(expiry);
      expect(filed.ticket.estimate_cents).toBe(3 * INTL);
      expect(filed.ticket.status).toBe("open");

      const before = await balance(ctx);
      expect(before).toBe(FUNDS - 3 * INTL);
      const approved = await approveTicket(ctx, admin, filed.ticket.id);
      expect(approved.result.refund.totalCents).toBe(filed.estimate.totalCents);
      expect(approved.result.refund.lines).toEqual(filed.estimate.lines);
      expect(approved.result.balanceAfterCents).toBe(FUNDS);
      expect(await balance(ctx)).toBe(FUNDS);
      expect(await ledgerSum({ tx: t.db })).toBe(FUNDS);

      const orders = await listOrders({ tx: t.db }, "kst-a");
      expect(orders.map((o) => [o.id, o.refunded_cents, o.amount_cents])).toEqual([
        [r2.order.id, 2 * INTL, 2 * INTL],
        [r1.order.id, INTL, INTL],
      ]);
      expect(await refundLines(ctx)).toEqual([
        [r2.order.id, 2 * INTL, before + 2 * INTL],
        [r1.order.id, INTL, FUNDS],
      ]);
      const view = await instanceView(ctx, "kst-a");
      expect(view.lifecycle.state).toBe("active");
      expect(view.instance.expires_at).toBe(expiry);
      expect(view.instance.auto_renew_months).toBeNull();
      expect(view.instance.released_at).toBeNull();

      const row = await getTicket({ tx: t.db }, filed.ticket.id);
      expect(row).toMatchObject({
        status: "approved",
        open_instance_id: null,
        decided_by: ADMIN,
        decided_at: ctx.clock(),
        refunded_cents: 3 * INTL,
        estimate_cents: 3 * INTL,
      });
      // Nothing is left to refund, and the audit log says who did what.
      expect((await estimateRefund(ctx, "kst-a")).totalCents).toBe(0);
      const actions = (await listAudit({ tx: t.db })).map((a) => [a.action, a.actor]);
      expect(actions).toEqual(
        expect.arrayContaining([
          ["ticket.file", MEMBER],
          ["ticket.approve", ADMIN],
          ["instance.unsubscribe", ADMIN],
        ]),
      );
    });

    it("(b) admin-disabled with unused paid time: pro rata by the second, rounded down, and released", async () => {
      await fund(ctx, FUNDS);
      const bought = await purchase(ctx, admin, { name: "hsm", site: "international", months: 1 });
      const id = bought.instance.id;
      // Bought 10 Jan 12:00 for one month (to 10 Feb 12:00, 2,678,400 s); 10 days and
      // 11.001 s later, 1,814,388.999 s are unused: 1,814,388 whole seconds, and
      // 179,900 x 1,814,388 / 2,678,400 = 121,866.94, rounded down. (Counting the partial second,
      // or milliseconds, or rounding to the nearest cent would each give 121,867.)
      ctx.clock.advance(10 * DAY_MS + 11_001);
      await disableInstance(ctx, admin, id);
      const expected = 121_866;
      const unused = Math.floor((bought.instance.expires_at - ctx.clock()) / 1000);
      const total = (bought.instance.expires_at - T0) / 1000;
      expect(Number((BigInt(INTL) * BigInt(unused)) / BigInt(total))).toBe(expected);

      const filed = await fileTicket(ctx, requester, { instanceId: id, reason: "cut off" });
      expect(filed.estimate.lines).toEqual([
        expect.objectContaining({
          orderId: bought.order.id,
          kind: "unused_period",
          cents: expected,
        }),
      ]);
      expect(filed.estimate.outcome).toBe("released");
      expect(filed.ticket.estimate_cents).toBe(expected);

      const before = await balance(ctx);
      const approved = await approveTicket(ctx, admin, filed.ticket.id);
      expect(approved.result.refund.totalCents).toBe(expected);
      expect(approved.ticket.refunded_cents).toBe(expected);
      expect(await balance(ctx)).toBe(before + expected);
      expect(await ledgerSum({ tx: t.db })).toBe(before + expected);
      const [order] = await listOrders({ tx: t.db }, id);
      expect(order.refunded_cents).toBe(expected);
      expect(await refundLines(ctx)).toEqual([[bought.order.id, expected, before + expected]]);
      const view = await instanceView(ctx, id);
      expect(view.lifecycle.state).toBe("released");
      expect(view.instance.released_at).toBe(ctx.clock());
      await refusal(renew(ctx, member, { instanceId: id, months: 1 }), "INSTANCE_RELEASED");
      await refusal(
        fileTicket(ctx, requester, { instanceId: id, reason: "again" }),
        "INSTANCE_RELEASED",
      );
    });

    it("(a)+(b) admin-disabled with a pending renewal: both, each on its order", async () => {
      await fund(ctx, FUNDS);
      const bought = await purchase(ctx, admin, { name: "hsm", site: "china", months: 1 });
      const id = bought.instance.id;
      const pending = await renew(ctx, member, { instanceId: id, months: 3 });
      ctx.clock.advance(DAY_MS);
      await disableInstance(ctx, admin, id);
      const unused = Math.floor((bought.instance.expires_at - ctx.clock()) / 1000);
      const share = Number(
        (BigInt(CHINA) * BigInt(unused)) / BigInt((bought.instance.expires_at - T0) / 1000),
      );
      const filed = await fileTicket(ctx, requester, { instanceId: id, reason: "done" });
      expect(filed.estimate.totalCents).toBe(3 * CHINA + share);
      const before = await balance(ctx);
      const approved = await approveTicket(ctx, admin, filed.ticket.id);
      expect(approved.result.refund.totalCents).toBe(filed.estimate.totalCents);
      expect(await balance(ctx)).toBe(before + 3 * CHINA + share);
      const refunded = Object.fromEntries(
        (await listOrders({ tx: t.db }, id)).map((o) => [o.id, o.refunded_cents]),
      );
      expect(refunded).toEqual({ [bought.order.id]: share, [pending.order.id]: 3 * CHINA });
      expect((await refundLines(ctx)).map((l) => [l[0], l[1]]).sort()).toEqual(
        [
          [bought.order.id, share],
          [pending.order.id, 3 * CHINA],
        ].sort(),
      );
      expect((await instanceView(ctx, id)).lifecycle.state).toBe("released");
    });

    it("(c) disabled by expiry: nothing is refundable, says why, approval refunds 0 and releases", async () => {
      await fund(ctx, FUNDS);
      ctx.clock.set(T0 - 40 * DAY_MS);
      const bought = await purchase(ctx, admin, { name: "old", site: "international", months: 1 });
      const id = bought.instance.id;
      ctx.clock.set(T0);
      expect((await instanceView(ctx, id)).lifecycle).toMatchObject({
        state: "disabled",
        reason: "expired",
      });
      const filed = await fileTicket(ctx, requester, { instanceId: id, reason: "expired" });
      expect(filed.estimate.lines).toEqual([]);
      expect(filed.estimate.totalCents).toBe(0);
      expect(filed.estimate.nothingBecause).toMatch(/expired/);
      expect(filed.ticket.estimate_cents).toBe(0);
      const before = await balance(ctx);
      const ledgerRows = await countRows(t.db, "ledger");
      const approved = await approveTicket(ctx, admin, filed.ticket.id);
      expect(approved.result.refund.totalCents).toBe(0);
      expect(approved.ticket.refunded_cents).toBe(0);
      expect(approved.result.balanceAfterCents).toBe(before);
      expect(await balance(ctx)).toBe(before);
      expect(await countRows(t.db, "ledger")).toBe(ledgerRows);
      expect(await refundLines(ctx, "2025-12")).toEqual([]);
      expect(await refundLines(ctx)).toEqual([]);
      expect((await listOrders({ tx: t.db }, id))[0].refunded_cents).toBe(0);
      const view = await instanceView(ctx, id);
      expect(view.lifecycle.state).toBe("released");
      expect(view.instance.released_at).toBe(T0);
      expect((await getTicket({ tx: t.db }, filed.ticket.id))?.refunded_cents).toBe(0);
    });

    it("(d) imported, no orders: nothing at all; approval refunds 0 and it runs on unchanged", async () => {
      await fund(ctx, FUNDS);
      const expiry = T0 + 40 * DAY_MS;
      await seedInstance(t.db, { id: "kst-imp", expires_at: expiry, auto_renew_months: 3 });
      const filed = await fileTicket(ctx, requester, { instanceId: "kst-imp", reason: "why not" });
      expect(filed.estimate.totalCents).toBe(0);
      expect(filed.estimate.lines).toEqual([]);
      expect(filed.estimate.nothingBecause).toMatch(/pending renewal/);
      expect(filed.estimate.outcome).toBe("runs_to_expiry");
      const approved = await approveTicket(ctx, admin, filed.ticket.id);
      expect(approved.result.refund.totalCents).toBe(0);
      expect(approved.result.balanceAfterCents).toBe(FUNDS);
      expect(await balance(ctx)).toBe(FUNDS);
      expect(await countRows(t.db, "ledger")).toBe(1);
      const view = await instanceView(ctx, "kst-imp");
      expect(view.lifecycle.state).toBe("active");
      expect(view.instance.expires_at).toBe(expiry);
      expect(view.instance.auto_renew_months).toBeNull();
      expect(view.instance.released_at).toBeNull();
    });
  });

  it("recomputes at approval: a renewal bought after filing is refunded too", async () => {
    await fund(ctx, FUNDS);
    await seedInstance(t.db, { id: "kst-a", expires_at: T0 + 10 * DAY_MS });
    await renew(ctx, member, { instanceId: "kst-a", months: 1 });
    const filed = await fileTicket(ctx, requester, { instanceId: "kst-a", reason: "moving" });
    expect(filed.estimate.totalCents).toBe(INTL);
    ctx.clock.advance(60_000);
    const late = await renew(ctx, member, { instanceId: "kst-a", months: 2 });
    const before = await balance(ctx);
    const approved = await approveTicket(ctx, admin, filed.ticket.id);
    expect(approved.result.refund.totalCents).toBe(3 * INTL);
    expect(approved.result.refund.lines.map((l) => l.orderId)).toContain(late.order.id);
    expect(await balance(ctx)).toBe(before + 3 * INTL);
    expect(await getTicket({ tx: t.db }, filed.ticket.id)).toMatchObject({
      estimate_cents: INTL,
      refunded_cents: 3 * INTL,
    });
    expect((await getInstance({ tx: t.db }, "kst-a"))?.expires_at).toBe(T0 + 10 * DAY_MS);
  });

  describe("filing", () => {
    it("requires a reason, a known instance, and one that is not released", async () => {
      await seedInstance(t.db, { id: "kst-a" });
      await seedInstance(t.db, { id: "kst-gone", expires_at: T0 - 20 * DAY_MS });
      const blank = await refusal(
        fileTicket(ctx, requester, { instanceId: "kst-a", reason: "  \n " }),
        "INVALID_INPUT",
      );
      expect(blank.message).toContain("reason");
      await refusal(
        fileTicket(ctx, requester, { instanceId: "kst-nope", reason: "x" }),
        "NOT_FOUND",
      );
      await refusal(
        fileTicket(ctx, requester, { instanceId: "kst-gone", reason: "x" }),
        "INSTANCE_RELEASED",
      );
      expect(await countRows(t.db, "tickets")).toBe(0);
    });

    it("keeps one open ticket per instance, naming the first; a new one once it is closed", async () => {
      await seedInstance(t.db, { id: "kst-a" });
      await seedInstance(t.db, { id: "kst-b" });
      const first = await fileTicket(ctx, requester, { instanceId: "kst-a", reason: "one" });
      const second = await refusal(
        fileTicket(ctx, otherRequester, { instanceId: "kst-a", reason: "two" }),
        "INVALID_STATE",
      );
      expect(second.message).toContain("TKT-0001");
      expect(second.message).toContain(`<@${MEMBER}>`);
      // Another instance is not affected.
      const other = await fileTicket(ctx, otherRequester, { instanceId: "kst-b", reason: "b" });
      expect(ticketLabel(other.ticket.id)).toBe("TKT-0002");
      await rejectTicket(ctx, admin, first.ticket.id, "no");
      const again = await fileTicket(ctx, otherRequester, { instanceId: "kst-a", reason: "3" });
      expect(ticketLabel(again.ticket.id)).toBe("TKT-0003");
    });

    it("files once per idempotency key: a retried request returns the first ticket", async () => {
      await seedInstance(t.db, { id: "kst-a" });
      const input = { instanceId: "kst-a", reason: "once", idempotencyKey: "ticket:V1" };
      const first = await fileTicket(ctx, requester, input);
      const retry = await fileTicket(ctx, requester, input);
      expect(first.replayed).toBe(false);
      expect(retry.replayed).toBe(true);
      expect(retry.ticket.id).toBe(first.ticket.id);
      expect(await countRows(t.db, "tickets")).toBe(1);
    });

    // Races are timing-dependent: each test runs ten of them, so that a window that is only
    // sometimes hit is hit.
    it("files once when the same request arrives twice at once on separate connections", async () => {
      const other = billingContext(t.another());
      for (let round = 0; round < 10; round++) {
        const instanceId = `kst-${round}`;
        await seedInstance(t.db, { id: instanceId });
        const input = { instanceId, reason: "once", idempotencyKey: `ticket:V${round}` };
        const outcomes = await Promise.allSettled([
          fileTicket(ctx, requester, input),
          fileTicket(other, requester, input),
        ]);
        const failures = outcomes.flatMap((o) =>
          o.status === "rejected" ? [String(o.reason)] : [],
        );
        expect(failures, `round ${round}`).toEqual([]);
        const ids = outcomes.map((o) => (o.status === "fulfilled" ? o.value.ticket.id : 0));
        expect(ids[0]).toBe(ids[1]);
      }
      expect(await countRows(t.db, "tickets")).toBe(10);
    });

    it("two people asking for one instance at once: one ticket, the other refused naming it", async () => {
      const other = billingContext(t.another());
      for (let round = 0; round < 10; round++) {
        const instanceId = `kst-${round}`;
        await seedInstance(t.db, { id: instanceId });
        const outcomes = await Promise.allSettled([
          fileTicket(ctx, requester, { instanceId, reason: "a", idempotencyKey: `a:${round}` }),
          fileTicket(other, otherRequester, {
            instanceId,
            reason: "b",
            idempotencyKey: `b:${round}`,
          }),
        ]);
        const ok = outcomes.flatMap((o) => (o.status === "fulfilled" ? [o.value] : []));
        const refused = outcomes.flatMap((o) => (o.status === "rejected" ? [o.reason] : []));
        expect(ok, `round ${round}`).toHaveLength(1);
        expect(refused).toHaveLength(1);
        expect(isBillingError(refused[0], "INVALID_STATE"), `round ${round}: ${refused[0]}`).toBe(
          true,
        );
        expect(String((refused[0] as Error).message)).toContain(ticketLabel(ok[0].ticket.id));
      }
      expect(await countRows(t.db, "tickets")).toBe(10);
    });
  });

  describe("deciding", () => {
    let filed: TicketRow;
    let before: number;
    beforeEach(async () => {
      await fund(ctx, FUNDS);
      await seedInstance(t.db, { id: "kst-a", expires_at: T0 + 10 * DAY_MS });
      await renew(ctx, member, { instanceId: "kst-a", months: 1 });
      filed = (await fileTicket(ctx, requester, { instanceId: "kst-a", reason: "moving" })).ticket;
      before = await balance(ctx);
    });

    async function unchanged(): Promise<void> {
      expect(await balance(ctx)).toBe(before);
      expect((await listOrders({ tx: t.db }, "kst-a"))[0].refunded_cents).toBe(0);
      expect((await getInstance({ tx: t.db }, "kst-a"))?.expires_at).toBe(
        T0 + 10 * DAY_MS + 31 * DAY_MS,
      );
    }

    it("only billing admins approve or reject; a member's attempt changes nothing", async () => {
      const approve = await refusal(approveTicket(ctx, member, filed.id), "FORBIDDEN");
      expect(approve.message).toContain(`<@${ADMIN}>`);
      await refusal(rejectTicket(ctx, member, filed.id, "no"), "FORBIDDEN");
      await refusal(approveTicket(ctx, requester, filed.id), "FORBIDDEN");
      expect((await getTicket({ tx: t.db }, filed.id))?.status).toBe("open");
      await unchanged();
    });

    it("two admins approving at once on separate connections refund once", async () => {
      await addAdmin(ctx, admin, ADMIN2);
      const other = billingContext(t.another());
      const outcomes = await Promise.allSettled([
        approveTicket(ctx, admin, filed.id),
        approveTicket(other, userActor(ADMIN2), filed.id),
      ]);
      const ok = outcomes.flatMap((o) => (o.status === "fulfilled" ? [o.value] : []));
      const refused = outcomes.flatMap((o) => (o.status === "rejected" ? [o.reason] : []));
      expect(ok).toHaveLength(1);
      expect(refused).toHaveLength(1);
      expect(isBillingError(refused[0], "TICKET_CLOSED"), String(refused[0])).toBe(true);
      const winner = ok[0].ticket.decided_by;
      expect(refused[0].failure).toEqual({
        code: "TICKET_CLOSED",
        ticketId: filed.id,
        status: "approved",
        decidedBy: winner,
      });
      expect(String(refused[0].message)).toContain("already approved");
      expect(await balance(ctx)).toBe(before + INTL);
      expect(await ledgerSum({ tx: t.db })).toBe(before + INTL);
      expect(await refundLines(ctx)).toHaveLength(1);
      expect((await listOrders({ tx: t.db }, "kst-a"))[0].refunded_cents).toBe(INTL);
      expect(await getTicket({ tx: t.db }, filed.id)).toMatchObject({
        status: "approved",
        decided_by: winner,
        refunded_cents: INTL,
      });
    });

    it("five approvals at once from several connections still refund once", async () => {
      const handles = [t.db, t.another(), t.another(), t.another({ poolMax: 4 })];
      const outcomes = await Promise.allSettled(
        Array.from({ length: 5 }, (_, i) =>
          approveTicket(billingContext(handles[i % handles.length]), admin, filed.id),
        ),
      );
      expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
      for (const o of outcomes) {
        if (o.status === "rejected")
          expect(isBillingError(o.reason, "TICKET_CLOSED"), String(o.reason)).toBe(true);
      }
      expect(await balance(ctx)).toBe(before + INTL);
      expect(await refundLines(ctx)).toHaveLength(1);
    });

    it("rejects with a reason (required): closed, nothing refunded, and no second decision", async () => {
      await refusal(rejectTicket(ctx, admin, filed.id, "   "), "INVALID_INPUT");
      expect((await getTicket({ tx: t.db }, filed.id))?.status).toBe("open");
      const rejected = await rejectTicket(ctx, admin, filed.id, "  still under contract ");
      expect(rejected).toMatchObject({ status: "rejected", decision_note: "still under contract" });
      expect(await getTicket({ tx: t.db }, filed.id)).toMatchObject({
        status: "rejected",
        open_instance_id: null,
        decided_by: ADMIN,
        decision_note: "still under contract",
        refunded_cents: null,
      });
      await unchanged();
      const closed = await refusal(approveTicket(ctx, admin, filed.id), "TICKET_CLOSED");
      expect(closed.message).toContain("already rejected");
      await refusal(rejectTicket(ctx, admin, filed.id, "again"), "TICKET_CLOSED");
      await unchanged();
    });

    it("withdraw: only by its requester, refunds nothing, and can't be approved afterwards", async () => {
      const notYours = await refusal(
        withdrawTicket(ctx, otherRequester, filed.id),
        "INVALID_INPUT",
      );
      expect(notYours.message).toContain(`<@${MEMBER}>`);
      await refusal(withdrawTicket(ctx, admin, filed.id), "INVALID_INPUT");
      expect((await getTicket({ tx: t.db }, filed.id))?.status).toBe("open");
      const withdrawn = await withdrawTicket(ctx, requester, filed.id);
      expect(withdrawn.status).toBe("withdrawn");
      expect(await getTicket({ tx: t.db }, filed.id)).toMatchObject({
        status: "withdrawn",
        open_instance_id: null,
        decided_by: MEMBER,
      });
      const closed = await refusal(approveTicket(ctx, admin, filed.id), "TICKET_CLOSED");
      expect(closed.message).toContain("TKT-0001 is already withdrawn");
      await refusal(withdrawTicket(ctx, requester, filed.id), "TICKET_CLOSED");
      await refusal(rejectTicket(ctx, admin, filed.id, "late"), "TICKET_CLOSED");
      await unchanged();
      expect(await refundLines(ctx)).toEqual([]);
    });

    it("refuses an unknown ticket", async () => {
      await refusal(approveTicket(ctx, admin, 999), "NOT_FOUND");
      await refusal(withdrawTicket(ctx, requester, 999), "NOT_FOUND");
    });
  });

  it("lists open tickets: all for admins, their own for everyone else", async () => {
    for (const id of ["kst-a", "kst-b", "kst-c"]) await seedInstance(t.db, { id });
    const a = await fileTicket(ctx, requester, { instanceId: "kst-a", reason: "a" });
    const b = await fileTicket(ctx, otherRequester, { instanceId: "kst-b", reason: "b" });
    const c = await fileTicket(ctx, requester, { instanceId: "kst-c", reason: "c" });
    await withdrawTicket(ctx, requester, c.ticket.id);
    const asAdmin = await visibleOpenTickets(ctx, admin);
    expect(asAdmin.all).toBe(true);
    expect(asAdmin.tickets.map((x) => x.id)).toEqual([a.ticket.id, b.ticket.id]);
    const asMember = await visibleOpenTickets(ctx, requester);
    expect(asMember.all).toBe(false);
    expect(asMember.tickets.map((x) => x.id)).toEqual([a.ticket.id]);
    const asOther = await visibleOpenTickets(ctx, otherRequester);
    expect(asOther.tickets.map((x) => x.id)).toEqual([b.ticket.id]);
    expect((await visibleOpenTickets(ctx, userActor("UNOBODY01"))).tickets).toEqual([]);
  });
});
