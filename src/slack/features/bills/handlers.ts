import type { WebClient } from "@slack/web-api";
import { billCsv, monthBill } from "../../../billing/bills.js";
import type { BillingContext } from "../../../billing/context.js";
import { billingCycle } from "../../../billing/time.js";
import type { Invocation, Reply } from "../../kit/command.js";
import type { ActionArgs, FeatureDeps } from "../../kit/deps.js";
import { malformedButton, userMessage } from "../../kit/errors.js";
import { month as monthId } from "../../kit/ids.js";
import { tellClicker } from "../../kit/slack.js";
import { billBlocks } from "./blocks.js";

/** Uploads a month's bill CSV to the person's DM with the bot (files.uploadV2). */
async function sendBillsCsv(
  client: WebClient,
  billing: BillingContext,
  userId: string,
  month: string,
): Promise<string> {
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
  return `Sent the CSV of ${month} (${bill.lines.length} line(s)) to your direct messages with kms-bot.`;
}

const thisMonth = (billing: BillingContext) => billingCycle(billing.clock(), billing.timezone);

/** `/kms bills [YYYY-MM]`: the month's lines and totals. */
export async function showBills(
  { billing }: Invocation,
  { month }: { month?: string },
): Promise<Reply> {
  const bill = await monthBill(billing, month ?? thisMonth(billing));
  return { text: `Bills for ${bill.month}`, blocks: billBlocks(bill, billing.timezone) };
}

/** `/kms bills export [YYYY-MM]`: the CSV, to the person's DM. */
export async function exportBills(
  { billing, client, userId }: Invocation,
  { month }: { month?: string },
): Promise<Reply> {
  return { text: await sendBillsCsv(client, billing, userId, month ?? thisMonth(billing)) };
}

export function billsHandlers({ billing }: FeatureDeps) {
  return {
    /** Export CSV under a month's bills. */
    async exportButton({ ack, body, action, client, respond, logger }: ActionArgs) {
      await ack();
      const month = action.type === "button" ? monthId.safeParse(action.value) : undefined;
      let text: string;
      try {
        if (!month?.success) throw malformedButton("Export CSV");
        text = await sendBillsCsv(client, billing, body.user.id, month.data);
      } catch (error) {
        text = userMessage(error, logger);
      }
      await tellClicker(client, body, respond, text, logger);
    },
  };
}
