import { type Logger, SocketModeReceiver } from "@slack/bolt";
import type { FetchFunction } from "@slack/web-api";
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

export interface SocketOptions {
  appToken: string;
  slackApiUrl: string;
  logger: Logger;
  link: SlackLink;
  fetch?: FetchFunction;
  retry?: Backoff;
}

export interface SocketConnection {
  receiver: SocketModeReceiver;
  /**
   * Connects once; if Slack can't be reached, keeps trying in the background and resolves.
   * Rejects (StartupError, exit 2) only when Slack refuses the app-level token.
   */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Bolt's receiver on a Socket Mode client that leaves reconnecting to us. */
function socketReceiver(options: SocketOptions): SocketModeReceiver {
  return new SocketModeReceiver({
    appToken: options.appToken,
    logger: options.logger,
    autoReconnectEnabled: false,
    installerOptions: {
      // Its own client: no quick retries of its own (the loop below waits), and 429s surface.
      clientOptions: {
        slackApiUrl: options.slackApiUrl,
        retryConfig: { retries: 0 },
        rejectRateLimitedCalls: true,
        timeout: 10_000,
        fetch: options.fetch,
      },
    },
    // Slack may deliver an envelope again; the request guard handles each id once.
    customPropertiesExtractor: (args) => ({
      requestSignature: `socket:${String((args as { envelope_id?: unknown }).envelope_id)}`,
    }),
  });
}

/**
 * Bolt's Socket Mode receiver with reconnection taken over. The client's own reconnect gives
 * up on an HTTP error from `apps.connections.open` and leaves a rejected promise behind (which
 * ends the process), so it is switched off: here every disconnect (Slack's refresh request, a
 * dropped connection, a missed pong) starts a loop that retries with capped exponential backoff
 * until connected again, however long Slack is away.
 */
export function socketConnection(options: SocketOptions): SocketConnection {
  const { logger, link } = options;
  const retry = options.retry ?? SLACK_RETRY;
  const receiver = socketReceiver(options);
  const client = receiver.client;
  let stopping = false;
  let reconnecting: Promise<void> | undefined;
  let wake: (() => void) | undefined;

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  async function keepConnecting(failures: number): Promise<void> {
    while (!stopping) {
      if (failures > 0) {
        await pause(backoffMs(failures, retry));
        if (stopping) return;
      }
      try {
        await client.start();
        if (link.isUp) return; // else it dropped again already: go round
      } catch (error) {
        failures += 1;
        logger.warn(`Socket Mode: could not connect (${describeFailure(error)}); retrying`);
      }
    }
  }

  function reconnect(failures: number): void {
    if (stopping || reconnecting) return;
    reconnecting = keepConnecting(failures).finally(() => {
      reconnecting = undefined;
      if (!stopping && !link.isUp) reconnect(1);
    });
  }

  client.on("connected", () => {
    link.up();
    logger.info("Socket Mode: connected");
  });
  client.on("disconnected", () => {
    link.down();
    if (!stopping) logger.info("Socket Mode: disconnected; reconnecting");
    reconnect(0);
  });

  return {
    receiver,
    async start() {
      stopping = false;
      try {
        reconnecting = client.start().then(() => undefined);
        await reconnecting;
      } catch (error) {
        const code = slackErrorCode(error);
        if (code && FATAL_TOKEN_ERRORS.has(code)) throw refusedToken("SLACK_APP_TOKEN", code);
        logger.warn(`Socket Mode: could not connect (${describeFailure(error)}); retrying`);
        reconnecting = undefined;
        reconnect(1);
        return;
      }
      reconnecting = undefined;
      if (!link.isUp) reconnect(0);
    },
    async stop() {
      stopping = true;
      wake?.();
      await receiver.stop();
      await reconnecting?.catch(() => undefined);
    },
  };
}
