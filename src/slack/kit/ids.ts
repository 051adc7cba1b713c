import { z } from "zod";
import { INSTANCE_ID, SLACK_CHANNEL_ID, SLACK_USER, SLACK_USER_ID } from "../../billing/ids.js";

// Ids as they arrive from Slack (command text, button values, metadata), parsed with zod.

export const instanceId = z.string().regex(INSTANCE_ID);
export const userId = z.string().regex(SLACK_USER_ID, "is not a Slack user id");
export const channelId = z.string().regex(SLACK_CHANNEL_ID, "is not a Slack channel id");
/** A billing cycle, `YYYY-MM`. */
export const month = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/);
/** A ticket or warning id in a button value or private_metadata. */
export const rowId = z
  .string()
  .regex(/^\d{1,12}$/)
  .transform(Number);
/** An FAQ entry id as typed after `/kms faq edit|remove`. */
export const faqId = z
  .string()
  .regex(/^\d{1,9}$/)
  .transform(Number);

const MENTION = new RegExp(`^<@(${SLACK_USER})(?:\\|[^>]*)?>$`);
const BARE_USER = new RegExp(`^@?(${SLACK_USER})$`);
const CHANNEL_MENTION = /^<#([CG][A-Z0-9]{2,29})(?:\|[^>]*)?>$/;
const BARE_CHANNEL = /^#?([CG][A-Z0-9]{2,29})$/;
const MENTIONS = /<@[UW][A-Z0-9]+(\|[^>]*)?>/g;

/** `<@U123|name>` or `<@U123>` (how Slack escapes a mention in command text), or a bare id. */
export function mentionedUser(token: string): string | undefined {
  return (MENTION.exec(token) ?? BARE_USER.exec(token))?.[1];
}

/** Text without user mentions (the bot's own, in an @mention question). */
export function stripMentions(text: string): string {
  return text.replace(MENTIONS, " ").trim();
}

/** `<#C123|general>` or `<#C123>` (how Slack escapes a channel in command text), or a bare id. */
export function mentionedChannel(token: string): string | undefined {
  return (CHANNEL_MENTION.exec(token) ?? BARE_CHANNEL.exec(token))?.[1];
}
