import type { BillingContext } from "../billing/context.js";
import { type ExpirySettings, mostUrgentDue, outdated } from "../billing/expiry.js";
import type { WarningRow } from "../billing/outbox.js";
import {
  type BalanceReader,
  claimForPosting,
  currentFigures,
  dueOutbox,
  type Figures,
  markPosted,
  markPostFailed,
  supersedeWarnings,
  takeSweepLease,
  type WarningFacts,
  warningFacts,
} from "../billing/outbox.js";
import { warningMessage } from "../slack/features/warnings/blocks.js";
import { CHANNEL_PROBLEMS, type Poster, type PostResult } from "./poster.js";

/** The sweep lease lasts 2 minutes and is renewed while a long delivery runs. */
export const LEASE_MS = 2 * 60_000;
const LEASE_RENEW_MS = 30_000;
const CLAIM_MS = 2 * 60_000;
/** Slack allows about one message per second per channel. */
const PACE_MS = 1_100;

export interface Delivery {
  ctx: BillingContext;
  settings: ExpirySettings;
  poster: Poster;
  /** Identity for the lease and claims. */
  holder: string;
  /** Wall clock for leases, claims and pacing (never the rehearsal clock). */
  wall: () => number;
  sleep: (ms: number) => Promise<void>;
  /** What was done, one line each. */
  log: (line: string) => void;
  /** The balance warnings show (default the local ledger's; the account's in alibaba mode). */
  readBalance?: BalanceReader;
}

export interface DeliveryCounts {
  posted: number;
  failed: number;
}

export function describeTime(at: number): string {
  return new Date(at).toISOString().replace(".000Z", "Z");
}

export function describeWarning(w: Pick<WarningRow, "kind" | "instance_id">): string {
  return `${w.kind.replace("_", "-")} for ${w.instance_id}`;
}

/** The due warnings a sweep would post: the most urgent per instance and period, and receipts. */
export async function dueToPost(ctx: BillingContext, maxPosts: number) {
  return mostUrgentDue(await dueOutbox(ctx, maxPosts));
}

/**
 * Posts every due warning, the most urgent per instance, paced per channel, retrying
 * failures later. The lease is renewed as it goes; losing it stops the delivery.
 */
export async function deliver(d: Delivery, maxPosts: number): Promise<DeliveryCounts> {
  const counts = { posted: 0, failed: 0 };
  const { toPost, outranked } = await dueToPost(d.ctx, maxPosts);
  await supersedeWarnings(d.ctx, outranked);
  const figures = await currentFigures(d.ctx, d.readBalance);
  const pace = pacer(d);
  let leaseRenewedAt = d.wall();
  for (const w of toPost) {
    if (d.wall() - leaseRenewedAt > LEASE_RENEW_MS) {
      if (!(await takeSweepLease(d.ctx, d.holder, d.wall(), d.wall() + LEASE_MS))) {
        d.log("lost the sweep lease; the next sweep delivers the rest");
        break;
      }
      leaseRenewedAt = d.wall();
    }
    const outcome = await deliverOne(d, w, figures, pace);
    if (outcome === "posted") counts.posted++;
    if (outcome === "failed") counts.failed++;
  }
  return counts;
}

function pacer(d: Delivery): (channel: string) => Promise<void> {
  const lastPost = new Map<string, number>();
  return async (channel) => {
    const wait = (lastPost.get(channel) ?? 0) + PACE_MS - d.wall();
    if (wait > 0) await d.sleep(wait);
    lastPost.set(channel, d.wall());
  };
}

async function deliverOne(
  d: Delivery,
  w: WarningRow,
  figures: Figures,
  pace: (channel: string) => Promise<void>,
): Promise<"posted" | "failed" | "skipped"> {
  const claim = await claimForPosting(d.ctx, w, d.holder, d.wall(), d.wall() + CLAIM_MS);
  if (!claim.claimed) return "skipped";
  const facts = await warningFacts(d.ctx, w, figures);
  if (!facts) return "skipped";
  if (outdated(w, facts.instance, d.ctx.clock())) {
    // Waiting for a retry, it has been overtaken: renewed, released, snoozed, or "won't renew".
    await supersedeWarnings(d.ctx, [w.id]);
    return "skipped";
  }
  const channel = facts.instance.channel ?? d.settings.alertChannel;
  if (claim.uncertainSince !== undefined) {
    const found = await findPosted(d, w.id, channel, claim.uncertainSince - 60_000);
    if (found) {
      await markPosted(d.ctx, w.id, found.channel, found.ts);
      d.log(`found ${describeWarning(w)} already posted in ${found.channel}`);
      return "skipped";
    }
  }
  const result = await postWithFallback(d, facts, channel, pace);
  if (result.ok) {
    await markPosted(d.ctx, w.id, result.channel, result.ts);
    d.log(`posted ${describeWarning(w)} in ${result.channel}`);
    return "posted";
  }
  const backoff = Math.min(60, 2 ** w.attempts) * 60_000;
  const retryAt = d.ctx.clock() + Math.max(backoff, result.retryAfterMs ?? 0);
  await markPostFailed(d.ctx, w.id, result.error, retryAt);
  d.log(
    `could not post ${describeWarning(w)}: ${result.error}; retry after ${describeTime(retryAt)}`,
  );
  return "failed";
}

/** A sweeper died while posting this: if Slack has the message, it is not posted twice. */
async function findPosted(d: Delivery, warningId: number, channel: string, since: number) {
  const alert = d.settings.alertChannel;
  return (
    (await d.poster.find(channel, warningId, since)) ??
    (channel === alert ? undefined : await d.poster.find(alert, warningId, since))
  );
}

/** Posts in the instance's channel (joining it if needed), else in the alert channel. */
async function postWithFallback(
  d: Delivery,
  facts: WarningFacts,
  channel: string,
  pace: (channel: string) => Promise<void>,
): Promise<PostResult> {
  const id = facts.warning.id;
  await pace(channel);
  let result = await d.poster.post(channel, warningMessage(facts), id);
  if (!result.ok && result.error === "not_in_channel") {
    const joined = await d.poster.join(channel);
    if (joined.ok) result = await d.poster.post(channel, warningMessage(facts), id);
  }
  const alert = d.settings.alertChannel;
  if (!result.ok && CHANNEL_PROBLEMS.has(result.error) && channel !== alert) {
    await pace(alert);
    result = await d.poster.post(alert, warningMessage({ ...facts, couldNotPostIn: channel }), id);
  }
  return result;
}
