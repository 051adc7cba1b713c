import { z } from "zod";

// Row schemas: what the store hands back, parsed once. PostgreSQL returns BIGINT as a string
// and SQLite as a number; both become numbers here (cents and epoch milliseconds stay far
// below 2^53).

const int = z.coerce.number().int().refine(Number.isSafeInteger, "not a safe integer");
const nullableInt = z.preprocess((v) => (v === null ? null : Number(v)), int.nullable());

export const SITES = ["international", "china"] as const;
export const siteSchema = z.enum(SITES);
export type Site = z.infer<typeof siteSchema>;

export const instanceRow = z.object({
  id: z.string(),
  name: z.string(),
  site: siteSchema,
  expires_at: int,
  admin_disabled_at: nullableInt,
  released_at: nullableInt,
  channel: z.string().nullable(),
  owner: z.string().nullable(),
  auto_renew_months: nullableInt,
  snoozed_until: nullableInt,
  wont_renew_expires_at: nullableInt,
  /** Periods end on this instant's day of month and time of day; null: on the expiry's own. */
  anniversary_at: nullableInt.optional(),
  created_at: int,
  updated_at: int,
});
export type InstanceRow = z.infer<typeof instanceRow>;

export const ORDER_KINDS = ["purchase", "renewal"] as const;
export const ORDER_STATUSES = ["paid", "submitted", "failed"] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];
export const orderRow = z.object({
  id: int,
  kind: z.enum(ORDER_KINDS),
  instance_id: z.string(),
  site: siteSchema,
  months: int,
  unit_cents: int,
  amount_cents: int,
  refunded_cents: int,
  period_start: int,
  period_end: int,
  idempotency_key: z.string().nullable(),
  created_by: z.string(),
  created_at: int,
  /** `paid`, or for an order placed on the Alibaba Cloud account: `submitted` / `failed`. */
  status: z.enum(ORDER_STATUSES),
  /** The account's OrderId (KMS_PROVIDER=alibaba). */
  account_order_id: z.string().nullable(),
  /** The ClientToken RenewInstance was (and is retried) with. */
  client_token: z.string().nullable(),
  last_error: z.string().nullable(),
});
export type OrderRow = z.infer<typeof orderRow>;

export const LEDGER_KINDS = ["recharge", "purchase", "renewal", "refund"] as const;
export type LedgerKind = (typeof LEDGER_KINDS)[number];
export const ledgerRow = z.object({
  id: int,
  account_id: z.string(),
  kind: z.enum(LEDGER_KINDS),
  amount_cents: int,
  balance_after_cents: int,
  order_id: nullableInt,
  instance_id: z.string().nullable(),
  actor: z.string(),
  idempotency_key: z.string().nullable(),
  created_at: int,
});
export type LedgerRow = z.infer<typeof ledgerRow>;

/** A ledger entry joined with the order it concerns: one line of a bill. */
export const billLineRow = ledgerRow.extend({
  site: siteSchema.nullable(),
  months: nullableInt,
  unit_cents: nullableInt,
  period_start: nullableInt,
  period_end: nullableInt,
});
export type BillLineRow = z.infer<typeof billLineRow>;

export const priceRow = z.object({
  id: int,
  site: siteSchema,
  unit_cents: int,
  effective_from: int,
  created_by: z.string(),
  created_at: int,
});
export type PriceRow = z.infer<typeof priceRow>;

export const adminRow = z.object({
  user_id: z.string(),
  added_by: z.string(),
  added_at: int,
});
export type AdminRow = z.infer<typeof adminRow>;

export const auditRow = z.object({
  id: int,
  at: int,
  actor: z.string(),
  action: z.string(),
  subject: z.string().nullable(),
  inputs: z.string(),
});
export type AuditRow = z.infer<typeof auditRow>;

export const WARNING_KINDS = [
  "pre_expiry",
  "expired",
  "pre_release",
  "released",
  "reminder",
  "autorenew_ok",
  "autorenew_failed",
] as const;
export type WarningKind = (typeof WARNING_KINDS)[number];

export const warningRow = z.object({
  id: int,
  instance_id: z.string(),
  kind: z.enum(WARNING_KINDS),
  slot: int,
  expires_at: int,
  due_at: int,
  status: z.enum(["pending", "sent", "superseded"]),
  detail: z.string(),
  attempts: int,
  next_attempt_at: nullableInt,
  last_error: z.string().nullable(),
  claimed_by: z.string().nullable(),
  claimed_until: nullableInt,
  posted_channel: z.string().nullable(),
  message_ts: z.string().nullable(),
  created_at: int,
  sent_at: nullableInt,
});
export type WarningRow = z.infer<typeof warningRow>;

export const TICKET_STATUSES = ["open", "approved", "rejected", "withdrawn"] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];
export const ticketRow = z.object({
  id: int,
  instance_id: z.string(),
  open_instance_id: z.string().nullable(),
  requester: z.string(),
  reason: z.string(),
  status: z.enum(TICKET_STATUSES),
  estimate_cents: int,
  refunded_cents: nullableInt,
  decided_by: z.string().nullable(),
  decided_at: nullableInt,
  decision_note: z.string().nullable(),
  support_channel: z.string().nullable(),
  support_ts: z.string().nullable(),
  idempotency_key: z.string().nullable(),
  created_at: int,
  updated_at: int,
});
export type TicketRow = z.infer<typeof ticketRow>;

export const faqRow = z.object({
  id: int,
  slug: z.string(),
  question: z.string(),
  phrasings: z.string(),
  answer: z.string(),
  source: z.string(),
  reviewed_on: z.string(),
  updated_by: z.string(),
  updated_at: int,
});
export type FaqRow = z.infer<typeof faqRow>;
