import type { KnownBlock } from "@slack/types";
import { WebClient } from "@slack/web-api";
import { ticketLabel } from "../billing/errors.js";
import type { TicketRow } from "../billing/outbox.js";
import { supportMessage } from "../slack/features/tickets/blocks.js";

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
  /** A direct message to a person (the outcome of their renewal); failures are ignored. */
  dm?(userId: string, text: string): Promise<void>;
  /** Tells the support channel's post and the requester that a release closed their ticket. */
  ticketClosed?(ticket: TicketRow): Promise<void>;
}

/** Channel errors after which a warning goes to the alert channel instead. */
export const CHANNEL_PROBLEMS: ReadonlySet<string> = new Set([
  "not_in_channel",
  "channel_not_found",
  "is_archived",
  "method_not_supported_for_channel_type",
  "restricted_action",
  "cannot_dm_bot",
]);

/** Message metadata type that tags timer warnings (with their id) in Slack. */
export const WARNING_EVENT = "kms_warning";

/**
 * Posts timer messages through the Slack Web API. The client does not retry on its own:
 * a failure (5xx, 429, network) leaves the warning pending and a later sweep retries it
 * after a backoff, honouring Retry-After.
 */
export function slackPoster(token: string, slackApiUrl: string): Poster {
  const client = new WebClient(token, {
    slackApiUrl,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: 10_000,
  });
  return {
    async post(channel, message, warningId) {
      try {
        const r = await client.chat.postMessage({
          channel,
          text: message.text,
          blocks: message.blocks,
          unfurl_links: false,
          metadata: { event_type: WARNING_EVENT, event_payload: { warning_id: String(warningId) } },
        });
        return { ok: true, channel: r.channel ?? channel, ts: r.ts ?? "" };
      } catch (error) {
        return failure(error);
      }
    },
    async find(channel, warningId, sinceMs) {
      try {
        const r = await client.conversations.history({
          channel,
          oldest: String(Math.floor(sinceMs / 1000)),
          include_all_metadata: true,
          limit: 200,
        });
        const hit = r.messages?.find(
          (m) =>
            m.metadata?.event_type === WARNING_EVENT &&
            (m.metadata.event_payload as Record<string, unknown> | undefined)?.warning_id ===
              String(warningId),
        );
        return hit?.ts ? { channel, ts: hit.ts } : undefined;
      } catch {
        // Without history access the outcome stays unknown: posting again is better than losing it.
        return undefined;
      }
    },
    async join(channel) {
      try {
        await client.conversations.join({ channel });
        return { ok: true };
      } catch (error) {
        return failure(error);
      }
    },
    async dm(userId, text) {
      await client.chat.postMessage({ channel: userId, text }).catch(() => undefined);
    },
    async ticketClosed(ticket) {
      // Best effort, like the buttons' own updates: the ticket itself is already closed.
      if (ticket.support_channel && ticket.support_ts) {
        const message = supportMessage(ticket, undefined);
        await client.chat
          .update({ channel: ticket.support_channel, ts: ticket.support_ts, ...message })
          .catch(() => undefined);
      }
      await client.chat
        .postMessage({
          channel: ticket.requester,
          text: `:white_circle: ${ticketLabel(ticket.id)} is closed: the expiry timer released ${ticket.instance_id} 15 days after it expired, before a billing admin decided. Nothing was left to refund.`,
        })
        .catch(() => undefined);
    },
  };
}

/** A Web API failure as the sweep sees it: Slack's error code, or the HTTP / network problem. */
export function failure(error: unknown): PostResult & { ok: false } {
  const e = error as {
    code?: string;
    data?: { error?: string };
    retryAfter?: number;
    statusCode?: number;
    message?: string;
  };
  if (e.code === "slack_webapi_rate_limited_error") {
    return { ok: false, error: "ratelimited", retryAfterMs: (e.retryAfter ?? 60) * 1000 };
  }
  if (e.data?.error) return { ok: false, error: e.data.error };
  if (e.statusCode) return { ok: false, error: `http_${e.statusCode}` };
  return { ok: false, error: e.message ?? String(error) };
}
