import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fileTicket } from "../../src/billing/tickets.js";
import { APPROVE_TICKET } from "../../src/slack/features/tickets/blocks.js";
import { getTicket } from "../../src/store/tickets.js";
import { MEMBER_ID, startTestBot, type TestBot } from "../helpers/app.js";
import { ADMIN, DAY_MS, seedInstance, T0 } from "../helpers/billing.js";

describe("/kms tickets for admins", () => {
  let s: TestBot;
  beforeEach(async () => {
    s = await startTestBot();
  });
  afterEach(async () => {
    s.fake.assertNoViolations();
    await s.close();
  });

  it("lets an admin approve from the list (when the support-channel post never arrived); members see no decision buttons", async () => {
    await seedInstance(s.db, { id: "kst-a", expires_at: T0 + 10 * DAY_MS });
    const { ticket } = await fileTicket(
      s.billing,
      { type: "user", userId: MEMBER_ID },
      { instanceId: "kst-a", reason: "moving away" },
    );
    const member = await s.command("tickets", MEMBER_ID);
    expect(JSON.stringify(member.reply)).not.toContain(APPROVE_TICKET);
    const list = await s.command("tickets", ADMIN);
    const blocks = list.reply.blocks as Array<{
      type: string;
      elements?: Array<{ action_id?: string; value?: string }>;
    }>;
    const approve = blocks
      .flatMap((b) => b.elements ?? [])
      .find((e) => e.action_id === APPROVE_TICKET);
    expect(approve?.value).toBe(String(ticket.id));
    await s.click({
      actionId: APPROVE_TICKET,
      value: String(ticket.id),
      userId: ADMIN,
      message: { type: "message", ts: "1.1", blocks },
    });
    await s.fake.waitFor(
      "chat.postMessage",
      (c) => c.args.channel === MEMBER_ID && c.response?.ok === true,
    );
    expect(await getTicket({ tx: s.db }, ticket.id)).toMatchObject({
      status: "approved",
      decided_by: ADMIN,
    });
  });
});
