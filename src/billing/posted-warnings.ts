import type { WarningRow } from "../store/rows.js";
import { getWarning } from "../store/warnings.js";
import type { BillingContext } from "./context.js";

/** A warning the timer posted (it has a message to update), or undefined. */
export async function postedWarning(
  ctx: BillingContext,
  id: number,
): Promise<(WarningRow & { message_ts: string; posted_channel: string }) | undefined> {
  const warning = await getWarning({ tx: ctx.db }, id);
  if (!warning?.message_ts || !warning.posted_channel) return undefined;
  return { ...warning, message_ts: warning.message_ts, posted_channel: warning.posted_channel };
}
