import type { Knex } from "knex";
import type { Stage } from "../ops/stages.js";
import { forgetRequests, markRequestSeen } from "../store/requests.js";
import { commandIn } from "./router.js";

/** Bolt refuses a request whose signed timestamp is older than this: a copy can't outlive it. */
export const REPLAY_WINDOW_MS = 5 * 60_000;
/** Most signatures one process remembers (about 100 bytes each): a flood evicts the oldest. */
const MAX_REMEMBERED = 50_000;
/** Old signatures are dropped from the shared table at most this often, not on every request. */
const PRUNE_EVERY_MS = 60_000;

/**
 * The signatures this process has seen in the last five minutes, in memory. Bounded: past
 * `max` entries the oldest is forgotten (a copy of it then meets the idempotency of what it
 * asks for, below, instead of this filter).
 */
export class ReplayFilter {
  readonly #expiry = new Map<string, number>();
  constructor(
    private readonly windowMs = REPLAY_WINDOW_MS,
    private readonly max = MAX_REMEMBERED,
  ) {}

  get size(): number {
    return this.#expiry.size;
  }

  /**
   * Records `signature` of a request signed at `signedAt`; true when it was recorded already
   * and is still inside its window (a replay).
   */
  seen(signature: string, signedAt: number, now: number): boolean {
    // Entries go in roughly in time order, so the expired ones are at the front.
    for (const [key, until] of this.#expiry) {
      if (until > now && this.#expiry.size < this.max) break;
      this.#expiry.delete(key);
    }
    // The hex digest's first 128 bits identify a request as well as all 256 do.
    const key = signature.slice(0, 35);
    const until = this.#expiry.get(key);
    if (until !== undefined && until > now) return true;
    this.#expiry.set(key, Math.max(signedAt, now) + this.windowMs);
    return false;
  }
}

/**
 * Modal submissions whose effect is keyed by the view id (renewal, purchase and ticket
 * orders) or happens once per ticket (a rejection): the callback ids of src/blocks. Written
 * out rather than imported so that a renamed id falls back to the shared record, not to none.
 */
const KEYED_VIEWS = new Set([
  "renew_modal",
  "buy_modal",
  "unsubscribe_modal",
  "reject_ticket_modal",
]);

/**
 * True when a copy of this request, handled by any replica, repeats nothing: every effect it
 * can have is read-only or idempotent by the identity of the Slack interaction (trigger id,
 * view id, event id). Everything else (buttons, `price set`, `disable`, `bills export`, the FAQ
 * modal, ...) is also recorded in the shared database, so a copy sent to another replica is
 * refused there too. See bench/README.md for the list and what would key each.
 */
export function replaySafe(body: unknown): boolean {
  const b = body as {
    command?: unknown;
    text?: unknown;
    type?: unknown;
    view?: { callback_id?: unknown };
  };
  // The router's own table says which commands are (see `replaySafe` in src/slack/router.ts).
  if (typeof b.command === "string") return commandIn(b).replaySafe;
  if (b.type === "view_submission") return KEYED_VIEWS.has(String(b.view?.callback_id));
  // Events: FAQ answers are recorded by event id; App Home publishing is idempotent.
  return b.type === "event_callback";
}

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
 * supported, so the request's own enterprise flags are not trusted either). Either is
 * acknowledged, so Slack does not retry it, and nothing else happens.
 *
 * Replays are caught in memory by this process; across replicas, a copy of a request that
 * `replaySafe` accepts is harmless by construction, and only the others are also recorded in
 * the shared database.
 */
export function requestGuard(
  db: Knex,
  ownTeam: () => Promise<string | undefined>,
  filter = new ReplayFilter(),
): Stage {
  let prunedAt = 0;
  /** The bot token's workspace once known (it does not change while the process runs). */
  let ownTeamId: string | undefined;
  const seenByAnyReplica = async (
    signature: string,
    now: number,
    logger: { warn(...a: unknown[]): void },
  ) => {
    if (now - prunedAt > PRUNE_EVERY_MS) {
      prunedAt = now;
      await forgetRequests({ tx: db }, now - 2 * REPLAY_WINDOW_MS).catch(() => undefined);
    }
    // If the database can't be asked, the request goes on: the listener reports the database
    // problem to the person, and this process's filter still refuses a copy.
    const fresh = await markRequestSeen({ tx: db }, signature, now).catch((error) => {
      logger.warn("kms-bot: replay check unavailable", error);
      return true;
    });
    return !fresh;
  };
  return async (args, next) => {
    const { context, body, logger } = args;
    const ack =
      "ack" in args && typeof args.ack === "function"
        ? (args.ack as (r?: unknown) => Promise<void>)
        : undefined;
    const isCommand = typeof (body as { command?: unknown }).command === "string";
    const refuse = async (text: string) =>
      ack?.(isCommand ? { response_type: "ephemeral", text } : undefined);
    const signature = typeof context.requestSignature === "string" ? context.requestSignature : "";
    if (signature) {
      const now = Date.now();
      const signedAt = Number(context.requestTimestamp) * 1000 || now;
      const replayed =
        filter.seen(signature, signedAt, now) ||
        (!replaySafe(body) && (await seenByAnyReplica(signature, now, logger)));
      if (replayed) {
        logger.warn("kms-bot: refused a replayed request");
        await refuse(":no_entry: This request was already handled; nothing was done again.");
        return;
      }
    }
    const team = teamOf(body);
    ownTeamId ??= await ownTeam();
    const own = ownTeamId;
    // A request must name the bot token's workspace. (If auth.test can't be reached the
    // check is skipped, rather than refusing everyone while Slack is down.)
    if (own && team !== own) {
      logger.warn(`kms-bot: refused a request from workspace ${team ?? "(none named)"}`);
      await refuse(":no_entry: kms-bot serves another workspace; nothing was done.");
      return;
    }
    await next();
  };
}

export interface AdmissionOptions {
  /** Requests handled at once, work after the ack included. */
  limit: number;
  /** A request that waited this long for a turn is turned away instead (Slack's 3 s budget). */
  maxWaitMs: number;
}

/**
 * Backpressure: at most `limit` requests are handled at once, the work after their ack (a
 * modal, a DM) included; the rest wait their turn, oldest first. Without it a burst is
 * acknowledged faster than its modals can be built, and their trigger ids (3 s) expire in
 * the queue. A slash command that waited `maxWaitMs` is told to try again; anything else is
 * left unacknowledged (Slack shows the person an error) rather than done late.
 */
export function admission({ limit, maxWaitMs }: AdmissionOptions): Stage {
  let active = 0;
  const waiting: Array<(admitted: boolean) => void> = [];
  const release = () => {
    const nextInLine = waiting.shift();
    if (nextInLine) nextInLine(true);
    else active--;
  };
  /** True at once when there is room; otherwise a promise of the turn (or false: too late). */
  const turn = (): true | Promise<boolean> => {
    if (active < limit) {
      active++;
      return true;
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const i = waiting.indexOf(admit);
        if (i >= 0) waiting.splice(i, 1);
        resolve(false);
      }, maxWaitMs);
      const admit = (admitted: boolean) => {
        clearTimeout(timer);
        resolve(admitted);
      };
      waiting.push(admit);
    });
  };
  return async (args, next) => {
    const admitted = turn();
    if (admitted !== true && !(await admitted)) {
      args.logger.warn("kms-bot: busy; turned a request away");
      if (typeof (args.body as { command?: unknown }).command === "string" && "ack" in args) {
        const ack = args.ack as (r?: unknown) => Promise<void>;
        await ack({
          response_type: "ephemeral",
          text: ":hourglass: kms-bot is busy right now and did nothing; please try again in a moment.",
        });
      }
      return;
    }
    try {
      await next();
    } finally {
      release();
    }
  };
}
