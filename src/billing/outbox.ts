import { singleStatement, transaction } from "../store/db.js";
import { pruneProcessedEvents } from "../store/faq.js";
import { getInstance, updateInstance } from "../store/instances.js";
import type { InstanceRow, Site, TicketRow, WarningRow } from "../store/rows.js";
import { closeOpenTicketFor } from "../store/tickets.js";
import {
  acquireLease,
  type Claim,
  claimAsSeen,
  claimWarning,
  dueWarnings,
  enqueueWarning,
  enqueueWarnings,
  firstExpiringFrom,
  instancesExpiringBetween,
  markFailed,
  markSent,
  type NewWarning,
  nextPendingAt,
  releaseLease,
  supersede,
  warningKey,
  warningsFor,
} from "../store/warnings.js";
import { balance } from "./account.js";
import { audit } from "./admins.js";
import { type BillingContext, timerActor } from "./context.js";
import { outranks, type PlannedWarning, type Transition } from "./expiry.js";
import { type Lifecycle, lifecycleOf, releaseAtOf } from "./lifecycle.js";
import { currentPrices } from "./prices.js";

export type { InstanceRow, TicketRow, WarningRow };

// The warnings outbox and the sweep lease as the timer uses them: each call one short
// transaction (or one read), so the timer never speaks to the store itself.

const SWEEP_LEASE = "sweep";
/** Warnings created per transaction (and statement): one each would dominate a large sweep. */
const ENQUEUE_CHUNK = 500;

/** Takes (or keeps) the sweep lease for `holder` until `until`; false while another holds it. */
export function takeSweepLease(
  ctx: BillingContext,
  holder: string,
  now: number,
  until: number,
): Promise<boolean> {
  return transaction(ctx.db, (tx) => acquireLease({ tx }, SWEEP_LEASE, holder, now, until));
}

export function releaseSweepLease(ctx: BillingContext, holder: string): Promise<void> {
  return transaction(ctx.db, (tx) => releaseLease({ tx }, SWEEP_LEASE, holder));
}

/** Every instance the timer may act on: expiring before `until`, or expired and not released. */
export function sweepCandidates(ctx: BillingContext, until: number): Promise<InstanceRow[]> {
  return instancesExpiringBetween({ tx: ctx.db }, Number.MIN_SAFE_INTEGER, until);
}

/** The warnings of these instances' current periods. */
export function currentWarnings(ctx: BillingContext, instances: InstanceRow[]) {
  return warningsFor({ tx: ctx.db }, instances);
}

/** Records an auto-renewal's receipt (or failure notice); one per period and slot. */
export function recordAutoRenewal(
  ctx: BillingContext,
  w: Omit<NewWarning, "kind"> & { kind: "autorenew_ok" | "autorenew_failed" },
): Promise<boolean> {
  return enqueueWarning({ tx: ctx.db }, w);
}

/**
 * Creates the planned warnings, many per transaction and statement; each new one replaces
 * any less urgent one still waiting about the same period.
 */
export async function enqueuePlanned(
  ctx: BillingContext,
  planned: PlannedWarning[],
  warningsOf: (i: InstanceRow) => WarningRow[],
): Promise<void> {
  const now = ctx.clock();
  for (let c = 0; c < planned.length; c += ENQUEUE_CHUNK) {
    const chunk = planned.slice(c, c + ENQUEUE_CHUNK).map((p) => ({
      planned: p,
      warning: {
        instance_id: p.instance.id,
        kind: p.kind,
        slot: p.slot,
        expires_at: p.instance.expires_at,
        due_at: now,
        created_at: now,
      },
    }));
    await transaction(ctx.db, async (tx) => {
      const created = await enqueueWarnings(
        { tx },
        chunk.map((x) => x.warning),
      );
      const stale = chunk
        .filter((x) => created.has(warningKey(x.warning)))
        .flatMap(({ planned: p }) =>
          warningsOf(p.instance).filter(
            (w) =>
              w.status === "pending" &&
              outranks(p.kind, w.kind) &&
              !(w.kind === p.kind && w.slot === p.slot),
          ),
        );
      await supersede(
        { tx },
        stale.map((w) => w.id),
      );
    });
  }
}

export interface TransitionResult {
  /** False when another sweeper recorded it first, or the instance changed meanwhile. */
  done: boolean;
  /** The ticket a release closed, for the requester and the support channel to hear of. */
  closedTicket?: TicketRow;
}

/**
 * Records that an instance expired or was released, once: the audit entry, the release
 * stamp and the notice share one transaction, and the notice's unique key makes a second
 * sweeper's attempt a no-op.
 */
export async function recordTransition(
  ctx: BillingContext,
  { instance, kind }: Transition,
  periodWarnings: WarningRow[],
): Promise<TransitionResult> {
  const now = ctx.clock();
  return transaction(ctx.db, async (tx) => {
    const current = await getInstance({ tx }, instance.id);
    if (!current || current.expires_at !== instance.expires_at || current.released_at !== null)
      return { done: false };
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
    if (!created) return { done: false };
    let closedTicket: TicketRow | undefined;
    if (kind === "released") {
      await updateInstance({ tx }, instance.id, {
        released_at: releaseAtOf(instance.expires_at),
        updated_at: now,
      });
      // A ticket still open for it has nothing left to decide.
      closedTicket = await closeOpenTicketFor({ tx }, instance.id, {
        by: "timer",
        at: now,
        note: "Released 15 days after expiry before a decision; nothing left to refund.",
      });
    }
    const action = kind === "released" ? "instance.released" : "instance.expired";
    await audit(ctx, tx, timerActor, action, instance.id, { expiresAt: instance.expires_at });
    // Anything still waiting about this period is now out of date.
    const stale = periodWarnings.filter(
      (w) => w.status === "pending" && outranks(kind ?? "expired", w.kind) && w.kind !== kind,
    );
    await supersede(
      { tx },
      stale.map((w) => w.id),
    );
    return { done: true, closedTicket };
  });
}

/** How long an answered Slack event is remembered (Slack retries within minutes). */
export const EVENT_MEMORY_MS = 24 * 3_600_000;

/** Forgets Slack events answered more than a day ago; returns how many. */
export function pruneAnsweredEvents(ctx: BillingContext): Promise<number> {
  return pruneProcessedEvents({ tx: ctx.db }, ctx.clock() - EVENT_MEMORY_MS);
}

/** Pending warnings whose time has come, oldest first, at most `limit`. */
export function dueOutbox(ctx: BillingContext, limit: number): Promise<WarningRow[]> {
  return dueWarnings({ tx: ctx.db }, ctx.clock(), limit);
}

export function supersedeWarnings(ctx: BillingContext, ids: number[]): Promise<void> {
  return transaction(ctx.db, (tx) => supersede({ tx }, ids));
}

/**
 * Claims a warning (as `dueOutbox` read it) for posting until `until`; says when an earlier
 * claim may have posted it. One statement when the warning is as it was read.
 */
export async function claimForPosting(
  ctx: BillingContext,
  seen: WarningRow,
  holder: string,
  now: number,
  until: number,
): Promise<Claim> {
  const claim = await singleStatement(ctx.db, (db) =>
    claimAsSeen({ tx: db }, seen, holder, now, until),
  );
  return claim ?? transaction(ctx.db, (tx) => claimWarning({ tx }, seen.id, holder, now, until));
}

/** Records that Slack holds the warning's message (one statement). */
export function markPosted(
  ctx: BillingContext,
  id: number,
  channel: string,
  ts: string,
): Promise<void> {
  return singleStatement(ctx.db, (db) => markSent({ tx: db }, id, ctx.clock(), channel, ts));
}

export function markPostFailed(
  ctx: BillingContext,
  id: number,
  error: string,
  retryAt: number,
): Promise<void> {
  return transaction(ctx.db, (tx) => markFailed({ tx }, id, error, retryAt));
}

/** The earliest moment a pending warning becomes due or retryable. */
export function nextPendingWarningAt(ctx: BillingContext): Promise<number | undefined> {
  return nextPendingAt({ tx: ctx.db });
}

/** The earliest expiry at or after `from` of an instance not released. */
export function firstExpiryFrom(ctx: BillingContext, from: number): Promise<number | undefined> {
  return firstExpiringFrom({ tx: ctx.db }, from);
}

/** What a warning message shows, read fresh as of now. */
export interface WarningFacts {
  warning: WarningRow;
  instance: InstanceRow;
  lifecycle: Lifecycle;
  /** Price of a 1-month renewal now. */
  monthCents: number;
  balanceCents: number;
}

/** The figures every warning shows: the balance and each site's monthly price now. */
export interface Figures {
  balanceCents: number;
  monthCents: Record<Site, number>;
}

/** How the balance is read: the local ledger, or the provider's (the Alibaba Cloud account). */
export type BalanceReader = (ctx: BillingContext) => Promise<number>;

export async function currentFigures(
  ctx: BillingContext,
  readBalance: BalanceReader = balance,
): Promise<Figures> {
  const [balanceCents, prices] = await Promise.all([readBalance(ctx), currentPrices(ctx)]);
  return {
    balanceCents,
    monthCents: { international: prices.international.unit_cents, china: prices.china.unit_cents },
  };
}

/** The facts a warning message shows, read fresh from the database as of now. */
export async function warningFacts(
  ctx: BillingContext,
  warning: WarningRow,
  known?: Figures | BalanceReader,
): Promise<WarningFacts | undefined> {
  const instance = await getInstance({ tx: ctx.db }, warning.instance_id);
  if (!instance) return undefined;
  const figures =
    known === undefined || typeof known === "function" ? await currentFigures(ctx, known) : known;
  return {
    warning,
    instance,
    lifecycle: lifecycleOf(instance, ctx.clock()),
    monthCents: figures.monthCents[instance.site],
    balanceCents: figures.balanceCents,
  };
}
