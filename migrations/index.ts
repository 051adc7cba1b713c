import type { Knex } from "knex";
import * as billingCore from "./20261126150000_billing_core.js";
import * as expiryTimer from "./20261126160000_expiry_timer.js";
import * as tickets from "./20261126170000_tickets.js";
import * as faq from "./20261126180000_faq.js";
import * as seenRequests from "./20261126190000_seen_requests.js";
import * as accountOrders from "./20261130120000_account_orders.js";
import * as moneyAndDates from "./20261130130000_money_and_dates.js";

/** Every migration, oldest first. Add new files here as well as to the folder. */
export const migrations: ReadonlyArray<readonly [name: string, migration: Knex.Migration]> = [
  ["20261126150000_billing_core", billingCore],
  ["20261126160000_expiry_timer", expiryTimer],
  ["20261126170000_tickets", tickets],
  ["20261126180000_faq", faq],
  ["20261126190000_seen_requests", seenRequests],
  ["20261130120000_account_orders", accountOrders],
  ["20261130130000_money_and_dates", moneyAndDates],
];
