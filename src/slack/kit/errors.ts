import type { Logger } from "@slack/bolt";
import { BillingError, isBillingError } from "../../billing/errors.js";

/** A refusal the Slack edge words itself (an expired trigger, a malformed button). */
export class SlackRefusal extends Error {}

/**
 * What a person reads when their request failed: the billing core's own words for a
 * refusal, or a plain apology (and a log line) for anything unexpected. Money operations are
 * single transactions, so an unexpected failure changed nothing.
 */
export function userMessage(error: unknown, logger: Logger): string {
  if (isBillingError(error)) return `:no_entry: ${error.message}`;
  if (error instanceof SlackRefusal) return error.message;
  logger.error("kms-bot: unexpected failure", error);
  return ":boom: Something went wrong on our side and nothing was changed. Please try again in a moment.";
}

/** The Slack Web API error code of a failed call (`not_in_channel`, `expired_trigger_id`, ...). */
export function slackErrorCode(error: unknown): string | undefined {
  const data = (error as { data?: { error?: unknown } })?.data;
  return typeof data?.error === "string" ? data.error : undefined;
}

/** A button whose value is not one kms-bot could have made (forged or corrupted). */
export function malformedButton(button: string): BillingError {
  return new BillingError({
    code: "INVALID_INPUT",
    field: "button",
    problem: `this ${button} button is malformed; nothing was done.`,
  });
}
