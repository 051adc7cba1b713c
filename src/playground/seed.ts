/**
 * The playground's sample fleet, made the way a team would have made it: a recharge, purchases
 * and a renewal spread over the last months, and an unsubscribe ticket, all through the billing
 * core (so the bills, the ledger and the audit trail are real), on a clock walked through time.
 */
import dayjs from "dayjs";
import type { Knex } from "knex";
import { topup } from "../billing/account.js";
import { type BillingContext, userActor } from "../billing/context.js";
import { DAY_MS } from "../billing/lifecycle.js";
import { purchase, renew } from "../billing/orders.js";
import { fileTicket } from "../billing/tickets.js";
import { fixedClock } from "../clock.js";
import type { Site } from "../store/rows.js";
import { ADMIN, BEN, CLEO } from "./world.js";

interface Planned {
  name: string;
  site: Site;
  months: number;
  channel: string;
  owner: string;
  /** When it should expire, in days from now (negative: in the past). */
  expiresInDays: number;
}

/** Active, one about to expire, one expired (disabled, not yet released), one released. */
const FLEET: readonly Planned[] = [
  {
    name: "payments-prod",
    site: "international",
    months: 6,
    channel: "C0PAYMENTS",
    owner: BEN,
    expiresInDays: 112,
  },
  {
    name: "identity-cn",
    site: "china",
    months: 3,
    channel: "C0IDENTITY",
    owner: CLEO,
    expiresInDays: 40,
  },
  {
    name: "data-lake-keys",
    site: "international",
    months: 1,
    channel: "C0DATA",
    owner: BEN,
    expiresInDays: 5,
  },
  {
    name: "staging-hsm",
    site: "international",
    months: 1,
    channel: "C0STAGING",
    owner: CLEO,
    expiresInDays: -3,
  },
  {
    name: "legacy-billing",
    site: "china",
    months: 1,
    channel: "C0STAGING",
    owner: ADMIN,
    expiresInDays: -20,
  },
];

/** Fills an empty playground database as of `now`; returns the instance ids by name. */
export async function seedPlayground(db: Knex, now: number): Promise<Record<string, string>> {
  const clock = fixedClock(now - 90 * DAY_MS);
  const ctx: BillingContext = { db, clock, timezone: "UTC", envAdmins: [ADMIN] };
  const admin = userActor(ADMIN);
  await topup(ctx, admin, 50_000_00);
  const ids: Record<string, string> = {};
  const bought = FLEET.map((plan) => ({
    plan,
    at: dayjs(now + plan.expiresInDays * DAY_MS)
      .subtract(plan.months, "month")
      .valueOf(),
  })).sort((a, b) => a.at - b.at);
  for (const { plan, at } of bought) {
    clock.set(at);
    const { name, site, months, channel, owner } = plan;
    const result = await purchase(ctx, admin, { name, site, months, channel, owner });
    ids[name] = result.instance.id;
  }
  // A renewal paid ahead: its period starts when the current one ends (a pending renewal).
  clock.set(now - 12 * DAY_MS);
  await renew(ctx, admin, { instanceId: ids["payments-prod"] ?? "", months: 3 });
  clock.set(now - 2 * DAY_MS);
  await fileTicket(
    ctx,
    { type: "user", userId: CLEO },
    {
      instanceId: ids["identity-cn"] ?? "",
      reason: "Identity keys move to the shared HSM cluster next quarter.",
    },
  );
  return ids;
}
