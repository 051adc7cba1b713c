import type { App } from "@slack/bolt";
import type { ModalView } from "@slack/types";
import { z } from "zod";
import { requireAdmin } from "../billing/admins.js";
import { userActor } from "../billing/context.js";
import { SLACK_USER_ID } from "../billing/ids.js";
import { assign, localOnly, syncNow } from "./features/account/handlers.js";
import { addBillingAdmin, removeBillingAdmin, showAdmins } from "./features/admins/handlers.js";
import { autorenew } from "./features/autorenew/handlers.js";
import { showBalance, topUp } from "./features/balance/handlers.js";
import { exportBills, showBills } from "./features/bills/handlers.js";
import { buildBuyModal } from "./features/buy/index.js";
import { answerFaq, deleteFaq, faqForm } from "./features/faq/handlers.js";
import { changePrice, showPrices } from "./features/prices/handlers.js";
import { buildRenewModal } from "./features/renew/index.js";
import { disable, enable } from "./features/service/handlers.js";
import { showStatus } from "./features/status/handlers.js";
import { listTickets } from "./features/tickets/handlers.js";
import { buildUnsubscribeModal } from "./features/unsubscribe/index.js";
import { usageText } from "./help.js";
import type { Invocation, Reply } from "./kit/command.js";
import type { FeatureDeps } from "./kit/deps.js";
import { userMessage } from "./kit/errors.js";
import { instanceId } from "./kit/ids.js";
import {
  assignArgs,
  badId,
  echo,
  entryId,
  mention,
  nothing,
  oneInstance,
  optionalInstance,
  optionalMonth,
  type Parse,
} from "./kit/parse.js";
import { postReply, replyFailure } from "./kit/respond.js";
import { openModal } from "./kit/slack.js";

export const KMS_COMMAND = "/kms";
/** Longest command text accepted; Slack sends at most a few thousand characters. */
export const MAX_COMMAND_TEXT = 1_000;

/**
 * One `/kms` command. Every command that reads or writes the database is acknowledged
 * first and answered through response_url (or by opening its modal), so a slow database
 * never holds the acknowledgement. `adminOnly` is checked (with the core's words) first.
 */
type Route<A> = { parse: Parse<A>; adminOnly?: string } & (
  | { instant: true; handler: (args: A) => Reply }
  | {
      /** A change others see (money, prices, settings): App Home is refreshed after it. */
      mutates: boolean;
      /**
       * A copy of the request, sent to any replica, repeats nothing: it only reads, or what it
       * writes is keyed by the Slack interaction (`topup`: its trigger id). Commands that open
       * a modal are (a trigger id opens one view); the others' signatures are also recorded in
       * the shared database (src/slack/guard.ts).
       */
      replaySafe?: true;
      /** Shown at once while it runs (default: nothing). */
      ackText?: string;
      handler: (inv: Invocation, args: A) => Promise<Reply>;
    }
  | { opensModal: true; handler: (inv: Invocation, args: A) => Promise<ModalView> }
);

/** A command matched and parsed, ready to run. */
export type Matched = { name: string; adminOnly?: string; replaySafe: boolean } & (
  | { kind: "instant"; reply: Reply }
  | { kind: "reply"; mutates: boolean; ackText?: string; run: (inv: Invocation) => Promise<Reply> }
  | { kind: "modal"; run: (inv: Invocation) => Promise<ModalView> }
);

function route<A>(r: Route<A>) {
  return (
    name: string,
    words: string[],
    rest: string,
  ): Matched | { problem: string } | undefined => {
    const parsed = r.parse(words, rest);
    if (parsed === undefined || "problem" in parsed) return parsed;
    const { args } = parsed;
    const base = { name, adminOnly: r.adminOnly, replaySafe: true };
    if ("instant" in r) return { ...base, kind: "instant", reply: r.handler(args) };
    if ("opensModal" in r) return { ...base, kind: "modal", run: (inv) => r.handler(inv, args) };
    const { mutates, ackText, replaySafe = false } = r;
    const run = (inv: Invocation) => r.handler(inv, args);
    return { ...base, replaySafe, kind: "reply", mutates, ackText, run };
  };
}

/**
 * The `/kms` grammar: a verb, or a verb and a sub-verb ("price set"), to its route. A
 * sub-verb route whose parse answers undefined leaves the words to the verb's own route.
 */
export const COMMANDS = {
  help: route({
    instant: true,
    parse: () => ({ args: {} }),
    handler: () => ({ text: usageText() }),
  }),
  status: route({
    mutates: false,
    replaySafe: true,
    parse: optionalInstance("status"),
    handler: showStatus,
  }),
  renew: route({
    opensModal: true,
    parse: optionalInstance("renew"),
    handler: (inv, a) => buildRenewModal(inv, a.instanceId),
  }),
  buy: route({
    opensModal: true,
    adminOnly: "buy instances",
    parse: nothing("buy"),
    handler: (inv: Invocation) => {
      localOnly(inv.provider, "`/kms buy`");
      return buildBuyModal(inv.billing);
    },
  }),
  unsubscribe: route({
    opensModal: true,
    parse: optionalInstance("unsubscribe"),
    handler: (inv, a) => buildUnsubscribeModal(inv, a.instanceId),
  }),
  tickets: route({
    mutates: false,
    replaySafe: true,
    parse: nothing("tickets"),
    handler: listTickets,
  }),
  bills: route({
    mutates: false,
    replaySafe: true,
    parse: optionalMonth("bills"),
    handler: showBills,
  }),
  "bills export": route({
    mutates: false,
    ackText: "Preparing the CSV…",
    parse: optionalMonth("bills export"),
    handler: exportBills,
  }),
  balance: route({
    mutates: false,
    replaySafe: true,
    parse: nothing("balance"),
    handler: showBalance,
  }),
  topup: route({
    mutates: true,
    replaySafe: true,
    parse: (words) =>
      words.length === 0
        ? { problem: "`/kms topup <amount>` needs an amount, e.g. `/kms topup 5,000`" }
        : { args: { amount: words.join(" ") } },
    handler: topUp,
  }),
  sync: route({
    mutates: true,
    adminOnly: "sync the fleet with the Alibaba Cloud account",
    parse: nothing("sync"),
    handler: syncNow,
  }),
  assign: route({ mutates: true, parse: assignArgs, handler: assign }),
  disable: route({ mutates: true, parse: oneInstance("disable"), handler: disable }),
  enable: route({ mutates: true, parse: oneInstance("enable"), handler: enable }),
  price: route({
    mutates: false,
    replaySafe: true,
    parse: (words) =>
      words.length === 0
        ? { args: {} }
        : { problem: "use `/kms price` or `/kms price set <international|china> <amount>`" },
    handler: showPrices,
  }),
  "price set": route({
    mutates: true,
    parse: (words) =>
      words.length >= 2
        ? { args: { site: words[0], amount: words.slice(1).join(" ") } }
        : undefined,
    handler: changePrice,
  }),
  autorenew: route({
    mutates: true,
    parse: (words) => {
      if (words.length < 2)
        return {
          problem:
            "use `/kms autorenew <instance> <period>` (e.g. `3 months`, `1y`) or `/kms autorenew <instance> off`",
        };
      if (!instanceId.safeParse(words[0]).success) return badId(words[0]);
      const period = words.slice(1).join(" ");
      return {
        args: { instanceId: words[0], period: period.toLowerCase() === "off" ? "off" : period },
      };
    },
    handler: autorenew,
  }),
  admins: route({
    mutates: false,
    replaySafe: true,
    parse: (words) =>
      words.length === 0
        ? { args: {} }
        : { problem: "use `/kms admins`, `/kms admins add @user` or `/kms admins remove @user`" },
    handler: showAdmins,
  }),
  "admins add": route({ mutates: false, parse: mention("add"), handler: addBillingAdmin }),
  "admins remove": route({ mutates: false, parse: mention("remove"), handler: removeBillingAdmin }),
  faq: route({
    mutates: false,
    replaySafe: true,
    parse: (words, rest) => ({ args: { question: words.length === 0 ? undefined : rest } }),
    handler: answerFaq,
  }),
  "faq add": route({
    opensModal: true,
    adminOnly: "change the FAQ",
    parse: (words) => (words.length === 0 ? { args: {} } : undefined),
    handler: (inv: Invocation) => faqForm(inv, {}),
  }),
  "faq edit": route({
    opensModal: true,
    adminOnly: "change the FAQ",
    parse: entryId("edit"),
    handler: faqForm,
  }),
  "faq remove": route({ mutates: false, parse: entryId("remove"), handler: deleteFaq }),
} satisfies Record<string, ReturnType<typeof route>>;

function help(problem: string): Matched {
  return { name: "help", replaySafe: true, kind: "instant", reply: { text: usageText(problem) } };
}

/** Finds and parses the command in the text after `/kms`. Never throws: bad text is help with a reason. */
export function matchCommand(raw: string): Matched {
  if (raw.length > MAX_COMMAND_TEXT)
    return help(
      `that text is ${raw.length} characters; the longest accepted is ${MAX_COMMAND_TEXT}`,
    );
  const trimmed = raw.trim();
  const [verb = "help", ...args] = trimmed.split(/\s+/).filter(Boolean);
  const table: Record<string, ReturnType<typeof route>> = COMMANDS;
  const afterVerb = trimmed.slice(verb.length).trim();
  const sub = args[0]?.toLowerCase();
  const name = `${verb.toLowerCase()} ${sub}`;
  if (sub !== undefined && Object.hasOwn(table, name)) {
    const found = table[name](name, args.slice(1), afterVerb.slice(args[0].length).trim());
    if (found) return "problem" in found ? help(found.problem) : found;
  }
  const own = verb.toLowerCase();
  if (!Object.hasOwn(table, own)) return help(`I don't know "${echo(verb)}"`);
  const found = table[own](own, args, afterVerb);
  if (!found) return help(`I don't know "${echo(verb)}"`);
  return "problem" in found ? help(found.problem) : found;
}

/** Each slash command's match, made once: the replay guard asks it first, then the listener. */
const matched = new WeakMap<object, Matched>();

/** The command in a slash command's payload (Bolt hands the guard and the listener the same one). */
export function commandIn(payload: { text?: unknown }): Matched {
  let found = matched.get(payload);
  if (!found) {
    found = matchCommand(typeof payload.text === "string" ? payload.text : "");
    matched.set(payload, found);
  }
  return found;
}

const commandPayload = z.object({
  user_id: z.string().regex(SLACK_USER_ID, "user_id is not a Slack user id"),
  channel_id: z.string().min(1, "channel_id is missing"),
  trigger_id: z.string().min(1, "trigger_id is missing"),
  response_url: z.string().regex(/^https?:\/\/\S+$/, "response_url is not a URL"),
  text: z.string().default(""),
});

/** `/kms`: acknowledges, then runs the matched command and answers through response_url. */
export function registerCommands(app: App, deps: FeatureDeps): void {
  const { billing } = deps;
  app.command(KMS_COMMAND, async ({ command, ack, client, logger }) => {
    const payload = commandPayload.safeParse(command);
    if (!payload.success) {
      await ack({
        response_type: "ephemeral",
        text: `:no_entry: That request was malformed (${payload.error.issues.map((i) => i.message).join("; ")}); nothing was done.`,
      });
      return;
    }
    const cmd = commandIn(command);
    if (cmd.kind === "instant") {
      await ack({ response_type: "ephemeral", ...cmd.reply });
      return;
    }
    await ack(
      cmd.kind === "reply" && cmd.ackText
        ? { response_type: "ephemeral", text: cmd.ackText }
        : undefined,
    );
    const reply = (r: Reply) =>
      postReply(payload.data.response_url, r).catch((error) => {
        deps.slackError("response_url", replyFailure(error));
        throw error;
      });
    const inv: Invocation = {
      billing,
      provider: deps.provider,
      actor: userActor(payload.data.user_id),
      userId: payload.data.user_id,
      triggerId: payload.data.trigger_id,
      client,
      logger,
    };
    try {
      if (cmd.adminOnly) await requireAdmin(billing, billing.db, inv.actor, cmd.adminOnly);
      if (cmd.kind === "modal")
        await openModal(client, inv.triggerId, await cmd.run(inv), "please run the command again");
      else await reply(await cmd.run(inv));
    } catch (error) {
      await reply({ text: userMessage(error, logger) }).catch((e) =>
        logger.warn("kms-bot: respond failed", e),
      );
    }
    if (cmd.kind === "reply" && cmd.mutates) await deps.refreshHome(client, inv.userId, logger);
  });
}
