import { formatUsd } from "./usd.js";

/** Order ids as people see them: `ORD-000042` (bills.ts re-exports it as orderLabel). */
export function orderLabelOf(id: number): string {
  return `ORD-${String(id).padStart(6, "0")}`;
}

/** Ticket ids as people see them: `TKT-0007`. */
export function ticketLabel(id: number): string {
  return `TKT-${String(id).padStart(4, "0")}`;
}

/** Who decided something, as a person reads it: a Slack mention, or what the system actor is. */
export function deciderName(decidedBy: string): string {
  if (decidedBy === "timer") return "the expiry timer";
  if (decidedBy === "cli") return "the command line";
  return `<@${decidedBy}>`;
}

/** Every way a billing operation can be refused, with what a person needs to act on it. */
export type BillingFailure =
  | {
      code: "INSUFFICIENT_BALANCE";
      priceCents: number;
      balanceCents: number;
      shortfallCents: number;
      /** Set when the balance is the Alibaba Cloud account's (recharged in its console). */
      account?: true;
    }
  | { code: "INSTANCE_RELEASED"; instanceId: string }
  | {
      code: "NOT_FOUND";
      entity: "instance" | "order" | "ticket" | "admin" | "faq" | "import";
      id: string;
    }
  | { code: "FORBIDDEN"; action: string; admins: readonly string[]; ownerAllowed?: boolean }
  | { code: "INVALID_INPUT"; field: string; problem: string }
  | { code: "INVALID_STATE"; instanceId: string; problem: string }
  | { code: "IDEMPOTENCY_CONFLICT"; key: string }
  | { code: "PERIOD_CHANGED"; instanceId: string }
  | { code: "AUTO_RENEWAL_STOPPED"; instanceId: string; reason: string }
  | { code: "PRICE_CHANGED"; unitCents: number; shownUnitCents: number }
  | { code: "TICKET_CLOSED"; ticketId: number; status: string; decidedBy: string | null }
  /** Alibaba Cloud did not answer (timeout, 5xx, throttled past the retries): nothing changed. */
  | { code: "ACCOUNT_UNAVAILABLE"; operation: string; problem: string }
  /** Alibaba Cloud refused the call for a reason the person can't fix in the form. */
  | { code: "ACCOUNT_REFUSED"; operation: string; accountCode: string; problem: string }
  /** RenewInstance was sent but its answer was lost: the order stays submitted and is retried. */
  | { code: "RENEWAL_PENDING"; instanceId: string; orderId: number }
  /** The command needs the other billing provider (`KMS_PROVIDER`). */
  | { code: "WRONG_PROVIDER"; action: string; needs: "local" | "alibaba" };

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
      return `Insufficient balance: this costs ${formatUsd(f.priceCents)} but the ${f.account ? "Alibaba Cloud account's available balance" : "balance"} is ${formatUsd(f.balanceCents)}, short by ${formatUsd(f.shortfallCents)}. ${f.account ? "Recharge the account in the Alibaba Cloud console (Expenses and Costs); nothing was charged." : "Ask a billing admin to top up."}`;
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
    case "AUTO_RENEWAL_STOPPED":
      return `Instance ${f.instanceId} is no longer to be auto-renewed (${f.reason}); nothing was charged.`;
    case "TICKET_CLOSED":
      return `${ticketLabel(f.ticketId)} is already ${f.status}${f.decidedBy ? ` (by ${deciderName(f.decidedBy)})` : ""}; nothing was changed.`;
    case "IDEMPOTENCY_CONFLICT":
      return `Request ${f.key} was already used for a different order; start a new request.`;
    case "ACCOUNT_UNAVAILABLE":
      return `Alibaba Cloud did not answer ${f.operation} (${f.problem}); nothing was changed. Try again in a minute.`;
    case "ACCOUNT_REFUSED":
      return `Alibaba Cloud refused ${f.operation} (${f.accountCode}): ${f.problem}`;
    case "RENEWAL_PENDING":
      return `The renewal of ${f.instanceId} was sent to Alibaba Cloud but its answer did not arrive. Order ${orderLabelOf(f.orderId)} stays submitted and is retried with the same client token, so it can't renew twice; you'll be told the outcome.`;
    case "WRONG_PROVIDER":
      return f.needs === "alibaba"
        ? `${f.action} works with KMS_PROVIDER=alibaba; this bot keeps its own ledger (local).`
        : `${f.action} is not available with KMS_PROVIDER=alibaba: the Alibaba Cloud account is the source of truth; use its console (Expenses and Costs).`;
  }
}
