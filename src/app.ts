import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { App, type AuthorizeResult, HTTPReceiver, LogLevel } from "@slack/bolt";
import { WebClient } from "@slack/web-api";
import { Cron } from "croner";
import type { Knex } from "knex";
import type { BillingContext } from "./billing/context.js";
import type { Clock } from "./clock.js";
import type { BotConfig } from "./config.js";
import { registerListeners } from "./listeners.js";
import { admission, requestGuard } from "./slack/guard.js";
import { dialectOf } from "./store/db.js";
import { slackPoster } from "./timer/slack-poster.js";
import {
  type Poster,
  type SweepOptions,
  type SweepSummary,
  summaryLine,
  sweep,
  timerSettings,
} from "./timer/sweep.js";

export interface AppDeps {
  db: Knex;
  clock: Clock;
  /** Run the expiry timer on KMS_SWEEP_CRON while started (default true; tests call `sweep()`). */
  schedule?: boolean;
  /** How the timer reaches Slack (default: the Web API at SLACK_API_URL). */
  poster?: Poster;
}

export interface KmsBot {
  app: InstanceType<typeof App>;
  billing: BillingContext;
  /** Starts serving; returns the HTTP port actually bound (useful with PORT=0 in tests). */
  start(port?: number): Promise<number>;
  stop(): Promise<void>;
  /** Runs the expiry timer once now (what the schedule does). */
  sweep(options?: SweepOptions): Promise<SweepSummary>;
}

/** `GET /healthz`: 200 with the database dialect when a query succeeds, 503 otherwise. */
function healthz(db: Knex) {
  return async (_req: IncomingMessage, res: ServerResponse) => {
    try {
      await db.raw("select 1");
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ ok: true, database: dialectOf(db) }));
    } catch (error) {
      res.writeHead(503, { "content-type": "application/json" });
      res.end(JSON.stringify({ ok: false, database: dialectOf(db), error: String(error) }));
    }
  };
}

/**
 * Who the bot token is (auth.test), asked once and kept. Unlike Bolt's built-in single-team
 * authorization, a failure (Slack down at start-up) neither crashes the process nor is kept:
 * the next request asks again.
 */
function botAuthorization(botToken: string, client: WebClient) {
  let known: Promise<AuthorizeResult & { teamId?: string }> | undefined;
  return (): Promise<AuthorizeResult & { teamId?: string }> => {
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

/** Builds the Bolt app from configuration and injected parts (database, clock). */
export function createApp(config: BotConfig, deps: AppDeps): KmsBot {
  const billing: BillingContext = {
    db: deps.db,
    clock: deps.clock,
    timezone: config.KMS_TIMEZONE,
    envAdmins: config.KMS_ADMIN_USERS,
  };
  const customRoutes = [{ path: "/healthz", method: ["GET"], handler: healthz(deps.db) }];
  // A person is waiting on every interactive call: retry briefly, then tell them. (The
  // client still waits out a 429's Retry-After before retrying.)
  const clientOptions = {
    slackApiUrl: config.SLACK_API_URL,
    retryConfig: { retries: 2, factor: 2, minTimeout: 200, maxTimeout: 1_000 },
    timeout: 10_000,
  };
  const authorize = botAuthorization(
    config.SLACK_BOT_TOKEN,
    new WebClient(config.SLACK_BOT_TOKEN, clientOptions),
  );
  const app = config.socketMode
    ? new App({
        authorize,
        appToken: config.SLACK_APP_TOKEN,
        socketMode: true,
        customRoutes,
        // /healthz is served on PORT in Socket Mode too.
        installerOptions: { port: config.PORT },
        clientOptions,
        logLevel: LogLevel.INFO,
        convoStore: false,
      })
    : new App({
        authorize,
        receiver: new HTTPReceiver({
          signingSecret: config.SLACK_SIGNING_SECRET ?? "",
          customRoutes,
          // The signature identifies one request: the guard below refuses it a second time
          // while its signed timestamp is within Bolt's 5 minutes.
          customPropertiesExtractor: (req) => ({
            requestSignature: String(req.headers["x-slack-signature"] ?? ""),
            requestTimestamp: String(req.headers["x-slack-request-timestamp"] ?? ""),
          }),
        }),
        clientOptions,
        logLevel: LogLevel.INFO,
        // No listener uses Bolt's conversation context; its store creates an Error for every
        // request from a conversation it does not hold.
        convoStore: false,
      });
  // Every request being handled, so stop() can let them finish (work after the ack included).
  const inFlight = new Set<Promise<void>>();
  app.use(async ({ next }) => {
    const handling = next();
    inFlight.add(handling);
    try {
      await handling;
    } finally {
      inFlight.delete(handling);
    }
  });
  // 16 at once keeps a burst's modals within a second of their ack and the heap small, and
  // still serves about 50 modals a second when each Slack call takes 300 ms.
  app.use(admission({ limit: 16, maxWaitMs: 2_000 }));
  app.use(requestGuard(deps.db, async () => (await authorize().catch(() => undefined))?.teamId));
  registerListeners(app, { billing, config });
  const poster = deps.poster ?? slackPoster(config.SLACK_BOT_TOKEN, config.SLACK_API_URL);
  const runSweep = (options?: SweepOptions) =>
    sweep(billing, timerSettings(config), poster, options);
  let cron: Cron | undefined;
  let running: Promise<unknown> = Promise.resolve();
  return {
    app,
    billing,
    sweep: runSweep,
    async start(port = config.PORT) {
      const server = (await app.start(port)) as Server | undefined;
      if (deps.schedule !== false) {
        // protect: a sweep still running when the next is due is not started twice.
        cron = new Cron(config.KMS_SWEEP_CRON, { protect: true }, async () => {
          const sweepNow = runSweep().then(
            (summary) => app.logger.info(`kms-bot: ${summaryLine(summary)}`),
            (error) => app.logger.error("kms-bot: sweep failed; the next one will retry", error),
          );
          running = sweepNow;
          await sweepNow;
        });
      }
      const address = server?.address();
      return typeof address === "object" && address ? address.port : port;
    },
    /** Stops taking requests, lets the ones in flight and a running sweep finish, then returns. */
    async stop() {
      cron?.stop();
      await app.stop();
      await Promise.allSettled([...inFlight]);
      await running;
    },
  };
}
