import { type BillingContext, timerActor } from "../billing/context.js";
import { isBillingError, orderLabelOf } from "../billing/errors.js";
import { SLACK_USER_ID } from "../billing/ids.js";
import type { BillingProvider, RetryOutcome } from "../billing/provider.js";
import { orderText } from "../slack/kit/buy-now.js";
import type { Poster } from "./poster.js";

/** What a person who placed a submitted order is told once the account answered, if anything. */
export function retryMessage(r: RetryOutcome): string | undefined {
  if (r.outcome === "paid" && r.result) return orderText("Renewed", r.result);
  if (r.outcome === "failed")
    return `:no_entry: The renewal of ${r.order.instance_id} (order ${orderLabelOf(r.order.id)}) was not done: ${r.error?.message ?? "Alibaba Cloud refused it."}`;
  // Still no definite answer: retried quietly next sweep.
  return undefined;
}

/**
 * Before a sweep with the Alibaba Cloud account: submitted orders are sent again with their
 * own ClientToken (each outcome told to the person who placed it), then the fleet is synced.
 * An account that does not answer leaves the sweep to carry on with the local data.
 */
export async function syncWithAccount(
  ctx: BillingContext,
  provider: BillingProvider,
  poster: Poster,
  log: (line: string) => void,
): Promise<void> {
  if (provider.kind === "local") return;
  for (const r of await provider.retrySubmitted(ctx)) {
    log(`retried ${orderLabelOf(r.order.id)} (${r.order.instance_id}): ${r.outcome}`);
    const text = retryMessage(r);
    if (text && SLACK_USER_ID.test(r.order.created_by)) await poster.dm?.(r.order.created_by, text);
  }
  try {
    const result = await provider.sync(ctx, timerActor);
    for (const line of result.changes) log(`sync: ${line}`);
  } catch (error) {
    if (!isBillingError(error, "ACCOUNT_UNAVAILABLE")) throw error;
    log(`sync skipped: ${error.message}`);
  }
}
