import type { KnownBlock } from "@slack/types";
import { type BillLine, type MonthBill, orderLabel } from "../../../billing/bills.js";
import { formatUsd } from "../../../billing/money.js";
import { periodLabel } from "../../../billing/periods.js";
import type { AccountBill, AccountBillLine, ProviderBill } from "../../../billing/provider.js";
import { LIMITS, linesToSections, plain, section, slackDate } from "../../kit/blocks.js";
import { exportBillsButton } from "../../kit/buttons.js";

/** One bill line as a person reads it. */
export function billLineText(l: BillLine): string {
  return [
    slackDate(l.at),
    l.orderId === null ? null : orderLabel(l.orderId),
    `*${l.item}*`,
    l.instanceId,
    l.months === null ? null : periodLabel(l.months),
    `*${formatUsd(l.amountCents)}*`,
    `balance ${formatUsd(l.balanceAfterCents)}`,
  ]
    .filter((p) => p !== null)
    .join(" · ");
}

/** `/kms bills [YYYY-MM]`: the month's lines, totals and an Export CSV button. */
export function billBlocks(bill: MonthBill, timezone: string): KnownBlock[] {
  const t = bill.totals;
  const head: KnownBlock[] = [
    { type: "header", text: plain(`Bills for ${bill.month}`, 150) },
    section(
      [
        `*${bill.lines.length} line(s)* in billing cycle ${bill.month} (${timezone}).`,
        `Charged ${formatUsd(t.chargedCents)} · refunded ${formatUsd(t.refundedCents)} · recharged ${formatUsd(t.rechargedCents)} · net ${formatUsd(t.netCents)}`,
      ].join("\n"),
    ),
  ];
  if (bill.lines.length === 0) return [...head, section("No money moved in this billing cycle.")];
  return [
    ...head,
    ...linesToSections(bill.lines.map(billLineText), LIMITS.messageBlocks - head.length - 1),
    { type: "actions", elements: [exportBillsButton(bill.month)] },
  ];
}

const SOURCE_WORDS: Record<AccountBillLine["source"], string> = {
  both: "on the account",
  account: "account only (console or automatic)",
  bot: "paid through the bot, not yet on the account's bill",
};

/** One line of the Alibaba Cloud account's bill as a person reads it. */
export function accountBillLineText(l: AccountBillLine): string {
  return [
    l.date,
    l.orderId === null ? null : orderLabel(l.orderId),
    l.accountOrderId === null ? null : `account order ${l.accountOrderId}`,
    `*${l.item}*`,
    l.instanceId,
    l.months === null ? null : periodLabel(l.months),
    `*${formatUsd(l.amountCents)}*`,
    `_${SOURCE_WORDS[l.source]}_`,
  ]
    .filter((p) => p !== null)
    .join(" · ");
}

/** The account's bill lines for the month (QueryInstanceBill) merged with the bot's orders. */
export function accountBillBlocks(bill: AccountBill): KnownBlock[] {
  const t = bill.totals;
  const head: KnownBlock[] = [
    { type: "header", text: plain(`Bills for ${bill.month}`, 150) },
    section(
      [
        `*${bill.lines.length} line(s)* of the Alibaba Cloud account in billing cycle ${bill.month}.`,
        `Charged ${formatUsd(t.chargedCents)} · refunded ${formatUsd(t.refundedCents)} · net ${formatUsd(t.netCents)}`,
      ].join("\n"),
    ),
  ];
  if (bill.lines.length === 0) return [...head, section("No Dedicated KMS charges this cycle.")];
  return [
    ...head,
    ...linesToSections(bill.lines.map(accountBillLineText), LIMITS.messageBlocks - head.length - 1),
    { type: "actions", elements: [exportBillsButton(bill.month)] },
  ];
}

/** Either kind of month's bill (the local ledger, or the account's). */
export function providerBillBlocks(b: ProviderBill, timezone: string): KnownBlock[] {
  return b.kind === "ledger" ? billBlocks(b.bill, timezone) : accountBillBlocks(b.bill);
}
