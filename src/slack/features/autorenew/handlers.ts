import { setAutoRenew } from "../../../billing/instances.js";
import { parsePeriod, periodLabel } from "../../../billing/periods.js";
import { type Invocation, type Reply, text } from "../../kit/command.js";

/** `/kms autorenew <instance> <period>|off` (admins or the owner). */
export async function autorenew(
  { billing, actor }: Invocation,
  { instanceId, period }: { instanceId: string; period: string },
): Promise<Reply> {
  const months = period === "off" ? null : parsePeriod(period);
  const view = await setAutoRenew(billing, actor, instanceId, months);
  return text(
    months === null
      ? `Auto-renewal of ${view.instance.id} is off.`
      : `${view.instance.id} will renew for ${periodLabel(months)} 3 days before, 1 day before and at expiry if the balance covers it.`,
  );
}
