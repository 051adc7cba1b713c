import type { AnyMiddlewareArgs, Middleware } from "@slack/bolt";
import type { Knex } from "knex";
import { forgetRequests, markRequestSeen } from "../store/requests.js";

/** How long a request signature is remembered: Bolt refuses requests older than 5 minutes. */
const REPLAY_WINDOW_MS = 10 * 60_000;
/** Old signatures are dropped at most this often, not on every request. */
const PRUNE_EVERY_MS = 60_000;

/** The workspace a request comes from, wherever its kind of payload puts it. */
function teamOf(body: unknown): string | undefined {
  const b = body as {
    team_id?: unknown;
    team?: { id?: unknown } | null;
    user?: { team_id?: unknown };
  };
  const id = b.team_id ?? b.team?.id ?? b.user?.team_id;
  return typeof id === "string" ? id : undefined;
}

/**
 * Runs before every listener. Refuses (1) a replay: a request whose signature was already
 * seen (Slack signs each delivery afresh, so only a copy repeats one), and (2) a request that
 * does not come from the workspace the bot token belongs to (org-wide installs are not
 * supported, so the request's own enterprise flags are not trusted either). Either is acknowledged, so Slack
 * does not retry it, and nothing else happens.
 */
export function requestGuard(
  db: Knex,
  ownTeam: () => Promise<string | undefined>,
): Middleware<AnyMiddlewareArgs> {
  let prunedAt = 0;
  return async (args) => {
    const { context, body, next, logger } = args;
    const ack =
      "ack" in args && typeof args.ack === "function"
        ? (args.ack as (r?: unknown) => Promise<void>)
        : undefined;
    const isCommand = typeof (body as { command?: unknown }).command === "string";
    const signature = typeof context.requestSignature === "string" ? context.requestSignature : "";
    if (signature) {
      const now = Date.now();
      // If the database can't be asked, the request goes on: money operations are idempotent
      // by themselves, and the listener reports the database problem to the person.
      if (now - prunedAt > PRUNE_EVERY_MS) {
        prunedAt = now;
        await forgetRequests({ tx: db }, now - REPLAY_WINDOW_MS).catch(() => undefined);
      }
      const fresh = await markRequestSeen({ tx: db }, signature, now).catch((error) => {
        logger.warn("kms-bot: replay check unavailable", error);
        return true;
      });
      if (!fresh) {
        logger.warn("kms-bot: refused a replayed request");
        await ack?.(
          isCommand
            ? {
                response_type: "ephemeral",
                text: ":no_entry: This request was already handled; nothing was done again.",
              }
            : undefined,
        );
        return;
      }
    }
    const team = teamOf(body);
    const own = await ownTeam();
    // A request must name the bot token's workspace. (If auth.test can't be reached the
    // check is skipped, rather than refusing everyone while Slack is down.)
    if (own && team !== own) {
      logger.warn(`kms-bot: refused a request from workspace ${team ?? "(none named)"}`);
      await ack?.(
        isCommand
          ? {
              response_type: "ephemeral",
              text: ":no_entry: kms-bot serves another workspace; nothing was done.",
            }
          : undefined,
      );
      return;
    }
    await next();
  };
}
