import { forUpdate, type StoreCtx } from "./db.js";
import {
  type InstanceRow,
  instanceRow,
  type WarningKind,
  type WarningRow,
  warningRow,
} from "./rows.js";

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

/** Creates a warning unless one with the same key exists; returns whether it was created. */
export async function enqueueWarning({ tx }: StoreCtx, w: NewWarning): Promise<boolean> {
  const rows = await tx("warnings")
    .insert({ ...w, detail: JSON.stringify(w.detail ?? {}) })
    .onConflict(["instance_id", "kind", "slot", "expires_at"])
    .ignore()
    .returning("id");
  return rows.length > 0;
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
): Promise<{ claimed: boolean; uncertainSince?: number }> {
  const row = await forUpdate(tx, tx("warnings").where({ id, status: "pending" })).first();
  if (!row) return { claimed: false };
  const current = warningRow.parse(row);
  const live =
    current.claimed_until !== null && current.claimed_until >= now && current.claimed_by !== holder;
  if (live) return { claimed: false };
  await tx("warnings").where({ id }).update({ claimed_by: holder, claimed_until: until });
  const uncertain = current.claimed_by !== null && current.claimed_until !== null;
  return uncertain
    ? { claimed: true, uncertainSince: (current.claimed_until as number) - (until - now) }
    : { claimed: true };
}

export async function markSent(
  { tx }: StoreCtx,
  id: number,
  at: number,
  channel: string,
  ts: string,
): Promise<void> {
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
