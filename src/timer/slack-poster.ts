import { WebClient } from "@slack/web-api";
import type { Poster, PostResult } from "./sweep.js";

/**
 * Posts timer messages through the Slack Web API. The client does not retry on its own:
 * a failure (5xx, 429, network) leaves the warning pending and a later sweep retries it
 * after a backoff, honouring Retry-After.
 */
/** Message metadata type that tags timer warnings (with their id) in Slack. */
export const WARNING_EVENT = "kms_warning";

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
