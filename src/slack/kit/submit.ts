import type { Logger } from "@slack/bolt";
import type { ModalView } from "@slack/types";
import type { WebClient } from "@slack/web-api";
import { LIMITS, plain, section } from "./blocks.js";
import type { SubmitArgs } from "./deps.js";
import { userMessage } from "./errors.js";
import { redrawModal, tellByDm } from "./slack.js";

/**
 * How long a submission's work may run before it is acknowledged anyway. Slack waits 3 s
 * for the answer to a view submission; a slow database must never leave it unanswered
 * while the work commits afterwards.
 */
export const SUBMIT_BUDGET_MS = 2_000;

/** What a submission's work decided. */
export type Outcome =
  /** Refused: shown on the fields (`block_id` -> words). */
  | { errors: Record<string, string> }
  /** Refused, with the modal drawn again (a new price to accept). */
  | { redraw: ModalView; problem: string }
  /** Done: the modal closes; `after` follows (a DM, App Home), `summary` for a late answer. */
  | { done: string; after?: () => Promise<void> };

function notice(title: string, text: string): ModalView {
  return {
    type: "modal",
    callback_id: "kms_notice",
    title: plain(title, LIMITS.viewTitle),
    close: plain("Close", LIMITS.viewTitle),
    blocks: [section(text)],
  };
}

function answerOf(outcome: Outcome): Parameters<SubmitArgs["ack"]>[0] {
  if ("errors" in outcome) return { response_action: "errors", errors: outcome.errors };
  if ("redraw" in outcome) return { response_action: "update", view: outcome.redraw };
  return undefined;
}

/**
 * Answers a view submission with `work`'s outcome when it is ready within the budget, as
 * Slack expects (field errors, a redrawn modal, or closing it). When it is not, the modal is
 * acknowledged at once with "working on it", and the outcome follows in the same modal
 * (views.update) or, if that modal is gone, by DM. Either way nothing commits unanswered.
 */
export async function answerSubmission(
  args: {
    ack: SubmitArgs["ack"];
    client: WebClient;
    logger: Logger;
    viewId: string;
    userId: string;
  },
  work: () => Promise<Outcome>,
  budgetMs = SUBMIT_BUDGET_MS,
): Promise<void> {
  const { ack, client, logger } = args;
  // An unexpected failure still gets an answer (money operations are single transactions:
  // it changed nothing).
  const running = work().catch((error): Outcome => {
    const words = userMessage(error, logger);
    return { redraw: notice("Not done", words), problem: words };
  });
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), budgetMs);
  });
  const first = await Promise.race([running, late]).finally(() => clearTimeout(timer));
  if (first !== "late") {
    await ack(answerOf(first));
    if ("done" in first) await first.after?.();
    return;
  }
  await ack({
    response_action: "update",
    view: notice("Working on it", ":hourglass: Working on it; the result will show here."),
  });
  const outcome = await running;
  let view: ModalView;
  let words: string;
  if ("errors" in outcome) {
    words = `:no_entry: Nothing was done: ${Object.values(outcome.errors).join(" ")}`;
    view = notice("Not done", words);
  } else if ("redraw" in outcome) {
    words = `:no_entry: Nothing was done: ${outcome.problem}`;
    view = outcome.redraw;
  } else {
    words = outcome.done;
    view = notice("Done", words);
  }
  const shown = await redrawModal(client, { id: args.viewId }, view, logger);
  if (!shown && !("done" in outcome)) await tellByDm(client, args.userId, words, logger);
  if ("done" in outcome) await outcome.after?.();
}
