// The id patterns kms-bot accepts, written once for the core and the Slack edge.

/** An instance id: letters, digits, dots, dashes, underscores; at most 64 characters. */
export const INSTANCE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** The body of a Slack user id (`U...` or `W...`), for patterns that embed it. */
export const SLACK_USER = "[UW][A-Z0-9]{2,29}";
export const SLACK_USER_ID = new RegExp(`^${SLACK_USER}$`);
/** A Slack conversation id: public (`C`), private (`G`) or direct (`D`). */
export const SLACK_CHANNEL_ID = /^[CGD][A-Z0-9]{2,29}$/;
