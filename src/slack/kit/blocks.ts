import type { KnownBlock, MrkdwnElement, PlainTextElement, SectionBlock } from "@slack/types";
import type { InstanceView } from "../../billing/instances.js";
import type { Lifecycle } from "../../billing/lifecycle.js";
import { periodLabel } from "../../billing/periods.js";

// Slack's limits, used by every builder.
export const LIMITS = {
  messageBlocks: 50,
  viewBlocks: 100,
  sectionText: 3000,
  viewTitle: 24,
  optionText: 75,
  selectOptions: 100,
  actionsElements: 25,
} as const;

/**
 * Escapes text a person typed (an instance name, a reason) for mrkdwn: `&`, `<` and `>`, so
 * it can't become a mention (`<!channel>`), a link or a date token, and formatting
 * characters (`*`, `_`, `~`, backtick) so it can't restyle the message around it.
 */
export function escapeText(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replace(/[*_~`]/g, (c) => `${c}\u200B`);
}

/**
 * Cuts `text` to at most `max` UTF-16 units (so it fits however Slack counts), ending with
 * an ellipsis when cut, and never splits an emoji's surrogate pair.
 */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let out = "";
  for (const char of text) {
    if (out.length + char.length > max - 1) break;
    out += char;
  }
  return `${out}…`;
}

export function plain(text: string, max: number = LIMITS.sectionText): PlainTextElement {
  return { type: "plain_text", text: clip(text, max), emoji: true };
}

export function mrkdwn(text: string): MrkdwnElement {
  return { type: "mrkdwn", text: clip(text, LIMITS.sectionText) };
}

export function section(text: string, blockId?: string): SectionBlock {
  return { type: "section", ...(blockId ? { block_id: blockId } : {}), text: mrkdwn(text) };
}

/**
 * A date every reader sees in their own time zone (Slack's `<!date>` token), with a UTC
 * fallback for clients that can't render it.
 */
export function slackDate(at: number, withTime = true): string {
  const seconds = Math.floor(at / 1000);
  const fallback = new Date(at)
    .toISOString()
    .slice(0, withTime ? 16 : 10)
    .replace("T", " ");
  return `<!date^${seconds}^{date_short_pretty}${withTime ? " {time}" : ""}|${fallback}${withTime ? " UTC" : ""}>`;
}

export function days(n: number): string {
  return n === 1 ? "1 day" : `${n} days`;
}

const STATE_ICON = {
  active: ":large_green_circle:",
  disabled: ":red_circle:",
  released: ":white_circle:",
} as const;

/** `:large_green_circle: active`, `:red_circle: disabled (expired)`, ... */
export function stateText(life: Lifecycle): string {
  if (life.state === "disabled") {
    return `${STATE_ICON.disabled} disabled (${life.reason === "expired" ? "expired" : "by an admin"})`;
  }
  return `${STATE_ICON[life.state]} ${life.state}`;
}

/** The remaining subscription period as a person reads it. */
export function remainingText(life: Lifecycle): string {
  switch (life.state) {
    case "active":
      return `${days(life.remainingDays)} left`;
    case "disabled":
      return life.reason === "expired"
        ? `expired ${days(life.daysSinceExpiry)} ago, released in ${days(life.daysToRelease)}`
        : `${days(life.remainingDays)} left (service off)`;
    case "released":
      return `released ${slackDate(life.releasedAt, false)}`;
  }
}

export function autoRenewText(months: number | null): string {
  return months === null ? "auto-renew off" : `auto-renew ${periodLabel(months)}`;
}

/** One line about an instance, for lists. */
export function instanceLine({ instance, lifecycle }: InstanceView): string {
  return [
    `*${instance.id}* ${escapeText(instance.name)}`,
    instance.site,
    stateText(lifecycle),
    `expires ${slackDate(instance.expires_at, false)}`,
    remainingText(lifecycle),
    autoRenewText(instance.auto_renew_months),
  ].join(" · ");
}

/**
 * Packs lines into as few section blocks as fit Slack's 3000-character limit, at most
 * `maxBlocks`; lines beyond that (and `notListed` more never passed in) are summarised in a
 * last line.
 */
export function linesToSections(lines: string[], maxBlocks: number, notListed = 0): KnownBlock[] {
  const max = LIMITS.sectionText - 60; // room for the "...and N more" line
  const blocks: string[] = [];
  let current = "";
  let used = 0;
  for (const line of lines) {
    const piece = clip(line, max);
    if (current && current.length + 1 + piece.length > max) {
      if (blocks.length + 1 >= maxBlocks) break;
      blocks.push(current);
      current = "";
    }
    current = current ? `${current}\n${piece}` : piece;
    used++;
  }
  const more = lines.length - used + notListed;
  if (more > 0) current += `\n…and ${more} more.`;
  if (current) blocks.push(current);
  return blocks.map((text) => section(text));
}
