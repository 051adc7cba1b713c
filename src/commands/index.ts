import type { App, RespondArguments } from "@slack/bolt";
import type { KnownBlock } from "@slack/types";
import type { WebClient } from "@slack/web-api";
import { z } from "zod";
import { balance, topup } from "../billing/account.js";
import { addAdmin, isAdmin, listAdmins, removeAdmin, requireAdmin } from "../billing/admins.js";
import { monthBill } from "../billing/bills.js";
import { type Actor, type BillingContext, userActor } from "../billing/context.js";
import {
  disableInstance,
  enableInstance,
  fleetCounts,
  instanceView,
  setAutoRenew,
  soonestFleet,
} from "../billing/instances.js";
import { formatUsd, parseAmount } from "../billing/money.js";
import { parsePeriod, periodLabel } from "../billing/periods.js";
import { currentPrices, parseSite, setPrice } from "../billing/prices.js";
import { visibleOpenTickets } from "../billing/tickets.js";
import { billingCycle } from "../billing/time.js";
import { billBlocks } from "../blocks/bills.js";
import { escapeText } from "../blocks/common.js";
import { faqListText, faqModal, faqReply } from "../blocks/faq.js";
import { usageText } from "../blocks/help.js";
import { fleetBlocks, instanceBlocks } from "../blocks/status.js";
import { ticketListBlocks } from "../blocks/tickets.js";
import { askFaq, faqEntries, faqEntry, removeFaq } from "../faq/faq.js";
import type { ListenerDeps } from "../listeners.js";
import { slackErrorCode, userMessage } from "../slack/errors.js";
import {
  buildBuyModal,
  buildRenewModal,
  buildUnsubscribeModal,
  publishHome,
  sendBillsCsv,
} from "../slack/surfaces.js";
import { type KmsCommand, parseCommand } from "./grammar.js";

export const KMS_COMMAND = "/kms";

/** How many instances `/kms status` reads: more than one message can show (the rest are counted). */
const STATUS_ROWS = 600;

const commandPayload = z.object({
  user_id: z.string().regex(/^[UW][A-Z0-9]{2,}$/, "user_id is not a Slack user id"),
  channel_id: z.string().min(1, "channel_id is missing"),
  trigger_id: z.string().min(1, "trigger_id is missing"),
  text: z.string().default(""),
});

interface Reply {
  text: string;
  blocks?: KnownBlock[];
}

interface Invocation {
  cmd: KmsCommand;
  actor: Actor;
  userId: string;
  triggerId: string;
  billing: BillingContext;
  client: WebClient;
}

/** Commands that call Slack (open a modal, upload a file) ack first, then do it. */
const DEFERRED = new Set<KmsCommand["name"]>([
  "renew",
  "buy",
  "bills_export",
  "unsubscribe",
  "faq_add",
  "faq_edit",
]);

/** Commands that change something others see: App Home is refreshed after them. */
const MUTATING = new Set<KmsCommand["name"]>([
  "topup",
  "price_set",
  "autorenew",
  "disable",
  "enable",
]);

async function deferred(
  inv: Invocation,
  respond: (r: RespondArguments) => Promise<unknown>,
): Promise<void> {
  const { cmd, billing, client, triggerId } = inv;
  if (cmd.name === "buy") {
    await requireAdmin(billing, billing.db, inv.actor, "buy instances");
    await client.views.open({ trigger_id: triggerId, view: await buildBuyModal(billing) });
  } else if (cmd.name === "renew") {
    await client.views.open({
      trigger_id: triggerId,
      view: await buildRenewModal(billing, cmd.instanceId),
    });
  } else if (cmd.name === "faq_add" || cmd.name === "faq_edit") {
    await requireAdmin(billing, billing.db, inv.actor, "change the FAQ");
    const entry = cmd.name === "faq_edit" ? await faqEntry(billing, cmd.id) : undefined;
    await client.views.open({ trigger_id: triggerId, view: faqModal(entry) });
  } else if (cmd.name === "unsubscribe") {
    await client.views.open({
      trigger_id: triggerId,
      view: await buildUnsubscribeModal(billing, cmd.instanceId),
    });
  } else if (cmd.name === "bills_export") {
    const month = cmd.month ?? billingCycle(billing.clock(), billing.timezone);
    const lines = await sendBillsCsv(client, billing, inv.userId, month);
    await respond({
      response_type: "ephemeral",
      text: `Sent the CSV of ${month} (${lines} line(s)) to your direct messages with kms-bot.`,
    });
  }
}

function text(t: string): Reply {
  return { text: t };
}

/** Every other command: computes an ephemeral reply. */
async function reply(inv: Invocation): Promise<Reply> {
  const { cmd, billing, actor } = inv;
  switch (cmd.name) {
    case "help":
      return text(usageText(cmd.problem));
    case "status": {
      if (cmd.instanceId) {
        const view = await instanceView(billing, cmd.instanceId);
        return {
          text: `${view.instance.id}: ${view.lifecycle.state}`,
          blocks: instanceBlocks(view),
        };
      }
      const [soonest, counts] = await Promise.all([
        soonestFleet(billing, STATUS_ROWS),
        fleetCounts(billing),
      ]);
      return {
        text: `${counts.total} Dedicated KMS instance(s)`,
        blocks: fleetBlocks(soonest, counts),
      };
    }
    case "balance":
      return text(`Balance: ${formatUsd(await balance(billing))}`);
    case "topup": {
      const cents = parseAmount(cmd.amount);
      const { entry, replayed } = await topup(billing, actor, cents, `topup:${inv.triggerId}`);
      return text(
        `${replayed ? "Already recharged" : "Recharged"} ${formatUsd(entry.amount_cents)}. Balance: ${formatUsd(entry.balance_after_cents)}`,
      );
    }
    case "price": {
      const prices = await currentPrices(billing);
      return text(
        `List prices per instance-month (the buy page prevails):\n• International site: ${formatUsd(prices.international.unit_cents)}\n• China site: ${formatUsd(prices.china.unit_cents)}`,
      );
    }
    case "price_set": {
      const site = parseSite(cmd.site);
      const row = await setPrice(billing, actor, site, parseAmount(cmd.amount, "price"));
      return text(
        `The ${site} price is now ${formatUsd(row.unit_cents)} per instance-month, for orders from now on.`,
      );
    }
    case "autorenew": {
      const months = cmd.period === "off" ? null : parsePeriod(cmd.period);
      const view = await setAutoRenew(billing, actor, cmd.instanceId, months);
      return text(
        months === null
          ? `Auto-renewal of ${view.instance.id} is off.`
          : `${view.instance.id} will renew for ${periodLabel(months)} 3 days before, 1 day before and at expiry if the balance covers it.`,
      );
    }
    case "disable": {
      const view = await disableInstance(billing, actor, cmd.instanceId);
      return text(
        `${view.instance.id} is disabled and no longer provides service. \`/kms enable ${view.instance.id}\` undoes it.`,
      );
    }
    case "enable": {
      const view = await enableInstance(billing, actor, cmd.instanceId);
      return text(`${view.instance.id} is ${view.lifecycle.state} again.`);
    }
    case "bills": {
      const month = cmd.month ?? billingCycle(billing.clock(), billing.timezone);
      const bill = await monthBill(billing, month);
      return { text: `Bills for ${month}`, blocks: billBlocks(bill, billing.timezone) };
    }
    case "admins": {
      const admins = await listAdmins(billing);
      const you = (await isAdmin(billing, actor)) ? " You are one." : "";
      return text(
        `Billing admins: ${admins.length > 0 ? admins.map((a) => `<@${a}>`).join(", ") : "none yet"}.${you}`,
      );
    }
    case "admins_add": {
      const added = await addAdmin(billing, actor, cmd.userId);
      return text(
        added
          ? `<@${cmd.userId}> is now a billing admin.`
          : `<@${cmd.userId}> already is a billing admin.`,
      );
    }
    case "admins_remove":
      await removeAdmin(billing, actor, cmd.userId);
      return text(`<@${cmd.userId}> is no longer a billing admin.`);
    case "tickets": {
      const { tickets, all } = await visibleOpenTickets(billing, actor);
      return {
        text: `${tickets.length} open ticket(s)`,
        blocks: ticketListBlocks(tickets, all, inv.userId),
      };
    }
    case "faq": {
      if (!cmd.question)
        return text(faqListText(await faqEntries(billing), await isAdmin(billing, actor)));
      return text(faqReply(await askFaq(billing, cmd.question)));
    }
    case "faq_remove": {
      const row = await removeFaq(billing, actor, cmd.id);
      return text(`Removed FAQ entry ${row.id}: ${escapeText(row.question)}`);
    }
    case "buy":
    case "renew":
    case "unsubscribe":
    case "faq_add":
    case "faq_edit":
    case "bills_export":
      throw new Error(`${cmd.name} is answered after the acknowledgement`);
  }
}

export function register(app: App, { billing }: ListenerDeps): void {
  app.command(KMS_COMMAND, async ({ command, ack, respond, client, logger }) => {
    const parsed = commandPayload.safeParse(command);
    if (!parsed.success) {
      await ack({
        response_type: "ephemeral",
        text: `:no_entry: That request was malformed (${parsed.error.issues.map((i) => i.message).join("; ")}); nothing was done.`,
      });
      return;
    }
    const { user_id: userId, trigger_id: triggerId } = parsed.data;
    const inv: Invocation = {
      cmd: parseCommand(parsed.data.text),
      actor: userActor(userId),
      userId,
      triggerId,
      billing,
      client,
    };
    if (DEFERRED.has(inv.cmd.name)) {
      await ack(
        inv.cmd.name === "bills_export"
          ? { response_type: "ephemeral", text: "Preparing the CSV…" }
          : undefined,
      );
      try {
        await deferred(inv, respond);
      } catch (error) {
        const code = slackErrorCode(error);
        const message =
          code === "expired_trigger_id" || code === "invalid_trigger_id"
            ? ":hourglass: Slack took too long to open the form. Please run the command again."
            : userMessage(error, logger);
        await respond({ response_type: "ephemeral", text: message }).catch((e) =>
          logger.warn("respond failed", e),
        );
      }
      return;
    }
    let answer: Reply;
    try {
      answer = await reply(inv);
    } catch (error) {
      answer = text(userMessage(error, logger));
    }
    await ack({ response_type: "ephemeral", ...answer });
    if (MUTATING.has(inv.cmd.name)) {
      await publishHome(client, billing, userId).catch((e) =>
        logger.warn("kms-bot: App Home refresh failed", e),
      );
    }
  });
}
