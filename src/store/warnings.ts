import type { Knex } from "knex";
import { forUpdate, type StoreCtx } from "./db.js";
import {
  type InstanceRow,
  instanceRow,
  type WarningKind,
  type WarningRow,
  warningRow,
} from "./rows.js";
import { isSqliteHandle, sqliteStatement } from "./sqlite-fast.js";

export interface NewWarning {
  instance_id: string;
  kind: WarningKind;
  slot: number;
  expires_at: number;
  due_at: number;
  detail?: Record<string, unknown>;
  created_at: number;
  status?: "pending" | "superseded";
}

/** What makes a warning unique: its instance, kind, slot and period. */
export function warningKey(w: Pick<WarningRow, "instance_id" | "kind" | "slot" | "expires_at">) {
  return `${w.instance_id}|${w.kind}|${w.slot}|${w.expires_at}`;
}

/** Creates a warning unless one with the same key exists; returns whether it was created. */
export async function enqueueWarning(ctx: StoreCtx, w: NewWarning): Promise<boolean> {
  return (await enqueueWarnings(ctx, [w])).size > 0;
}

/**
 * Creates these warnings in one statement, each unless one with its key exists; returns the
 * keys (`warningKey`) of those created. Keep a call to a few hundred: every value is a
 * bound parameter.
 */
export async function enqueueWarnings({ tx }: StoreCtx, ws: NewWarning[]): Promise<Set<string>> {
  if (ws.length === 0) return new Set();
  const rows: Array<Record<string, unknown>> = await tx("warnings")
    .insert(
      ws.map((w) => ({
        instance_id: w.instance_id,
        kind: w.kind,
        slot: w.slot,
        expires_at: w.expires_at,
        due_at: w.due_at,
        detail: JSON.stringify(w.detail ?? {}),
        created_at: w.created_at,
        status: w.status ?? "pending",
      })),
    )
    .onConflict(["instance_id", "kind", "slot", "expires_at"])
    .ignore()
    .returning(["instance_id", "kind", "slot", "expires_at"]);
  return new Set(
    rows.map((r) =>
      warningKey({
        instance_id: String(r.instance_id),
        kind: r.kind as WarningKind,
        slot: Number(r.slot),
        expires_at: Number(r.expires_at),
      }),
    ),
  );
}

/** Warnings of these instances for their current periods (keyed by `expires_at`). */
export async function warningsFor(
  { tx }: StoreCtx,
  instances: { id: string; expires_at: number }[],
): Promise<WarningRow[]> {
  const current = new Map(instances.map((i) => [i.id, i.expires_at]));
  const out: WarningRow[] = [];
  const ids = [...current.keys()];
  // Chunked to stay under the databases' bound-parameter limits; the unique index on
  // (instance_id, ...) serves each lookup.
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await tx("warnings").whereIn("instance_id", ids.slice(i, i + 500));
    for (const r of rows) {
      const w = warningRow.parse(r);
      if (current.get(w.instance_id) === w.expires_at) out.push(w);
    }
  }
  return out;
}

/** Pending warnings whose time has come and whose retry delay is over, oldest first. */
export async function dueWarnings(
  { tx }: StoreCtx,
  now: number,
  limit: number,
): Promise<WarningRow[]> {
  const rows = await tx("warnings")
    .where({ status: "pending" })
    .andWhere("due_at", "<=", now)
    .andWhere((q) => q.whereNull("next_attempt_at").orWhere("next_attempt_at", "<=", now))
    .orderBy([{ column: "due_at" }, { column: "id" }])
    .limit(limit);
  return rows.map((r) => warningRow.parse(r));
}

/** The earliest moment a pending warning becomes due or retryable, if any. */
export async function nextPendingAt({ tx }: StoreCtx): Promise<number | undefined> {
  const row = await tx("warnings")
    .where({ status: "pending" })
    .min({ due: tx.raw("coalesce(next_attempt_at, due_at)") })
    .first();
  return row?.due === null || row?.due === undefined ? undefined : Number(row.due);
}

export interface Claim {
  claimed: boolean;
  /** Set when an earlier claim ran out without an outcome: the message may be in Slack. */
  uncertainSince?: number;
}

type ClaimState = Pick<WarningRow, "claimed_by" | "claimed_until">;

/** Another holder's claim that has not run out: the warning is theirs to post. */
const heldByOther = (w: ClaimState, holder: string, now: number) =>
  w.claimed_until !== null && w.claimed_until >= now && w.claimed_by !== holder;

/** A claim taken over `was`: uncertain when `was` held a claim (its holder may have posted). */
function claimOver(was: ClaimState, now: number, until: number): Claim {
  return was.claimed_by !== null && was.claimed_until !== null
    ? { claimed: true, uncertainSince: was.claimed_until - (until - now) }
    : { claimed: true };
}

/**
 * Claims a pending warning for posting until `until`, unless another sweeper holds a live
 * claim on it; only the claimant posts. `uncertainSince` is set when an earlier claim ran out
 * without an outcome (its process died mid-post): the message may or may not be in Slack.
 */
export async function claimWarning(
  { tx }: StoreCtx,
  id: number,
  holder: string,
  now: number,
  until: number,
): Promise<Claim> {
  const row = await forUpdate(tx, tx("warnings").where({ id, status: "pending" })).first();
  if (!row) return { claimed: false };
  const current = warningRow.parse(row);
  if (heldByOther(current, holder, now)) return { claimed: false };
  await tx("warnings").where({ id }).update({ claimed_by: holder, claimed_until: until });
  return claimOver(current, now, until);
}

/**
 * `claimWarning` in one compare-and-set statement on the warning as it was read (`seen`):
 * when the row is still pending with the claim `seen` shows, the decision taken on `seen` is
 * the one `claimWarning` would take on a fresh read. Undefined when it changed since (or
 * another holder's claim was live then): ask `claimWarning`.
 */
export async function claimAsSeen(
  { tx }: StoreCtx,
  seen: WarningRow,
  holder: string,
  now: number,
  until: number,
): Promise<Claim | undefined> {
  if (seen.status !== "pending" || heldByOther(seen, holder, now)) return undefined;
  const { claimed_by: by, claimed_until: at } = seen;
  const changed = isSqliteHandle(tx)
    ? await sqliteStatement(tx as Knex, (q) =>
        q.run(
          `UPDATE warnings SET claimed_by = ?, claimed_until = ? WHERE id = ? AND status = 'pending'
           AND claimed_by IS ? AND claimed_until IS ?`,
          [holder, until, seen.id, by, at],
        ),
      )
    : await tx("warnings")
        .where({ id: seen.id, status: "pending" })
        .andWhere((q) => (by === null ? q.whereNull("claimed_by") : q.where("claimed_by", by)))
        .andWhere((q) =>
          at === null ? q.whereNull("claimed_until") : q.where("claimed_until", at),
        )
        .update({ claimed_by: holder, claimed_until: until });
  return changed === 1 ? claimOver(seen, now, until) : undefined;
}

export async function markSent(
  { tx }: StoreCtx,
  id: number,
  at: number,
  channel: string,
  ts: string,
): Promise<void> {
  if (isSqliteHandle(tx)) {
    await sqliteStatement(tx as Knex, (q) =>
      q.run(
        `UPDATE warnings SET status = 'sent', sent_at = ?, posted_channel = ?, message_ts = ?,
         claimed_until = NULL WHERE id = ?`,
        [at, channel, ts, id],
      ),
    );
    return;
  }
  await tx("warnings").where({ id }).update({
    status: "sent",
    sent_at: at,
    posted_channel: channel,
    message_ts: ts,
    claimed_until: null,
  });
}

export async function markFailed(
  { tx }: StoreCtx,
  id: number,
  error: string,
  retryAt: number,
): Promise<void> {
  await tx("warnings")
    .where({ id })
    .update({
      attempts: tx.raw("attempts + 1"),
      last_error: error.slice(0, 500),
      next_attempt_at: retryAt,
      claimed_by: null,
      claimed_until: null,
    });
}

/** Marks pending warnings of an instance superseded (a more urgent one replaces them). */
export async function supersede({ tx }: StoreCtx, ids: number[]): Promise<void> {
  if (ids.length > 0)
    await tx("warnings")
      .whereIn("id", ids)
      .andWhere({ status: "pending" })
      .update({ status: "superseded" });
}

export async function getWarning({ tx }: StoreCtx, id: number): Promise<WarningRow | undefined> {
  const row = await tx("warnings").where({ id }).first();
  return row ? warningRow.parse(row) : undefined;
}

/** Instances whose subscription ends in [from, to), not released, soonest first. */
export async function instancesExpiringBetween(
  { tx }: StoreCtx,
  from: number,
  to: number,
): Promise<InstanceRow[]> {
  const rows = await tx("instances")
    .whereNull("released_at")
    .andWhere("expires_at", ">=", from)
    .andWhere("expires_at", "<", to)
    .orderBy("expires_at");
  return rows.map((r) => instanceRow.parse(r));
}

/** Tries to take (or keep) the named lease until `until`; false while another holder has it. */
export async function acquireLease(
  { tx }: StoreCtx,
  name: string,
  holder: string,
  now: number,
  until: number,
): Promise<boolean> {
  const changed = await tx("leases")
    .where({ name })
    .andWhere((q) => q.where("expires_at", "<", now).orWhere({ holder }).orWhereNull("holder"))
    .update({ holder, expires_at: until });
  return changed === 1;
}

export async function releaseLease({ tx }: StoreCtx, name: string, holder: string): Promise<void> {
  await tx("leases").where({ name, holder }).update({ holder: null, expires_at: 0 });
}

/** The earliest expiry at or after `from` of an instance not released. */
export async function firstExpiringFrom(
  { tx }: StoreCtx,
  from: number,
): Promise<number | undefined> {
  const row = await tx("instances")
    .whereNull("released_at")
    .andWhere("expires_at", ">=", from)
    .min({ at: "expires_at" })
    .first();
  return row?.at === null || row?.at === undefined ? undefined : Number(row.at);
}
