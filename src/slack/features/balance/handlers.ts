import { topup } from "../../../billing/account.js";
import { formatUsd, parseAmount } from "../../../billing/money.js";
import { type Invocation, type Reply, text } from "../../kit/command.js";
import { localOnly } from "../account/handlers.js";

/** `/kms balance`. */
export async function showBalance({ billing, provider }: Invocation): Promise<Reply> {
  const cents = await provider.balance(billing);
  return text(
    provider.kind === "alibaba"
      ? `Alibaba Cloud account balance (available): ${formatUsd(cents)}`
      : `Balance: ${formatUsd(cents)}`,
  );
}

/** `/kms topup <amount>` (admins): one recharge per command, whatever Slack retries. */
export async function topUp(
  { billing, provider, actor, triggerId }: Invocation,
  { amount }: { amount: string },
): Promise<Reply> {
  // Recharges of the Alibaba Cloud account happen in its console: nothing changes here.
  localOnly(provider, "`/kms topup`");
  const cents = parseAmount(amount);
  const { entry, replayed } = await topup(billing, actor, cents, `topup:${triggerId}`);
  return text(
    `${replayed ? "Already recharged" : "Recharged"} ${formatUsd(entry.amount_cents)}. Balance: ${formatUsd(entry.balance_after_cents)}`,
  );
}
