import { performance } from "node:perf_hooks";
import type { Logger } from "./logger.js";
import type { Metrics } from "./metrics.js";
import type { Stage } from "./stages.js";

export interface RequestKind {
  /** command, action, view, options, event, or Slack's own type for anything else. */
  kind: string;
  /** The subcommand, action id, callback id or event type. */
  id: string;
}

/** What a request is, in words an operator greps for; never its free text. */
export function describeRequest(body: unknown): RequestKind {
  const b = body as Record<string, unknown>;
  if (typeof b.command === "string") {
    const verb =
      String(b.text ?? "")
        .trim()
        .split(/\s+/)[0]
        ?.toLowerCase() || "help";
    // Only a plain word: a typo or an amount must not turn into a log field of its own.
    return { kind: "command", id: `${b.command} ${/^[a-z-]{1,20}$/.test(verb) ? verb : "?"}` };
  }
  const actions = b.actions as Array<{ action_id?: unknown }> | undefined;
  const view = b.view as { callback_id?: unknown } | undefined;
  const event = b.event as { type?: unknown } | undefined;
  switch (b.type) {
    case "block_actions":
      return { kind: "action", id: String(actions?.[0]?.action_id ?? "?") };
    case "view_submission":
    case "view_closed":
      return { kind: "view", id: String(view?.callback_id ?? "?") };
    case "block_suggestion":
      return { kind: "options", id: String(b.action_id ?? "?") };
    case "event_callback":
      return { kind: "event", id: String(event?.type ?? "?") };
    default:
      return { kind: String(b.type ?? "unknown"), id: "-" };
  }
}

/**
 * First of the request stages: one log line per request (kind, id, outcome, milliseconds,
 * user) and the request metrics. The time covers the work after the ack.
 */
export function requestLog(logger: Logger, metrics: Metrics): Stage {
  return async ({ body }, next) => {
    const started = performance.now();
    const { kind, id } = describeRequest(body);
    const user =
      (body as { user_id?: unknown; user?: { id?: unknown } }).user_id ??
      (body as { user?: { id?: unknown } }).user?.id;
    let outcome: "ok" | "error" = "ok";
    try {
      await next();
    } catch (error) {
      outcome = "error";
      throw error;
    } finally {
      const ms = Math.round((performance.now() - started) * 10) / 10;
      metrics.request(kind, outcome, ms / 1000);
      const line = { kind, id, outcome, ms, user: typeof user === "string" ? user : undefined };
      if (outcome === "ok") logger.info(line, "request");
      else logger.warn(line, "request");
    }
  };
}
