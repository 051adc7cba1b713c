import type { AuthorizeResult, Logger } from "@slack/bolt";
import type { WebClient } from "@slack/web-api";
import type { SlackLink } from "./health.js";
import {
  type Backoff,
  backoffMs,
  describeFailure,
  FATAL_TOKEN_ERRORS,
  refusedToken,
  SLACK_RETRY,
  slackErrorCode,
} from "./startup.js";

export type BotAuthorization = AuthorizeResult & { teamId?: string };

/**
 * Who the bot token is (auth.test), asked once and kept. Unlike Bolt's built-in single-team
 * authorization, a failure (Slack down at start-up) neither crashes the process nor is kept:
 * the next request asks again.
 */
export function botAuthorization(botToken: string, client: WebClient) {
  let known: Promise<BotAuthorization> | undefined;
  return (): Promise<BotAuthorization> => {
    known ??= client.auth.test().then(
      (r) => ({ botToken, botId: r.bot_id, botUserId: r.user_id, teamId: r.team_id }),
      (error) => {
        known = undefined;
        throw error;
      },
    );
    return known;
  };
}

export interface TokenCheck {
  /**
   * Asks auth.test once. Slack refusing the token rejects (StartupError, exit 2); Slack out of
   * reach resolves, and the check goes on in the background until Slack answers.
   */
  start(): Promise<void>;
  stop(): void;
}

export function tokenCheck(
  authorize: () => Promise<BotAuthorization>,
  options: { logger: Logger; link?: SlackLink; retry?: Backoff },
): TokenCheck {
  const { logger, link } = options;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const retryLater = (failures: number) => {
    if (stopped) return;
    timer = setTimeout(
      async () => {
        try {
          await authorize();
          logger.info("Slack answered auth.test: the bot token is good");
          link?.up();
        } catch (error) {
          const code = slackErrorCode(error);
          if (code && FATAL_TOKEN_ERRORS.has(code)) {
            logger.error(refusedToken("SLACK_BOT_TOKEN", code).message);
          }
          retryLater(failures + 1);
        }
      },
      backoffMs(failures, options.retry ?? SLACK_RETRY),
    );
    timer.unref();
  };
  return {
    async start() {
      stopped = false;
      try {
        await authorize();
        link?.up();
      } catch (error) {
        const code = slackErrorCode(error);
        if (code && FATAL_TOKEN_ERRORS.has(code)) throw refusedToken("SLACK_BOT_TOKEN", code);
        logger.warn(
          `Slack did not answer auth.test (${describeFailure(error)}): starting anyway, retrying`,
        );
        link?.down();
        retryLater(1);
      }
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
