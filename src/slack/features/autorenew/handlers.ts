import { parsePeriod, periodLabel } from "../../../billing/periods.js";
import { type Invocation, type Reply, text } from "../../kit/command.js";

/** `/kms autorenew <instance> <period>|off` (admins or the owner). */
export async function autorenew(
  { billing, provider, actor }: Invocation,
  { instanceId, period }: { instanceId: string; period: string },
): Promise<Reply> {
  const months = period === "off" ? null : parsePeriod(period);
  const instance = await provider.setAutoRenew(billing, actor, instanceId, months);
  if (months === null) return text(`Auto-renewal of ${instance.id} is off.`);
  return text(
    provider.chargesAutoRenewals
      ? `${instance.id} will renew for ${periodLabel(months)} 3 days before, 1 day before and at expiry if the balance covers it.`
      : `Alibaba Cloud will renew ${instance.id} for ${periodLabel(months)} by itself before it expires, from the account's balance; the next sync shows the new expiry.`,
  );
}
