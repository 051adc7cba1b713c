import type { Logger } from "@slack/bolt";
import type { WebClient } from "@slack/web-api";
import { recentBills } from "../../../billing/bills.js";
import { userActor } from "../../../billing/context.js";
import { fleetCounts, soonestFleet } from "../../../billing/instances.js";
import { visibleOpenTickets } from "../../../billing/tickets.js";
import type { Billing } from "../../kit/deps.js";
import { HOME_FLEET_ROWS, homeView } from "./blocks.js";

/** Publishes App Home for one person: the fleet, the balance, open tickets and recent bills. */
export async function publishHome(
  client: WebClient,
  { billing, provider }: Billing,
  userId: string,
): Promise<void> {
  const [fleet, counts, balanceCents, recent, tickets] = await Promise.all([
    soonestFleet(billing, HOME_FLEET_ROWS),
    fleetCounts(billing),
    provider.balance(billing),
    recentBills(billing, 10),
    visibleOpenTickets(billing, userActor(userId)),
  ]);
  await client.views.publish({
    user_id: userId,
    view: homeView({
      fleet,
      counts,
      balanceCents,
      recentBills: recent,
      isAdmin: tickets.all,
      openTickets: tickets.tickets,
    }),
  });
}

/** App Home after a change a person made; a failure is logged, never theirs to see. */
export function homeRefresher(on: Billing) {
  return (client: WebClient, userId: string, logger: Logger) =>
    publishHome(client, on, userId).catch((e) =>
      logger.warn("kms-bot: App Home refresh failed", e),
    );
}
