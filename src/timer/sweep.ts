import { hostname } from "node:os";
import type { KnownBlock } from "@slack/types";
import { balance } from "../billing/account.js";
import { audit } from "../billing/admins.js";
import { type BillingContext, timerActor } from "../billing/context.js";
import { isBillingError } from "../billing/errors.js";
import { DAY_MS, lifecycleOf, releaseAtOf } from "../billing/lifecycle.js";
import { renew } from "../billing/orders.js";
import { periodLabel } from "../billing/periods.js";
import { currentPrices } from "../billing/prices.js";
import { type WarningFacts, warningMessage } from "../blocks/warnings.js";
import { transaction } from "../store/db.js";
import { getInstance, updateInstance } from "../store/instances.js";
import type { InstanceRow, Site, WarningKind, WarningRow } from "../store/rows.js";
import { closeOpenTicketFor } from "../store/tickets.js";
import {
  acquireLease,
  claimWarning,
  dueWarnings,
  enqueueWarning,
  firstExpiringFrom,
  instancesExpiringBetween,
  markFailed,
  markSent,
  nextPendingAt,
  releaseLease,
  supersede,
  warningsFor,
} from "../store/warnings.js";

export interface SweepSettings {
  /** Days before expiry to warn at (`KMS_WARN_DAYS`). */
  warnDays: readonly number[];
  /** Days before release to warn an expired instance at (`KMS_RELEASE_WARN_DAYS`). */
  releaseWarnDays: readonly number[];
  /** Where warnings go when an instance has no channel, or its channel refuses them. */
  alertChannel: string;
}

/** The sweep's settings from configuration. */
export function timerSettings(config: {
  KMS_WARN_DAYS: readonly number[];
  KMS_RELEASE_WARN_DAYS: readonly number[];
  KMS_ALERT_CHANNEL: string;
}): SweepSettings {
  return {
    warnDays: config.KMS_WARN_DAYS,
    releaseWarnDays: config.KMS_RELEASE_WARN_DAYS,
    alertChannel: config.KMS_ALERT_CHANNEL,
  };
}

/** What posting a message answered: the message's place, or why not (and when to retry). */
export type PostResult =
  | { ok: true; channel: string; ts: string }
  | { ok: false; error: string; retryAfterMs?: number };

/** The Slack side of the timer, as a port so the sweep can be run and tested without Slack. */
export interface Poster {
  /** Posts a warning message, tagged with the warning's id so it can be found again. */
  post(
    channel: string,
    message: { text: string; blocks: KnownBlock[] },
    warningId: number,
  ): Promise<PostResult>;
  join(channel: string): Promise<PostResult | { ok: true }>;
  /** Looks for a message tagged with `warningId` posted in `channel` since `sinceMs`. */
  find(
    channel: string,
    warningId: number,
    sinceMs: number,
  ): Promise<{ channel: string; ts: string } | undefined>;
}

export interface SweepOptions {
  /** Print what would happen, change nothing, post nothing. */
  dryRun?: boolean;
  /** Identity for the lease and claims (default: host and pid). */
  holder?: string;
  /** Waits between posts to one channel (Slack allows about one message per second each). */
  sleep?: (ms: number) => Promise<void>;
  /** Wall clock for leases, claims and pacing (never the rehearsal clock). */
  wallClock?: () => number;
  /** Most warnings posted in one sweep; the rest wait for the next. */
  maxPosts?: number;
}

export interface SweepSummary {
  at: number;
  /** Set when another sweeper held the lease and this one did nothing. */
  skipped?: "locked";
  checked: number;
  transitioned: number;
  renewed: number;
  posted: number;
  failed: number;
  nextDueAt?: number;
  /** Every transition, renewal and post made (or, in a dry run, that would be made). */
  actions: string[];
}

/** The sweep lease lasts 2 minutes and is renewed while a long delivery runs, so a killed sweeper blocks the next one briefly. */
const LEASE_MS = 2 * 60_000;
const LEASE_RENEW_MS = 30_000;
const CLAIM_MS = 2 * 60_000;
const PACE_MS = 1_100;
/** Warnings created per transaction in one sweep. */
const ENQUEUE_CHUNK = 200;
/** Channel errors after which a warning goes to the alert channel instead. */
const CHANNEL_PROBLEMS = new Set([
  "not_in_channel",
  "channel_not_found",
  "is_archived",
  "method_not_supported_for_channel_type",
  "restricted_action",
  "cannot_dm_bot",
]);

/** Which warning wins when an instance has several due: the most urgent. Receipts never compete. */
const URGENCY: Partial<Record<WarningKind, number>> = {
  reminder: 1,
  pre_expiry: 2,
  expired: 3,
  pre_release: 4,
  released: 5,
};

/** The most urgent threshold that has been reached: the smallest T with `at - T days <= now`. */
export function reachedThreshold(
  thresholds: readonly number[],
  at: number,
  now: number,
): number | undefined {
  const reached = thresholds.filter((t) => at - t * DAY_MS <= now);
  return reached.length > 0 ? Math.min(...reached) : undefined;
}

/** Auto-renewal is tried 3 days and 1 day before expiry, and at expiry. */
export const AUTORENEW_SLOTS = [3, 1, 0] as const;

function describeTime(at: number): string {
  return new Date(at).toISOString().replace(".000Z", "Z");
}

/**
 * One run of the expiry timer as of `ctx.clock()`: auto-renewals that are due, lifecycle
 * transitions (expired, released) with their audit entries and notices, pre-expiry and
 * pre-release warnings, then delivery of every due warning. Safe to run from several
 * processes at once: a lease keeps two sweeps from overlapping, unique warning keys keep a
 * warning from being created twice, and a claim keeps it from being posted twice.
 */
export async function sweep(
  ctx: BillingContext,
  settings: SweepSettings,
  poster: Poster | null,
  options: SweepOptions = {},
): Promise<SweepSummary> {
  const now = ctx.clock();
  const wall = options.wallClock ?? Date.now;
  const holder =
    options.holder ?? `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  const dry = options.dryRun === true;
  const summary: SweepSummary = {
    at: now,
    checked: 0,
    transitioned: 0,
    renewed: 0,
    posted: 0,
    failed: 0,
    actions: [],
  };
  if (!dry) {
    const got = await transaction(ctx.db, (tx) =>
      acquireLease({ tx }, "sweep", holder, wall(), wall() + LEASE_MS),
    );
    if (!got) return { ...summary, skipped: "locked" };
  }
  try {
    const horizon = Math.max(...settings.warnDays, ...AUTORENEW_SLOTS) * DAY_MS;
    // Every instance the timer may act on: expiring soon, expired and not yet released.
    let candidates = await instancesExpiringBetween(
      { tx: ctx.db },
      Number.MIN_SAFE_INTEGER,
      now + horizon + 1,
    );
    summary.checked = candidates.length;
    const planned: Array<{
      instance: InstanceRow;
      kind: WarningKind;
      slot: number;
      dueAt: number;
    }> = [];

    await autoRenew(ctx, candidates, summary, dry);
    if (!dry && summary.renewed > 0) {
      candidates = await instancesExpiringBetween(
        { tx: ctx.db },
        Number.MIN_SAFE_INTEGER,
        now + horizon + 1,
      );
    }
    const existing = await warningsFor({ tx: ctx.db }, candidates);
    // The warnings of each instance's current period, looked up by key (not scanned).
    const ofPeriod = groupByPeriod(existing);
    const periodOf = (i: InstanceRow) => ofPeriod.get(periodKey(i.id, i.expires_at)) ?? [];
    const has = (i: InstanceRow, kind: WarningKind, maxSlot = Number.MAX_SAFE_INTEGER) =>
      periodOf(i).some((w) => w.kind === kind && w.slot <= maxSlot);

    for (const instance of candidates) {
      const releaseAt = releaseAtOf(instance.expires_at);
      if (now >= releaseAt) {
        await transition(ctx, instance, "released", summary, dry, periodOf(instance));
        continue;
      }
      if (now >= instance.expires_at) {
        const t = reachedThreshold(settings.releaseWarnDays, releaseAt, now);
        if (!has(instance, "expired")) {
          // After downtime, a due pre-release warning says everything the expiry notice would.
          await transition(
            ctx,
            instance,
            t !== undefined ? null : "expired",
            summary,
            dry,
            periodOf(instance),
          );
        }
        if (t !== undefined && !has(instance, "pre_release", t)) {
          planned.push({ instance, kind: "pre_release", slot: t, dueAt: now });
        }
        continue;
      }
      if (instance.wont_renew_expires_at === instance.expires_at) continue;
      if (instance.snoozed_until !== null && instance.snoozed_until > now) continue;
      const t = reachedThreshold(settings.warnDays, instance.expires_at, now);
      const snoozedUntil = instance.snoozed_until;
      if (t !== undefined && !has(instance, "pre_expiry", t)) {
        planned.push({ instance, kind: "pre_expiry", slot: t, dueAt: now });
      } else if (snoozedUntil !== null) {
        // The snooze is over: remind once, unless a warning went out since it ended.
        const warnedSince = periodOf(instance).some(
          (w) => (w.kind === "pre_expiry" || w.kind === "reminder") && w.created_at >= snoozedUntil,
        );
        if (!warnedSince)
          planned.push({ instance, kind: "reminder", slot: snoozedUntil, dueAt: now });
      }
    }

    if (dry) {
      for (const p of planned) {
        const slot = p.kind === "reminder" ? "snoozed" : `${p.slot} day(s)`;
        summary.actions.push(`would warn ${p.instance.id}: ${p.kind.replace("_", "-")} (${slot})`);
      }
    } else {
      // Many warnings per transaction: one transaction each would dominate a large sweep.
      for (let c = 0; c < planned.length; c += ENQUEUE_CHUNK) {
        await transaction(ctx.db, async (tx) => {
          for (const p of planned.slice(c, c + ENQUEUE_CHUNK)) {
            const created = await enqueueWarning(
              { tx },
              {
                instance_id: p.instance.id,
                kind: p.kind,
                slot: p.slot,
                expires_at: p.instance.expires_at,
                due_at: p.dueAt,
                created_at: now,
              },
            );
            if (!created) continue;
            // The new warning replaces any less urgent one still waiting for this period.
            const rank = URGENCY[p.kind] ?? 0;
            const stale = periodOf(p.instance).filter(
              (w) =>
                w.status === "pending" &&
                (URGENCY[w.kind] ?? 99) <= rank &&
                !(w.kind === p.kind && w.slot === p.slot),
            );
            await supersede(
              { tx },
              stale.map((w) => w.id),
            );
          }
        });
      }
    }

    await deliver(ctx, settings, poster, summary, { ...options, holder, dry, wall });
    summary.nextDueAt = await nextDue(ctx, settings, now, horizon, candidates);
    return summary;
  } finally {
    if (!dry) await transaction(ctx.db, (tx) => releaseLease({ tx }, "sweep", holder));
  }
}

/** Tries due auto-renewals: at most one charge per period (idempotency key), one attempt per slot. */
async function autoRenew(
  ctx: BillingContext,
  candidates: InstanceRow[],
  summary: SweepSummary,
  dry: boolean,
): Promise<void> {
  const now = ctx.clock();
  const due = candidates.filter((i) => i.auto_renew_months !== null && i.released_at === null);
  const existing = groupByPeriod(await warningsFor({ tx: ctx.db }, due));
  for (const instance of due) {
    if (lifecycleOf(instance, now).state === "released") continue;
    const slot = reachedThreshold(AUTORENEW_SLOTS, instance.expires_at, now);
    if (slot === undefined) continue;
    const tried = (existing.get(periodKey(instance.id, instance.expires_at)) ?? []).some(
      (w) => w.kind.startsWith("autorenew") && w.slot <= slot,
    );
    if (tried) continue;
    const months = instance.auto_renew_months ?? 1;
    if (dry) {
      summary.actions.push(`would auto-renew ${instance.id} for ${periodLabel(months)}`);
      continue;
    }
    const key = {
      instance_id: instance.id,
      slot,
      expires_at: instance.expires_at,
      due_at: now,
      created_at: now,
    };
    try {
      const r = await renew(ctx, timerActor, {
        instanceId: instance.id,
        months,
        // One key per attempt; one charge per period comes from expectedExpiresAt (checked
        // under the instance lock), so an attempt after a refund can charge again.
        idempotencyKey: `autorenew:${instance.id}:${instance.expires_at}:${slot}`,
        expectedExpiresAt: instance.expires_at,
      });
      await enqueueWarning(
        { tx: ctx.db },
        {
          ...key,
          kind: "autorenew_ok",
          detail: {
            months,
            orderId: r.order.id,
            amountCents: r.order.amount_cents,
            newExpiresAt: r.instance.expires_at,
            balanceAfterCents: r.balanceAfterCents,
          },
        },
      );
      if (!r.replayed) summary.renewed++;
      summary.actions.push(`auto-renewed ${instance.id} for ${periodLabel(months)}`);
    } catch (error) {
      if (!isBillingError(error)) throw error;
      // Someone renewed it since this sweep read it: that period needs no auto-renewal.
      if (error.code === "PERIOD_CHANGED") continue;
      const f = error.failure;
      const detail =
        f.code === "INSUFFICIENT_BALANCE"
          ? { months, shortfallCents: f.shortfallCents, priceCents: f.priceCents }
          : { months, problem: error.message };
      await enqueueWarning({ tx: ctx.db }, { ...key, kind: "autorenew_failed", detail });
      summary.actions.push(`auto-renewal of ${instance.id} failed: ${error.code}`);
    }
  }
}

/**
 * Records that an instance expired or was released, once: the audit entry, the release
 * stamp and the notice share one transaction, and the notice's unique key makes a second
 * sweeper's attempt a no-op. `kind` null records the expiry without its own notice.
 */
async function transition(
  ctx: BillingContext,
  instance: InstanceRow,
  kind: "expired" | "released" | null,
  summary: SweepSummary,
  dry: boolean,
  periodWarnings: WarningRow[],
): Promise<void> {
  const now = ctx.clock();
  const to = kind === "released" ? "released" : "disabled (expired)";
  if (dry) {
    summary.actions.push(`would mark ${instance.id} ${to}`);
    return;
  }
  const done = await transaction(ctx.db, async (tx) => {
    const current = await getInstance({ tx }, instance.id);
    if (!current || current.expires_at !== instance.expires_at || current.released_at !== null)
      return false;
    // Recorded without a notice of its own (kind null): the pre-release warning planned next says it.
    const created = await enqueueWarning(
      { tx },
      {
        instance_id: instance.id,
        kind: kind ?? "expired",
        slot: 0,
        expires_at: instance.expires_at,
        due_at: now,
        created_at: now,
        status: kind === null ? "superseded" : "pending",
      },
    );
    if (!created) return false;
    if (kind === "released") {
      await updateInstance({ tx }, instance.id, {
        released_at: releaseAtOf(instance.expires_at),
        updated_at: now,
      });
      // A ticket still open for it has nothing left to decide.
      await closeOpenTicketFor({ tx }, instance.id, {
        by: "timer",
        at: now,
        note: "Released 15 days after expiry before a decision; nothing left to refund.",
      });
    }
    await audit(
      ctx,
      tx,
      timerActor,
      kind === "released" ? "instance.released" : "instance.expired",
      instance.id,
      {
        expiresAt: instance.expires_at,
      },
    );
    // Anything still waiting about this period is now out of date.
    const stale = periodWarnings.filter(
      (w) => w.status === "pending" && (URGENCY[w.kind] ?? 99) < (URGENCY[kind ?? "expired"] ?? 0),
    );
    await supersede(
      { tx },
      stale.map((w) => w.id),
    );
    return true;
  });
  if (done) {
    summary.transitioned++;
    summary.actions.push(`marked ${instance.id} ${to}`);
  }
}

interface DeliverOptions extends SweepOptions {
  holder: string;
  dry: boolean;
  wall: () => number;
}

/**
 * A lifecycle warning about a period that a renewal has replaced, or a pre-expiry reminder
 * that a snooze or "won't renew" now holds back. Receipts of auto-renewals always go out.
 */
function outdated(w: WarningRow, instance: InstanceRow, now: number): boolean {
  if (w.kind === "autorenew_ok" || w.kind === "autorenew_failed") return false;
  if (instance.expires_at !== w.expires_at) return true;
  if (w.kind !== "pre_expiry" && w.kind !== "reminder") return false;
  return (
    instance.wont_renew_expires_at === w.expires_at ||
    (instance.snoozed_until !== null && instance.snoozed_until > now)
  );
}

/** What a warning message shows, read fresh from the database as of now. */
export async function warningFacts(
  ctx: BillingContext,
  warning: WarningRow,
  known?: Figures,
): Promise<WarningFacts | undefined> {
  const instance = await getInstance({ tx: ctx.db }, warning.instance_id);
  if (!instance) return undefined;
  const figures = known ?? (await currentFigures(ctx));
  return {
    warning,
    instance,
    lifecycle: lifecycleOf(instance, ctx.clock()),
    monthCents: figures.monthCents[instance.site],
    balanceCents: figures.balanceCents,
  };
}

/** The figures every warning shows: the balance and each site's monthly price now. */
interface Figures {
  balanceCents: number;
  monthCents: Record<Site, number>;
}

async function currentFigures(ctx: BillingContext): Promise<Figures> {
  const [balanceCents, prices] = await Promise.all([balance(ctx), currentPrices(ctx)]);
  return {
    balanceCents,
    monthCents: { international: prices.international.unit_cents, china: prices.china.unit_cents },
  };
}

/** The end of a snooze: 1 or 3 days from now, or the next warning threshold (at the latest, expiry). */
export function snoozeUntil(
  choice: "1d" | "3d" | "next",
  expiresAt: number,
  now: number,
  warnDays: readonly number[],
): number {
  if (choice === "1d") return Math.min(now + DAY_MS, expiresAt);
  if (choice === "3d") return Math.min(now + 3 * DAY_MS, expiresAt);
  const next = warnDays.map((t) => expiresAt - t * DAY_MS).filter((at) => at > now);
  return next.length > 0 ? Math.min(...next) : expiresAt;
}

/** Posts every due warning, the most urgent per instance, paced per channel, retrying failures later. */
async function deliver(
  ctx: BillingContext,
  settings: SweepSettings,
  poster: Poster | null,
  summary: SweepSummary,
  options: DeliverOptions,
): Promise<void> {
  const now = ctx.clock();
  const due = await dueWarnings({ tx: ctx.db }, now, options.maxPosts ?? 500);
  // Keep, per instance and period, only the most urgent due warning; receipts always go.
  const best = new Map<string, WarningRow>();
  const outranked: number[] = [];
  for (const w of due) {
    if (URGENCY[w.kind] === undefined) continue;
    const k = `${w.instance_id}:${w.expires_at}`;
    const seen = best.get(k);
    if (!seen) best.set(k, w);
    else if ((URGENCY[w.kind] ?? 0) > (URGENCY[seen.kind] ?? 0)) {
      outranked.push(seen.id);
      best.set(k, w);
    } else outranked.push(w.id);
  }
  const skip = new Set(outranked);
  const toPost = due.filter((w) => !skip.has(w.id));
  if (options.dry) {
    for (const w of toPost)
      summary.actions.push(`would post ${w.kind.replace("_", "-")} for ${w.instance_id}`);
    return;
  }
  await transaction(ctx.db, (tx) => supersede({ tx }, outranked));
  if (!poster) throw new Error("the sweep needs Slack to post warnings (or run it with --dry-run)");
  const lastPost = new Map<string, number>();
  const sleep = options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const figures = await currentFigures(ctx);
  const pace = async (channel: string) => {
    const wait = (lastPost.get(channel) ?? 0) + PACE_MS - options.wall();
    if (wait > 0) await sleep(wait);
    lastPost.set(channel, options.wall());
  };
  let leaseRenewedAt = options.wall();
  for (const w of toPost) {
    if (options.wall() - leaseRenewedAt > LEASE_RENEW_MS) {
      const kept = await transaction(ctx.db, (tx) =>
        acquireLease({ tx }, "sweep", options.holder, options.wall(), options.wall() + LEASE_MS),
      );
      if (!kept) {
        summary.actions.push("lost the sweep lease; the next sweep delivers the rest");
        break;
      }
      leaseRenewedAt = options.wall();
    }
    const claim = await transaction(ctx.db, (tx) =>
      claimWarning({ tx }, w.id, options.holder, options.wall(), options.wall() + CLAIM_MS),
    );
    if (!claim.claimed) continue;
    const facts = await warningFacts(ctx, w, figures);
    if (!facts) continue;
    if (outdated(w, facts.instance, now)) {
      // Waiting for a retry, it has been overtaken: renewed, snoozed, or "won't renew".
      await transaction(ctx.db, (tx) => supersede({ tx }, [w.id]));
      continue;
    }
    const channel = facts.instance.channel ?? settings.alertChannel;
    const label = `${w.kind.replace("_", "-")} for ${w.instance_id}`;
    if (claim.uncertainSince !== undefined) {
      // A sweeper died while posting this: if Slack has the message, record it instead of posting twice.
      const since = claim.uncertainSince - 60_000;
      const found =
        (await poster.find(channel, w.id, since)) ??
        (channel === settings.alertChannel
          ? undefined
          : await poster.find(settings.alertChannel, w.id, since));
      if (found) {
        await transaction(ctx.db, (tx) => markSent({ tx }, w.id, now, found.channel, found.ts));
        summary.actions.push(`found ${label} already posted in ${found.channel}`);
        continue;
      }
    }
    await pace(channel);
    let result = await poster.post(channel, warningMessage(facts), w.id);
    if (!result.ok && result.error === "not_in_channel") {
      const joined = await poster.join(channel);
      if (joined.ok) result = await poster.post(channel, warningMessage(facts), w.id);
    }
    if (!result.ok && CHANNEL_PROBLEMS.has(result.error) && channel !== settings.alertChannel) {
      await pace(settings.alertChannel);
      result = await poster.post(
        settings.alertChannel,
        warningMessage({ ...facts, couldNotPostIn: channel }),
        w.id,
      );
    }
    if (result.ok) {
      const sent = result;
      await transaction(ctx.db, (tx) => markSent({ tx }, w.id, now, sent.channel, sent.ts));
      summary.posted++;
      summary.actions.push(`posted ${label} in ${sent.channel}`);
    } else {
      const backoff = Math.min(60, 2 ** w.attempts) * 60_000;
      const retryAt = now + Math.max(backoff, result.retryAfterMs ?? 0);
      const error = result.error;
      await transaction(ctx.db, (tx) => markFailed({ tx }, w.id, error, retryAt));
      summary.failed++;
      summary.actions.push(
        `could not post ${label}: ${error}; retry after ${describeTime(retryAt)}`,
      );
    }
  }
}

/** When the timer next has something to do: a threshold, an expiry, a release or a retry. */
async function nextDue(
  ctx: BillingContext,
  settings: SweepSettings,
  now: number,
  horizon: number,
  candidates: InstanceRow[],
): Promise<number | undefined> {
  const times: number[] = [];
  const pending = await nextPendingAt({ tx: ctx.db });
  if (pending !== undefined) times.push(Math.max(pending, now));
  const thresholds = [...settings.warnDays, ...AUTORENEW_SLOTS];
  for (const i of candidates) {
    const points = [
      ...thresholds.map((t) => i.expires_at - t * DAY_MS),
      ...settings.releaseWarnDays.map((t) => releaseAtOf(i.expires_at) - t * DAY_MS),
      releaseAtOf(i.expires_at),
    ].filter((t) => t > now);
    if (points.length > 0) times.push(Math.min(...points));
  }
  const later = await firstExpiringFrom({ tx: ctx.db }, now + horizon + 1);
  if (later !== undefined) times.push(later - Math.max(...thresholds) * DAY_MS);
  return times.length > 0 ? Math.min(...times) : undefined;
}

function periodKey(instanceId: string, expiresAt: number): string {
  return `${instanceId}:${expiresAt}`;
}

function groupByPeriod(warnings: WarningRow[]): Map<string, WarningRow[]> {
  const groups = new Map<string, WarningRow[]>();
  for (const w of warnings) {
    const key = periodKey(w.instance_id, w.expires_at);
    const group = groups.get(key);
    if (group) group.push(w);
    else groups.set(key, [w]);
  }
  return groups;
}

/** The one-line summary printed after each sweep. */
export function summaryLine(s: SweepSummary): string {
  const at = describeTime(s.at);
  if (s.skipped) return `sweep ${at}: skipped, another sweeper holds the lease`;
  const next = s.nextDueAt === undefined ? "nothing scheduled" : describeTime(s.nextDueAt);
  return `sweep ${at}: checked ${s.checked}, transitioned ${s.transitioned}, renewed ${s.renewed}, posted ${s.posted}, failed ${s.failed}, next due ${next}`;
}
