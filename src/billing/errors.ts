import { formatUsd } from "./usd.js";

/** Ticket ids as people see them: `TKT-0007`. */
export function ticketLabel(id: number): string {
  return `TKT-${String(id).padStart(4, "0")}`;
}

/** Every way a billing operation can be refused, with what a person needs to act on it. */
export type BillingFailure =
  | {
      code: "INSUFFICIENT_BALANCE";
      priceCents: number;
      balanceCents: number;
      shortfallCents: number;
    }
  | { code: "INSTANCE_RELEASED"; instanceId: string }
  | { code: "NOT_FOUND"; entity: "instance" | "order" | "ticket" | "admin" | "faq"; id: string }
  | { code: "FORBIDDEN"; action: string; admins: readonly string[]; ownerAllowed?: boolean }
  | { code: "INVALID_INPUT"; field: string; problem: string }
  | { code: "INVALID_STATE"; instanceId: string; problem: string }
  | { code: "IDEMPOTENCY_CONFLICT"; key: string }
  | { code: "PERIOD_CHANGED"; instanceId: string }
  | { code: "PRICE_CHANGED"; unitCents: number; shownUnitCents: number }
  | { code: "TICKET_CLOSED"; ticketId: number; status: string; decidedBy: string | null };

export type BillingErrorCode = BillingFailure["code"];

/** A refusal from the billing core. `code` says which; `failure` carries the details. */
export class BillingError extends Error {
  readonly failure: BillingFailure;

  constructor(failure: BillingFailure) {
    super(describeFailure(failure));
    this.name = "BillingError";
    this.failure = failure;
  }

  get code(): BillingErrorCode {
    return this.failure.code;
  }
}

export function isBillingError(error: unknown, code?: BillingErrorCode): error is BillingError {
  return error instanceof BillingError && (code === undefined || error.code === code);
}

/**
 * The words a person reads for a refusal: the one place they are written. Plain text with
 * Slack user mentions (`<@U123>`), which read as ids in a terminal.
 */
export function describeFailure(f: BillingFailure): string {
  switch (f.code) {
    case "INSUFFICIENT_BALANCE":
      return `Insufficient balance: this costs ${formatUsd(f.priceCents)} but the balance is ${formatUsd(f.balanceCents)}, short by ${formatUsd(f.shortfallCents)}. Ask a billing admin to top up.`;
    case "INSTANCE_RELEASED":
      return `Instance ${f.instanceId} has been released; a released instance can't be renewed or changed, only shown in history.`;
    case "NOT_FOUND":
      return `Unknown ${f.entity} "${f.id}".`;
    case "FORBIDDEN": {
      const who = f.ownerAllowed ? "a billing admin or the instance's owner" : "a billing admin";
      const admins = f.admins.length > 0 ? f.admins.map((a) => `<@${a}>`).join(", ") : "nobody yet";
      return `Only ${who} can ${f.action}. Billing admins: ${admins}.`;
    }
    case "INVALID_INPUT":
      return `Invalid ${f.field}: ${f.problem}`;
    case "INVALID_STATE":
      return `Instance ${f.instanceId}: ${f.problem}`;
    case "PRICE_CHANGED":
      return `The price changed to ${formatUsd(f.unitCents)} per month since this form showed ${formatUsd(f.shownUnitCents)}; nothing was charged. Check the new total and submit again.`;
    case "PERIOD_CHANGED":
      return `Instance ${f.instanceId} was renewed meanwhile; nothing was charged.`;
    case "TICKET_CLOSED":
      return `${ticketLabel(f.ticketId)} is already ${f.status}${f.decidedBy ? ` (by <@${f.decidedBy}>)` : ""}; nothing was changed.`;
    case "IDEMPOTENCY_CONFLICT":
      return `Request ${f.key} was already used for a different order; start a new request.`;
  }
}
