import { hostname } from "node:os";
import { autoRenew } from "../billing/autorenew.js";
import type { BillingContext } from "../billing/context.js";
import { isBillingError } from "../billing/errors.js";
import {
  type DueRenewal,
  dueAutoRenewals,
  type ExpirySettings,
  horizonMs,
  mayAutoRenew,
  nextThresholdAt,
  type PeriodWarnings,
  periodWarnings,
  planExpiry,
  type Transition,
} from "../billing/expiry.js";
import type { InstanceRow } from "../billing/outbox.js";
import {
  currentWarnings,
  enqueuePlanned,
  firstExpiryFrom,
  nextPendingWarningAt,
  pruneAnsweredEvents,
  recordAutoRenewal,
  recordTransition,
  releaseSweepLease,
  sweepCandidates,
  takeSweepLease,
} from "../billing/outbox.js";
import { periodLabel } from "../billing/periods.js";
import { type BillingProvider, localProvider } from "../billing/provider.js";
import { syncWithAccount } from "./account.js";
import { deliver, describeTime, describeWarning, dueToPost, LEASE_MS } from "./deliver.js";
import type { Poster } from "./poster.js";

export { timerSettings } from "../billing/expiry.js";
export type { Poster, PostResult } from "./poster.js";
export type SweepSettings = ExpirySettings;

export interface SweepOptions {
  /** Identity for the lease and claims (default: host and pid). */
  holder?: string;
  /** Waits between posts to one channel (Slack allows about one message per second each). */
  sleep?: (ms: number) => Promise<void>;
  /** Wall clock for leases, claims and pacing (never the rehearsal clock). */
  wallClock?: () => number;
  /** Most warnings posted in one sweep; the rest wait for the next. */
  maxPosts?: number;
  /**
   * Where money and the fleet live (default the local ledger). With the Alibaba Cloud account
   * the sweep first retries submitted orders and syncs the fleet, and charges no auto-renewals.
   */
  provider?: BillingProvider;
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
  /** Every transition, renewal and post made (or, in a rehearsal, that would be made). */
  actions: string[];
}

function emptySummary(at: number): SweepSummary {
  return { at, checked: 0, transitioned: 0, renewed: 0, posted: 0, failed: 0, actions: [] };
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
  poster: Poster,
  options: SweepOptions = {},
): Promise<SweepSummary> {
  const now = ctx.clock();
  const wall = options.wallClock ?? Date.now;
  const holder =
    options.holder ?? `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  const summary = emptySummary(now);
  if (!(await takeSweepLease(ctx, holder, wall(), wall() + LEASE_MS)))
    return { ...summary, skipped: "locked" };
  const provider = options.provider ?? localProvider;
  const log = (line: string) => summary.actions.push(line);
  try {
    await syncWithAccount(ctx, provider, poster, log);
    const until = now + horizonMs(settings) + 1;
    let candidates = await sweepCandidates(ctx, until);
    summary.checked = candidates.length;
    const renewals = provider.chargesAutoRenewals
      ? dueAutoRenewals(
          candidates,
          periodWarnings(await currentWarnings(ctx, candidates.filter(mayAutoRenew))),
          now,
        )
      : [];
    for (const due of renewals) await tryAutoRenewal(ctx, due, summary);
    if (summary.renewed > 0) candidates = await sweepCandidates(ctx, until);
    const warningsOf = periodWarnings(await currentWarnings(ctx, candidates));
    const plan = planExpiry(candidates, warningsOf, settings, now);
    for (const t of plan.transitions) await applyTransition(ctx, t, warningsOf, poster, summary);
    await enqueuePlanned(ctx, plan.warnings, warningsOf);
    const sleep = options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
    const counts = await deliver(
      { ctx, settings, poster, holder, wall, sleep, log, readBalance: provider.balance },
      options.maxPosts ?? 500,
    );
    summary.posted = counts.posted;
    summary.failed = counts.failed;
    summary.nextDueAt = await nextDue(ctx, settings, candidates);
    await pruneAnsweredEvents(ctx);
    return summary;
  } finally {
    await releaseSweepLease(ctx, holder);
  }
}

/**
 * A dry run as of `ctx.clock()`: what a sweep would renew, record and post, from the same
 * rules and the same reads, with nothing written, no lease taken and nothing posted.
 */
export async function rehearse(
  ctx: BillingContext,
  settings: SweepSettings,
  options: Pick<SweepOptions, "maxPosts" | "provider"> = {},
): Promise<SweepSummary> {
  const now = ctx.clock();
  const summary = emptySummary(now);
  const charges = (options.provider ?? localProvider).chargesAutoRenewals;
  const candidates = await sweepCandidates(ctx, now + horizonMs(settings) + 1);
  summary.checked = candidates.length;
  const warningsOf = periodWarnings(await currentWarnings(ctx, candidates));
  const say = (line: string) => summary.actions.push(line);
  for (const r of charges ? dueAutoRenewals(candidates, warningsOf, now) : [])
    say(`would auto-renew ${r.instance.id} for ${periodLabel(r.months)}`);
  const plan = planExpiry(candidates, warningsOf, settings, now);
  for (const t of plan.transitions) say(`would mark ${t.instance.id} ${describeTransition(t)}`);
  for (const p of plan.warnings) {
    const slot = p.kind === "reminder" ? "snoozed" : `${p.slot} day(s)`;
    say(`would warn ${p.instance.id}: ${p.kind.replace("_", "-")} (${slot})`);
  }
  const { toPost } = await dueToPost(ctx, options.maxPosts ?? 500);
  for (const w of toPost) say(`would post ${describeWarning(w)}`);
  summary.nextDueAt = await nextDue(ctx, settings, candidates);
  return summary;
}

/** Tries one due auto-renewal; a refusal becomes a notice (one per slot), tried again next sweep. */
async function tryAutoRenewal(
  ctx: BillingContext,
  due: DueRenewal,
  summary: SweepSummary,
): Promise<void> {
  const { instance, months, slot } = due;
  try {
    await autoRenew(ctx, due);
    summary.renewed++;
    summary.actions.push(`auto-renewed ${instance.id} for ${periodLabel(months)}`);
  } catch (error) {
    if (!isBillingError(error)) throw error;
    // Renewed since this sweep read it, or auto-renewal was stopped meanwhile: nothing to do.
    if (error.code === "PERIOD_CHANGED" || error.code === "AUTO_RENEWAL_STOPPED") return;
    const f = error.failure;
    const now = ctx.clock();
    await recordAutoRenewal(ctx, {
      instance_id: instance.id,
      kind: "autorenew_failed",
      slot,
      expires_at: instance.expires_at,
      due_at: now,
      created_at: now,
      detail:
        f.code === "INSUFFICIENT_BALANCE"
          ? { months, shortfallCents: f.shortfallCents, priceCents: f.priceCents }
          : { months, problem: error.message },
    });
    summary.actions.push(`auto-renewal of ${instance.id} failed: ${error.code}`);
  }
}

async function applyTransition(
  ctx: BillingContext,
  t: Transition,
  warningsOf: PeriodWarnings,
  poster: Poster,
  summary: SweepSummary,
): Promise<void> {
  const r = await recordTransition(ctx, t, warningsOf(t.instance));
  if (!r.done) return;
  summary.transitioned++;
  summary.actions.push(`marked ${t.instance.id} ${describeTransition(t)}`);
  if (r.closedTicket) await poster.ticketClosed?.(r.closedTicket);
}

export function describeTransition(t: Transition): string {
  return t.kind === "released" ? "released" : "disabled (expired)";
}

/** When the timer next has something to do: a threshold, an expiry, a release or a retry. */
export async function nextDue(
  ctx: BillingContext,
  settings: SweepSettings,
  candidates: InstanceRow[],
): Promise<number | undefined> {
  const now = ctx.clock();
  const times: number[] = [];
  const pending = await nextPendingWarningAt(ctx);
  if (pending !== undefined) times.push(Math.max(pending, now));
  const threshold = nextThresholdAt(candidates, settings, now);
  if (threshold !== undefined) times.push(threshold);
  const later = await firstExpiryFrom(ctx, now + horizonMs(settings) + 1);
  if (later !== undefined) times.push(later - horizonMs(settings));
  return times.length > 0 ? Math.min(...times) : undefined;
}

/** The one-line summary printed after each sweep. */
export function summaryLine(s: SweepSummary): string {
  const at = describeTime(s.at);
  if (s.skipped) return `sweep ${at}: skipped, another sweeper holds the lease`;
  const next = s.nextDueAt === undefined ? "nothing scheduled" : describeTime(s.nextDueAt);
  return `sweep ${at}: checked ${s.checked}, transitioned ${s.transitioned}, renewed ${s.renewed}, posted ${s.posted}, failed ${s.failed}, next due ${next}`;
}
