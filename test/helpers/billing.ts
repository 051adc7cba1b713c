import type { Knex } from "knex";
import { topup } from "../../src/billing/account.js";
import { type BillingContext, cliActor, userActor } from "../../src/billing/context.js";
import { DAY_MS } from "../../src/billing/lifecycle.js";
import { fixedClock } from "../../src/clock.js";
import { insertInstance } from "../../src/store/instances.js";
import type { InstanceRow } from "../../src/store/rows.js";

export const T0 = Date.UTC(2026, 0, 10, 12, 0, 0);
export const ADMIN = "UADMIN001";
export const MEMBER = "UMEMBER01";
export const admin = userActor(ADMIN);
export const member = userActor(MEMBER);
export { cliActor, DAY_MS };

export type TestClock = ReturnType<typeof fixedClock>;

export function billingContext(
  db: Knex,
  at = T0,
  timezone = "UTC",
): BillingContext & { clock: TestClock } {
  return { db, clock: fixedClock(at), timezone, envAdmins: [ADMIN] };
}

/** Puts an instance straight into the store, as `kms-bot import` would (no order behind it). */
export async function seedInstance(
  db: Knex,
  fields: Partial<InstanceRow> & { id: string },
): Promise<InstanceRow> {
  const row: InstanceRow = {
    name: `name of ${fields.id}`,
    site: "international",
    expires_at: T0 + 30 * DAY_MS,
    admin_disabled_at: null,
    released_at: null,
    channel: null,
    owner: null,
    auto_renew_months: null,
    snoozed_until: null,
    wont_renew_expires_at: null,
    created_at: T0,
    updated_at: T0,
    ...fields,
  };
  await insertInstance({ tx: db }, row);
  return row;
}

export async function fund(ctx: BillingContext, cents: number): Promise<void> {
  await topup(ctx, cliActor, cents);
}
