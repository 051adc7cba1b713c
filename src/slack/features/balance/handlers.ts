import { balance, topup } from "../../../billing/account.js";
import { formatUsd, parseAmount } from "../../../billing/money.js";
import { type Invocation, type Reply, text } from "../../kit/command.js";

/** `/kms balance`. */
export async function showBalance({ billing }: Invocation): Promise<Reply> {
  return text(`Balance: ${formatUsd(await balance(billing))}`);
}

/** `/kms topup <amount>` (admins): one recharge per command, whatever Slack retries. */
export async function topUp(
  { billing, actor, triggerId }: Invocation,
  { amount }: { amount: string },
): Promise<Reply> {
  const cents = parseAmount(amount);
  const { entry, replayed } = await topup(billing, actor, cents, `topup:${triggerId}`);
  return text(
    `${replayed ? "Already recharged" : "Recharged"} ${formatUsd(entry.amount_cents)}. Balance: ${formatUsd(entry.balance_after_cents)}`,
  );
}
