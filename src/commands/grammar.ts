import { z } from "zod";
import { clip, escapeText } from "../blocks/common.js";

/** What `/kms <text>` asks for. Anything not understood becomes `help` with the reason. */
export type KmsCommand =
  | { name: "help"; problem?: string }
  | { name: "status"; instanceId?: string }
  | { name: "renew"; instanceId?: string }
  | { name: "buy" }
  | { name: "bills"; month?: string }
  | { name: "bills_export"; month?: string }
  | { name: "balance" }
  | { name: "topup"; amount: string }
  | { name: "disable"; instanceId: string }
  | { name: "enable"; instanceId: string }
  | { name: "price" }
  | { name: "price_set"; site: string; amount: string }
  | { name: "autorenew"; instanceId: string; period: string | "off" }
  | { name: "admins" }
  | { name: "admins_add"; userId: string }
  | { name: "admins_remove"; userId: string }
  | { name: "unsubscribe"; instanceId?: string }
  | { name: "tickets" }
  | { name: "faq"; question?: string }
  | { name: "faq_add" }
  | { name: "faq_edit"; id: number }
  | { name: "faq_remove"; id: number };

/** Longest command text accepted; Slack sends at most a few thousand characters. */
export const MAX_COMMAND_TEXT = 1_000;

const instanceId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/);
const month = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/);

/** `<@U123|name>` or `<@U123>` (how Slack escapes a mention in command text), or a bare id. */
function mentionedUser(token: string): string | undefined {
  const m =
    /^<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>$/.exec(token) ?? /^@?([UW][A-Z0-9]{2,})$/.exec(token);
  return m?.[1];
}

/** A word the person typed, safe to echo back in mrkdwn. */
function echo(token: string): string {
  return escapeText(clip(token, 40));
}

function help(problem: string): KmsCommand {
  return { name: "help", problem };
}

/** Parses the text after `/kms`. Never throws: bad text comes back as help with a reason. */
export function parseCommand(raw: string): KmsCommand {
  if (raw.length > MAX_COMMAND_TEXT)
    return help(
      `that text is ${raw.length} characters; the longest accepted is ${MAX_COMMAND_TEXT}`,
    );
  const words = raw.trim().split(/\s+/).filter(Boolean);
  const [verb = "help", ...args] = words;
  const id = (i: number) =>
    args[i] !== undefined && instanceId.safeParse(args[i]).success ? args[i] : undefined;
  const arity = (n: number, usage: string): string | undefined =>
    args.length === n
      ? undefined
      : `\`/kms ${usage}\` takes ${n === 0 ? "nothing after it" : `${n} argument${n > 1 ? "s" : ""}`}`;
  const badId = (i: number) =>
    `"${echo(args[i])}" is not an instance id (letters, digits, dots, dashes, underscores)`;

  switch (verb.toLowerCase()) {
    case "help":
      return { name: "help" };
    case "status":
    case "renew":
    case "unsubscribe": {
      const name = verb.toLowerCase() as "status" | "renew" | "unsubscribe";
      if (args.length > 1) return help(`\`/kms ${name}\` takes at most one instance id`);
      if (args.length === 1 && !id(0)) return help(badId(0));
      return { name, instanceId: id(0) };
    }
    case "buy":
      return arity(0, "buy") ? help(arity(0, "buy") as string) : { name: "buy" };
    case "balance":
      return arity(0, "balance") ? help(arity(0, "balance") as string) : { name: "balance" };
    case "faq": {
      const op = args[0]?.toLowerCase();
      if (op === "add" && args.length === 1) return { name: "faq_add" };
      if ((op === "edit" || op === "remove") && args.length === 2) {
        if (!/^\d{1,9}$/.test(args[1]))
          return help(`\`/kms faq ${op} <id>\` takes an entry id from \`/kms faq\``);
        return { name: op === "edit" ? "faq_edit" : "faq_remove", id: Number(args[1]) };
      }
      return args.length === 0
        ? { name: "faq" }
        : { name: "faq", question: raw.trim().slice(verb.length).trim() };
    }
    case "tickets":
      return arity(0, "tickets") ? help(arity(0, "tickets") as string) : { name: "tickets" };
    case "bills": {
      const exporting = args[0]?.toLowerCase() === "export";
      const rest = exporting ? args.slice(1) : args;
      if (rest.length > 1 || (rest[0] !== undefined && !month.safeParse(rest[0]).success)) {
        return help(
          `\`/kms bills${exporting ? " export" : ""} [YYYY-MM]\` takes an optional month such as 2026-11`,
        );
      }
      return { name: exporting ? "bills_export" : "bills", month: rest[0] };
    }
    case "topup":
      if (args.length === 0)
        return help("`/kms topup <amount>` needs an amount, e.g. `/kms topup 5,000`");
      return { name: "topup", amount: args.join(" ") };
    case "disable":
    case "enable": {
      const name = verb.toLowerCase() as "disable" | "enable";
      if (args.length !== 1) return help(`\`/kms ${name} <instance>\` takes one instance id`);
      return id(0) ? { name, instanceId: args[0] } : help(badId(0));
    }
    case "price":
      if (args.length === 0) return { name: "price" };
      if (args[0].toLowerCase() === "set" && args.length >= 3) {
        return { name: "price_set", site: args[1], amount: args.slice(2).join(" ") };
      }
      return help("use `/kms price` or `/kms price set <international|china> <amount>`");
    case "autorenew": {
      if (args.length < 2)
        return help(
          "use `/kms autorenew <instance> <period>` (e.g. `3 months`, `1y`) or `/kms autorenew <instance> off`",
        );
      if (!id(0)) return help(badId(0));
      const period = args.slice(1).join(" ");
      return {
        name: "autorenew",
        instanceId: args[0],
        period: period.toLowerCase() === "off" ? "off" : period,
      };
    }
    case "admins": {
      if (args.length === 0) return { name: "admins" };
      const op = args[0].toLowerCase();
      if ((op === "add" || op === "remove") && args.length === 2) {
        const userId = mentionedUser(args[1]);
        if (!userId)
          return help(
            `"${echo(args[1])}" is not a user; mention them, e.g. \`/kms admins ${op} @jane\``,
          );
        return { name: op === "add" ? "admins_add" : "admins_remove", userId };
      }
      return help("use `/kms admins`, `/kms admins add @user` or `/kms admins remove @user`");
    }
    default:
      return help(`I don't know "${echo(verb)}"`);
  }
}
