import type { KnownBlock } from "@slack/types";
import type { WebClient } from "@slack/web-api";
import { balance } from "../billing/account.js";
import { billCsv, monthBill, toBillLine } from "../billing/bills.js";
import { type BillingContext, userActor } from "../billing/context.js";
import { BillingError, isBillingError } from "../billing/errors.js";
import {
  fleetCounts,
  type InstanceView,
  instanceView,
  soonestFleet,
} from "../billing/instances.js";
import { quoteRenewal } from "../billing/orders.js";
import { currentPrices } from "../billing/prices.js";
import { estimateRefund } from "../billing/refunds.js";
import { visibleOpenTickets } from "../billing/tickets.js";
import { buyModal } from "../blocks/buy.js";
import { HOME_FLEET_ROWS, homeView } from "../blocks/home.js";
import { type RenewSummary, renewModal } from "../blocks/renew.js";
import { type UnsubSummary, unsubscribeModal } from "../blocks/tickets.js";
import { recentBillLines } from "../store/ledger.js";
import type { Site } from "../store/rows.js";
import { openTicketFor } from "../store/tickets.js";
import { slackErrorCode } from "./errors.js";

/** The live price summary of the renew modal for a choice of instance and period. */
export async function renewSummary(
  billing: BillingContext,
  instanceId: string | undefined,
  months: number,
): Promise<RenewSummary> {
  if (!instanceId) return { none: true };
  try {
    return { quote: await quoteRenewal(billing, instanceId, months) };
  } catch (error) {
    if (isBillingError(error)) return { problem: error.message };
    throw error;
  }
}

/** How many instances a modal's select offers: Slack's limit for a static select. */
const MODAL_CHOICES = 100;

/**
 * The instances a modal offers: the 100 soonest to expire, not released (any other is chosen
 * with `/kms renew <instance>`). When opening a modal (`strict`), a preselected instance
 * that is unknown or released is refused.
 */
async function openChoices(
  billing: BillingContext,
  instanceId: string | undefined,
  strict: boolean,
): Promise<InstanceView[]> {
  const preselected =
    instanceId === undefined
      ? undefined
      : await instanceView(billing, instanceId).catch(() => undefined);
  if (strict && instanceId !== undefined) {
    if (!preselected)
      throw new BillingError({ code: "NOT_FOUND", entity: "instance", id: instanceId });
    if (preselected.lifecycle.state === "released") {
      throw new BillingError({ code: "INSTANCE_RELEASED", instanceId });
    }
  }
  const soonest = await soonestFleet(billing, MODAL_CHOICES);
  // The chosen instance is offered even when it is not among the soonest to expire.
  if (!preselected || preselected.lifecycle.state === "released") return soonest;
  if (soonest.some((v) => v.instance.id === preselected.instance.id)) return soonest;
  return [preselected, ...soonest.slice(0, MODAL_CHOICES - 1)];
}

/**
 * Builds the renew modal. When opening it (`strict`), a preselected instance that is unknown
 * or released is refused with NOT_FOUND / INSTANCE_RELEASED; when refreshing it, the summary
 * says what is wrong instead.
 */
export async function buildRenewModal(
  billing: BillingContext,
  instanceId?: string,
  months = 1,
  strict = true,
) {
  const choices = await openChoices(billing, instanceId, strict);
  return renewModal({
    choices,
    selectedId: instanceId,
    months,
    summary: await renewSummary(billing, instanceId, months),
    now: billing.clock(),
  });
}

export async function buildBuyModal(
  billing: BillingContext,
  site: Site = "international",
  months = 1,
) {
  const [prices, balanceCents] = await Promise.all([currentPrices(billing), balance(billing)]);
  return buyModal({ site, months, unitCents: prices[site].unit_cents, balanceCents });
}

/** Publishes App Home for one person: the fleet, the balance and recent bills. */
export async function publishHome(
  client: WebClient,
  billing: BillingContext,
  userId: string,
): Promise<void> {
  const [fleetViews, counts, balanceCents, recent, tickets] = await Promise.all([
    soonestFleet(billing, HOME_FLEET_ROWS),
    fleetCounts(billing),
    balance(billing),
    recentBillLines({ tx: billing.db }, 10),
    visibleOpenTickets(billing, userActor(userId)),
  ]);
  await client.views.publish({
    user_id: userId,
    view: homeView({
      fleet: fleetViews,
      counts,
      balanceCents,
      recentBills: recent.map((r) => toBillLine(r, billing.timezone)),
      isAdmin: tickets.all,
      openTickets: tickets.tickets,
    }),
  });
}

/** Uploads a month's bill CSV to the person's DM with the bot (files.uploadV2). */
export async function sendBillsCsv(
  client: WebClient,
  billing: BillingContext,
  userId: string,
  month: string,
): Promise<number> {
  const bill = await monthBill(billing, month);
  const dm = await client.conversations.open({ users: userId });
  const channelId = dm.channel?.id;
  if (!channelId) throw new Error("conversations.open returned no channel");
  await client.files.uploadV2({
    channel_id: channelId,
    content: billCsv(bill, billing.timezone),
    filename: `kms-bills-${month}.csv`,
    title: `Dedicated KMS bills ${month}`,
    initial_comment: `Bills for ${month} (${bill.lines.length} line(s), times in ${billing.timezone}).`,
  });
  return bill.lines.length;
}

/** Sends a person a direct message from the bot. */
export async function dm(client: WebClient, userId: string, text: string): Promise<void> {
  await client.chat.postMessage({ channel: userId, text });
}

/** Builds the unsubscribe modal with the refund estimate of the chosen instance. */
export async function buildUnsubscribeModal(
  billing: BillingContext,
  instanceId?: string,
  strict = true,
) {
  const choices = await openChoices(billing, instanceId, strict);
  let summary: UnsubSummary = { none: true };
  if (instanceId !== undefined) {
    try {
      const estimate = await estimateRefund(billing, instanceId);
      summary = { estimate, openTicket: await openTicketFor({ tx: billing.db }, instanceId) };
    } catch (error) {
      if (!isBillingError(error)) throw error;
      summary = { problem: error.message };
    }
  }
  return unsubscribeModal({ choices, selectedId: instanceId, summary });
}

/**
 * Posts to a channel, joining it first if the bot is not a member. Returns where the message
 * went, or undefined (logged) when Slack refused.
 */
export async function postInChannel(
  client: WebClient,
  channel: string,
  message: { text: string; blocks: KnownBlock[] },
): Promise<{ channel: string; ts: string }> {
  const post = () =>
    client.chat.postMessage({ channel, text: message.text, blocks: message.blocks });
  let r: Awaited<ReturnType<typeof post>>;
  try {
    r = await post();
  } catch (error) {
    if (slackErrorCode(error) !== "not_in_channel") throw error;
    await client.conversations.join({ channel });
    r = await post();
  }
  return { channel: r.channel ?? channel, ts: r.ts ?? "" };
}

/** Tells the person who clicked: ephemeral where the button was in a message, else by DM (App Home). */
export async function tellClicker(
  client: WebClient,
  body: { response_url?: string; user: { id: string } },
  respond: (m: {
    response_type: "ephemeral";
    replace_original: false;
    text: string;
  }) => Promise<unknown>,
  text: string,
): Promise<void> {
  if (body.response_url)
    await respond({ response_type: "ephemeral", replace_original: false, text });
  else await dm(client, body.user.id, text);
}
