import type { Knex } from "knex";
import type { Clock } from "../clock.js";

/**
 * What every billing operation needs: the database, the clock and two settings. One
 * convention throughout the core: the context comes first; a function that runs inside its
 * caller's transaction takes that transaction second, `(ctx, tx, ...)` (pass `ctx.db` when
 * there is none); every other function takes `(ctx, ...)` and opens its own.
 */
export interface BillingContext {
  db: Knex;
  clock: Clock;
  /** IANA zone for billing cycles and CSV times (`KMS_TIMEZONE`). */
  timezone: string;
  /** Billing admins from `KMS_ADMIN_USERS`, admins from the start and not removable in Slack. */
  envAdmins: readonly string[];
}

/** Who asks: a Slack user, or the shell / timer, which act with admin rights. */
export type Actor = { type: "user"; userId: string } | { type: "system"; name: "cli" | "timer" };

export function actorId(actor: Actor): string {
  return actor.type === "user" ? actor.userId : actor.name;
}

export const cliActor: Actor = { type: "system", name: "cli" };
export const timerActor: Actor = { type: "system", name: "timer" };
export function userActor(userId: string): Actor {
  return { type: "user", userId };
}
