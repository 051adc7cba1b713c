import type { WebClient } from "@slack/web-api";
import { accountBillCsv } from "../../../alibaba/bills.js";
import { billCsv } from "../../../billing/bills.js";
import type { BillingContext } from "../../../billing/context.js";
import type { ProviderBill } from "../../../billing/provider.js";
import { billingCycle } from "../../../billing/time.js";
import type { Invocation, Reply } from "../../kit/command.js";
import type { ActionArgs, Billing, FeatureDeps } from "../../kit/deps.js";
import { malformedButton, userMessage } from "../../kit/errors.js";
import { month as monthId } from "../../kit/ids.js";
import { tellClicker } from "../../kit/slack.js";
import { providerBillBlocks } from "./blocks.js";

/** Uploads a month's bill CSV to the person's DM with the bot (files.uploadV2). */
async function sendBillsCsv(
  client: WebClient,
  { billing, provider }: Billing,
  userId: string,
  month: string,
): Promise<string> {
  const found = await provider.bill(billing, month);
  const { bill } = found;
  const dm = await client.conversations.open({ users: userId });
  const channelId = dm.channel?.id;
  if (!channelId) throw new Error("conversations.open returned no channel");
  await client.files.uploadV2({
    channel_id: channelId,
    content: csvOf(found, billing.timezone),
    filename: `kms-bills-${month}.csv`,
    title: `Dedicated KMS bills ${month}`,
    initial_comment: `Bills for ${month} (${bill.lines.length} line(s), times in ${billing.timezone}).`,
  });
  return `Sent the CSV of ${month} (${bill.lines.length} line(s)) to your direct messages with kms-bot.`;
}

function csvOf(b: ProviderBill, timezone: string): string {
  return b.kind === "ledger" ? billCsv(b.bill, timezone) : accountBillCsv(b.bill);
}

const thisMonth = (billing: BillingContext) => billingCycle(billing.clock(), billing.timezone);

/** `/kms bills [YYYY-MM]`: the month's lines and totals. */
export async function showBills(
  { billing, provider }: Invocation,
  { month }: { month?: string },
): Promise<Reply> {
  const found = await provider.bill(billing, month ?? thisMonth(billing));
  return {
    text: `Bills for ${found.bill.month}`,
    blocks: providerBillBlocks(found, billing.timezone),
  };
}

/** `/kms bills export [YYYY-MM]`: the CSV, to the person's DM. */
export async function exportBills(inv: Invocation, { month }: { month?: string }): Promise<Reply> {
  const { billing, client, userId } = inv;
  return { text: await sendBillsCsv(client, inv, userId, month ?? thisMonth(billing)) };
}

export function billsHandlers(deps: FeatureDeps) {
  return {
    /** Export CSV under a month's bills. */
    async exportButton({ ack, body, action, client, respond, logger }: ActionArgs) {
      await ack();
      const month = action.type === "button" ? monthId.safeParse(action.value) : undefined;
      let text: string;
      try {
        if (!month?.success) throw malformedButton("Export CSV");
        text = await sendBillsCsv(client, deps, body.user.id, month.data);
      } catch (error) {
        text = userMessage(error, logger);
      }
      await tellClicker(client, body, respond, text, logger);
    },
  };
}
