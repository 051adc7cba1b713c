import type { KnownBlock } from "@slack/types";
import { type BillLine, type MonthBill, orderLabel } from "../../../billing/bills.js";
import { formatUsd } from "../../../billing/money.js";
import { periodLabel } from "../../../billing/periods.js";
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
