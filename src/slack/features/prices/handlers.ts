import { formatUsd, parseAmount } from "../../../billing/money.js";
import { currentPrices, parseSite, setPrice } from "../../../billing/prices.js";
import { type Invocation, type Reply, text } from "../../kit/command.js";

/** `/kms price`: the list prices. */
export async function showPrices({ billing }: Invocation): Promise<Reply> {
  const prices = await currentPrices(billing);
  return text(
    `List prices per instance-month (the buy page prevails):\n• International site: ${formatUsd(prices.international.unit_cents)}\n• China site: ${formatUsd(prices.china.unit_cents)}`,
  );
}

/** `/kms price set <site> <amount>` (admins): from now on. */
export async function changePrice(
  { billing, actor }: Invocation,
  args: { site: string; amount: string },
): Promise<Reply> {
  const site = parseSite(args.site);
  const row = await setPrice(billing, actor, site, parseAmount(args.amount, "price"));
  return text(
    `The ${site} price is now ${formatUsd(row.unit_cents)} per instance-month, for orders from now on.`,
  );
}
