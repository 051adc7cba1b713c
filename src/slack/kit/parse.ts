import { clip, escapeText } from "./blocks.js";
import {
  channelId,
  faqId,
  instanceId,
  mentionedChannel,
  mentionedUser,
  month,
  userId,
} from "./ids.js";

// The parsers of the `/kms` grammar (src/slack/router.ts), shared by its commands.

/** Arguments, a problem to show with the usage, or undefined: "not this command". */
export type Parsed<A> = { args: A } | { problem: string } | undefined;
export type Parse<A> = (words: string[], rest: string) => Parsed<A>;

/** A word the person typed, safe to echo back in mrkdwn. */
export const echo = (token: string) => escapeText(clip(token, 40));
export const badId = (token: string) => ({
  problem: `"${echo(token)}" is not an instance id (letters, digits, dots, dashes, underscores)`,
});

export const nothing =
  (usage: string): Parse<Record<string, never>> =>
  (words) =>
    words.length === 0 ? { args: {} } : { problem: `\`/kms ${usage}\` takes nothing after it` };
export const optionalInstance =
  (usage: string): Parse<{ instanceId?: string }> =>
  (words) => {
    if (words.length > 1) return { problem: `\`/kms ${usage}\` takes at most one instance id` };
    if (words.length === 1 && !instanceId.safeParse(words[0]).success) return badId(words[0]);
    return { args: { instanceId: words[0] } };
  };
export const oneInstance =
  (usage: string): Parse<{ instanceId: string }> =>
  (words) => {
    if (words.length !== 1)
      return { problem: `\`/kms ${usage} <instance>\` takes one instance id` };
    return instanceId.safeParse(words[0]).success
      ? { args: { instanceId: words[0] } }
      : badId(words[0]);
  };
export const optionalMonth =
  (usage: string): Parse<{ month?: string }> =>
  (words) =>
    words.length > 1 || (words[0] !== undefined && !month.safeParse(words[0]).success)
      ? { problem: `\`/kms ${usage} [YYYY-MM]\` takes an optional month such as 2026-11` }
      : { args: { month: words[0] } };
export const mention =
  (op: string): Parse<{ userId: string }> =>
  (words) => {
    if (words.length !== 1) return undefined;
    const id = mentionedUser(words[0]);
    return id && userId.safeParse(id).success
      ? { args: { userId: id } }
      : {
          problem: `"${echo(words[0])}" is not a user; mention them, e.g. \`/kms admins ${op} @jane\``,
        };
  };
export const entryId =
  (op: string): Parse<{ id: number }> =>
  (words) => {
    if (words.length !== 1) return undefined;
    const id = faqId.safeParse(words[0]);
    return id.success
      ? { args: { id: id.data } }
      : { problem: `\`/kms faq ${op} <id>\` takes an entry id from \`/kms faq\`` };
  };

/** `/kms assign <instance> #channel @owner [name]`. */
export const assignArgs: Parse<{
  instanceId: string;
  channel: string;
  owner: string;
  name?: string;
}> = (words) => {
  const usage = "use `/kms assign <instance> #channel @owner [name]`";
  if (words.length < 3) return { problem: usage };
  const [id, channelWord, ownerWord, ...nameWords] = words;
  if (!instanceId.safeParse(id).success) return badId(id);
  const channel = mentionedChannel(channelWord);
  if (!channel || !channelId.safeParse(channel).success)
    return { problem: `"${echo(channelWord)}" is not a channel; ${usage}` };
  const owner = mentionedUser(ownerWord);
  if (!owner || !userId.safeParse(owner).success)
    return { problem: `"${echo(ownerWord)}" is not a user; ${usage}` };
  const name = nameWords.join(" ").trim();
  return { args: { instanceId: id, channel, owner, ...(name ? { name } : {}) } };
};
