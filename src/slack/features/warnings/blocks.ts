import type { KnownBlock } from "@slack/types";
import { z } from "zod";
import { orderLabel } from "../../../billing/bills.js";
import { releaseAtOf } from "../../../billing/lifecycle.js";
import { formatUsd } from "../../../billing/money.js";
import type { WarningFacts as ExpiryWarningFacts } from "../../../billing/outbox.js";
import { periodLabel } from "../../../billing/periods.js";
import {
  days,
  escapeText,
  mrkdwn,
  plain,
  remainingText,
  section,
  slackDate,
} from "../../kit/blocks.js";
import { renewButton } from "../../kit/buttons.js";

/** Snooze menu on a pre-expiry warning; option values are `<choice>:<warning id>`. */
export const SNOOZE = "warning_snooze";
/** Won't renew button on a pre-expiry warning; its value is the warning id. */
export const WONT_RENEW = "warning_wont_renew";
export const SNOOZE_CHOICES = {
  "1d": "1 day",
  "3d": "3 days",
  next: "Until the next threshold",
} as const;
export type SnoozeChoice = keyof typeof SNOOZE_CHOICES;

export interface WarningFacts extends ExpiryWarningFacts {
  /** Set when this is posted in the alert channel because the instance's channel refused it. */
  couldNotPostIn?: string;
  /** Who acted on the warning's buttons, shown instead of them. */
  actedOn?: string;
}

/** What the timer stored about an auto-renewal with its warning (JSON in `detail`). */
const detailSchema = z
  .object({
    months: z.number().int().optional(),
    orderId: z.number().int().optional(),
    amountCents: z.number().int().optional(),
    newExpiresAt: z.number().optional(),
    balanceAfterCents: z.number().int().optional(),
    shortfallCents: z.number().int().optional(),
    priceCents: z.number().int().optional(),
    problem: z.string().optional(),
  })
  .catch({});
type Detail = z.output<typeof detailSchema>;

function detailOf(raw: string): Detail {
  try {
    return detailSchema.parse(JSON.parse(raw));
  } catch {
    return {};
  }
}

function headline(f: WarningFacts, d: Detail): string {
  const { instance: i, warning: w, lifecycle } = f;
  const name = `*${i.id}* (${escapeText(i.name)})`;
  const releaseAt = releaseAtOf(w.expires_at);
  switch (w.kind) {
    case "pre_expiry":
    case "reminder": {
      const left = lifecycle.state === "released" ? "" : remainingText(lifecycle);
      const prefix =
        w.kind === "reminder" ? ":alarm_clock: Snoozed reminder: " : ":hourglass_flowing_sand: ";
      return `${prefix}${name} expires ${slackDate(w.expires_at)} (${left}). Renew it to keep it in service.`;
    }
    case "expired":
      return `:red_circle: ${name} has expired: it is disabled and no longer provides service. It will be released on ${slackDate(releaseAt)} unless renewed.`;
    case "pre_release":
      return `:warning: ${name} expired ${slackDate(w.expires_at)} and no longer provides service. It will be *released* on ${slackDate(releaseAt)} (in ${days(lifecycle.state === "disabled" ? lifecycle.daysToRelease : 0)}) unless renewed.`;
    case "released":
      return `:white_circle: ${name} was released on ${slackDate(releaseAt)}, 15 days after it expired. It can't be renewed; it stays in history.`;
    case "autorenew_ok":
      return `:white_check_mark: Auto-renewed ${name} for ${periodLabel(d.months ?? 1)}: order ${orderLabel(d.orderId ?? 0)}, ${formatUsd(d.amountCents ?? 0)}. New expiry ${slackDate(d.newExpiresAt ?? w.expires_at)}. Balance: ${formatUsd(d.balanceAfterCents ?? 0)}.`;
    case "autorenew_failed":
      return d.shortfallCents !== undefined
        ? `:no_entry: Auto-renewal of ${name} for ${periodLabel(d.months ?? 1)} failed: it costs ${formatUsd(d.priceCents ?? 0)} and the balance is short by *${formatUsd(d.shortfallCents)}*. It expires ${slackDate(w.expires_at)}. A billing admin can \`/kms topup\`; it will be tried again.`
        : `:no_entry: Auto-renewal of ${name} failed: ${escapeText(d.problem ?? "unknown reason")}`;
  }
}

/**
 * A timer message: what happened or is about to, the facts a person needs to decide (time
 * left, expiry, the price of a 1-month renewal, the balance), the owner mentioned, and the
 * buttons that fit: Renew, Snooze and Won't renew.
 */
export function warningMessage(f: WarningFacts): { text: string; blocks: KnownBlock[] } {
  const detail = detailOf(f.warning.detail);
  const text = headline(f, detail);
  const owner = f.instance.owner
    ? `<@${f.instance.owner}>`
    : "No owner set (`kms-bot import` or `/kms buy` sets one).";
  const blocks: KnownBlock[] = [];
  if (f.couldNotPostIn) {
    blocks.push({
      type: "context",
      elements: [
        mrkdwn(
          `:warning: kms-bot could not post in <#${f.couldNotPostIn}>; invite it there (\`/invite @kms-bot\`).`,
        ),
      ],
    });
  }
  blocks.push(section(`${text}\n${owner}`));
  if (f.warning.kind !== "autorenew_ok" && f.lifecycle.state !== "released") {
    blocks.push({
      type: "section",
      fields: [
        mrkdwn(`*Remaining*\n${remainingText(f.lifecycle)}`),
        mrkdwn(`*Expires*\n${slackDate(f.instance.expires_at)}`),
        mrkdwn(`*1-month renewal*\n${formatUsd(f.monthCents)}`),
        mrkdwn(`*Balance*\n${formatUsd(f.balanceCents)}`),
      ],
    });
  }
  if (f.actedOn) {
    blocks.push({ type: "context", elements: [mrkdwn(f.actedOn)] });
  }
  const elements = [];
  if (f.lifecycle.state !== "released" && f.warning.kind !== "autorenew_ok")
    elements.push(renewButton(f.instance.id));
  const reminder = f.warning.kind === "pre_expiry" || f.warning.kind === "reminder";
  if (reminder && !f.actedOn && f.lifecycle.state === "active") {
    elements.push(
      {
        type: "static_select" as const,
        action_id: SNOOZE,
        placeholder: plain("Snooze", 150),
        options: (Object.keys(SNOOZE_CHOICES) as SnoozeChoice[]).map((c) => ({
          text: plain(SNOOZE_CHOICES[c], 75),
          value: `${c}:${f.warning.id}`,
        })),
      },
      {
        type: "button" as const,
        action_id: WONT_RENEW,
        text: plain("Won't renew", 75),
        value: String(f.warning.id),
        confirm: {
          title: plain("Won't renew?", 100),
          text: plain(
            `No more reminders for ${f.instance.id} this period, and auto-renewal off. The expiry and release notices still come.`,
            300,
          ),
          confirm: plain("Won't renew", 30),
          deny: plain("Cancel", 30),
        },
      },
    );
  }
  if (elements.length > 0) blocks.push({ type: "actions", elements });
  return { text, blocks };
}
