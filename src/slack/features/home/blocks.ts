import type { HomeView, KnownBlock } from "@slack/types";
import type { BillLine } from "../../../billing/bills.js";
import { ticketLabel } from "../../../billing/errors.js";
import type { FleetCounts, InstanceView } from "../../../billing/instances.js";
import { formatUsd } from "../../../billing/money.js";
import type { TicketRow } from "../../../billing/types.js";
import { instanceLine, LIMITS, linesToSections, mrkdwn, plain, section } from "../../kit/blocks.js";
import { renewButton, unsubscribeButton } from "../../kit/buttons.js";
import { billLineText } from "../bills/blocks.js";

/** How many instances get a row (with a Renew button) of their own on App Home. */
export const HOME_FLEET_ROWS = 40;

export interface HomeInput {
  /** The instances soonest to expire (at least HOME_FLEET_ROWS of them when there are). */
  fleet: InstanceView[];
  counts: FleetCounts;
  balanceCents: number;
  recentBills: BillLine[];
  isAdmin: boolean;
  /** Open unsubscribe tickets the viewer may see (all for admins, their own otherwise). */
  openTickets: TicketRow[];
}

/** App Home: the balance, the fleet soonest expiry first with Renew buttons, recent bills. */
export function homeView(input: HomeInput): HomeView {
  const current = input.fleet.filter((v) => v.lifecycle.state !== "released");
  const rows: KnownBlock[] = current.slice(0, HOME_FLEET_ROWS).map((v) => ({
    type: "section",
    text: mrkdwn(instanceLine(v)),
    accessory: renewButton(v.instance.id),
  }));
  const blocks: KnownBlock[] = [
    { type: "header", text: plain("Dedicated KMS", 150) },
    section(
      `*Balance:* ${formatUsd(input.balanceCents)}${input.isAdmin ? "  ·  you are a billing admin" : ""}`,
    ),
    { type: "divider" },
    section(`*Instances* (${input.counts.active + input.counts.disabled}, soonest expiry first)`),
    ...(rows.length > 0 ? rows : [section("No instances yet.")]),
  ];
  const notShown = input.counts.active + input.counts.disabled - rows.length;
  if (notShown > 0) {
    blocks.push({
      type: "context",
      elements: [mrkdwn(`…and ${notShown} more. \`/kms status\` lists them.`)],
    });
  }
  blocks.push({ type: "actions", elements: [unsubscribeButton()] });
  blocks.push(
    { type: "divider" },
    section(
      `*Open unsubscribe tickets${input.isAdmin ? "" : " (yours)"}* (${input.openTickets.length})`,
    ),
  );
  const tickets = input.openTickets.map(
    (t) =>
      `${ticketLabel(t.id)} · ${t.instance_id} · <@${t.requester}> · estimate ${formatUsd(t.estimate_cents)}`,
  );
  blocks.push(...(tickets.length > 0 ? linesToSections(tickets, 2) : [section("None.")]));
  blocks.push({ type: "divider" }, section("*Recent bills*"));
  const bills = input.recentBills.map(billLineText);
  blocks.push(...(bills.length > 0 ? linesToSections(bills, 3) : [section("Nothing billed yet.")]));
  blocks.push({ type: "context", elements: [mrkdwn("`/kms help` lists every command.")] });
  return { type: "home", blocks: blocks.slice(0, LIMITS.viewBlocks) };
}
