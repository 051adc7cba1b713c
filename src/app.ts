import type { Server } from "node:http";
import { performance } from "node:perf_hooks";
import { App, HTTPReceiver, type Receiver } from "@slack/bolt";
import { WebClient } from "@slack/web-api";
import { Cron } from "croner";
import type { Knex } from "knex";
import { accountDeps, alibabaProvider } from "./alibaba/provider.js";
import { alibabaSettings } from "./alibaba/settings.js";
import { accountHealth } from "./alibaba/startup.js";
import { type BillingContext, timerActor } from "./billing/context.js";
import { timerSettings } from "./billing/expiry.js";
import { type BillingProvider, localProvider } from "./billing/provider.js";
import type { Clock } from "./clock.js";
import type { BotConfig } from "./config.js";
import { botAuthorization, tokenCheck } from "./ops/auth.js";
import { healthRoute, SlackLink } from "./ops/health.js";
import { boltLevel, boltLogger, createLogger, type Logger } from "./ops/logger.js";
import { countingFetch, createMetrics, type Metrics, metricsRoute } from "./ops/metrics.js";
import { requestLog } from "./ops/requests.js";
import { close, listen, type OpsRoute, opsServer } from "./ops/server.js";
import { type SocketConnection, socketConnection } from "./ops/socket.js";
import { inOrder, type Stage } from "./ops/stages.js";
import { registerFeatures } from "./slack/app.js";
import { admission, requestGuard } from "./slack/guard.js";
import { ignoreOwnEvents } from "./slack/interactions.js";
import { type Poster, slackPoster } from "./timer/poster.js";
import { type SweepOptions, type SweepSummary, summaryLine, sweep } from "./timer/sweep.js";

export interface AppDeps {
  db: Knex;
  clock: Clock;
  /** Run the expiry timer on KMS_SWEEP_CRON while started (default true; tests call `sweep()`). */
  schedule?: boolean;
  /** How the timer reaches Slack (default: the Web API at SLACK_API_URL). */
  poster?: Poster;
  /** Where log lines go (default: a pino logger on stdout at LOG_LEVEL, secrets scrubbed). */
  logger?: Logger;
  /** Node's process metrics on /metrics (memory, CPU, event loop); main turns them on. */
  processMetrics?: boolean;
  /** Wall clock for health and metrics (default Date.now; never the billing clock). */
  now?: () => number;
  /** Where money and the fleet live (default: from KMS_PROVIDER, the local ledger or the account). */
  provider?: BillingProvider;
}

export interface KmsBot {
  app: InstanceType<typeof App>;
  billing: BillingContext;
  provider: BillingProvider;
  logger: Logger;
  metrics: Metrics;
  /** Whether Slack is reachable (Socket Mode: the socket is up; HTTP: the token was verified). */
  slack: SlackLink;
  /**
   * Starts serving; returns the HTTP port actually bound (useful with PORT=0 in tests). Rejects
   * with a StartupError when Slack refuses a token; Slack out of reach is retried instead.
   */
  start(port?: number): Promise<number>;
  stop(): Promise<void>;
  /** Runs the expiry timer once now (what the schedule does). */
  sweep(options?: SweepOptions): Promise<SweepSummary>;
}

interface Transport {
  receiver: Receiver;
  /** Binds the port and connects; returns the port. */
  start(port: number): Promise<number>;
  stop(): Promise<void>;
}

/** Over HTTP, Bolt's receiver serves /slack/events and the ops routes on one port. */
function httpTransport(config: BotConfig, routes: OpsRoute[]): Transport {
  const receiver = new HTTPReceiver({
    signingSecret: config.SLACK_SIGNING_SECRET ?? "",
    customRoutes: routes,
    // The signature identifies one request: the guard refuses it a second time.
    customPropertiesExtractor: (req) => ({
      requestSignature: String(req.headers["x-slack-signature"] ?? ""),
      requestTimestamp: String(req.headers["x-slack-request-timestamp"] ?? ""),
    }),
  });
  return {
    receiver,
    async start(port) {
      const server = (await receiver.start({ port, host: config.HOST })) as Server;
      const address = server.address();
      return typeof address === "object" && address ? address.port : port;
    },
    stop: () => receiver.stop() as Promise<void>,
  };
}

/** In Socket Mode, a small server of our own answers the ops routes on PORT. */
function socketTransport(config: BotConfig, routes: OpsRoute[], socket: SocketConnection) {
  const server = opsServer(routes);
  return {
    receiver: socket.receiver,
    async start(port: number) {
      const bound = await listen(server, port, config.HOST);
      await socket.start();
      return bound;
    },
    async stop() {
      await socket.stop();
      await close(server);
    },
  } satisfies Transport;
}

/** Logs, Slack's reachability, metrics and the routes that show them. */
function operations(config: BotConfig, deps: AppDeps) {
  const logger =
    deps.logger ??
    createLogger({
      level: config.LOG_LEVEL,
      secrets: [config.SLACK_BOT_TOKEN, config.SLACK_APP_TOKEN, config.SLACK_SIGNING_SECRET],
    });
  const link = new SlackLink(config.socketMode ? "socket" : "http", deps.now);
  const metrics = createMetrics({
    db: deps.db,
    link,
    now: deps.now,
    processMetrics: deps.processMetrics,
  });
  const account = config.KMS_PROVIDER === "alibaba" ? accountHealth : undefined;
  const routes: OpsRoute[] = [
    { path: "/healthz", method: ["GET"], handler: healthRoute({ db: deps.db, link, account }) },
    { path: "/metrics", method: ["GET"], handler: metricsRoute(metrics) },
  ];
  return { logger, bolt: boltLogger(logger), link, metrics, routes };
}

/**
 * 16 requests at once keeps a burst's modals within a second of their ack and the heap
 * small, and still serves about 50 modals a second when each Slack call takes 300 ms.
 */
const ADMISSION = { limit: 16, maxWaitMs: 2_000 };

/** Every request being handled, so stop() can let them finish (work after the ack included). */
function inFlightRequests() {
  const inFlight = new Set<Promise<void>>();
  const track: Stage = async (_args, next) => {
    const handling = next();
    inFlight.add(handling);
    try {
      await handling;
    } finally {
      inFlight.delete(handling);
    }
  };
  return { track, drain: () => Promise.allSettled([...inFlight]) };
}

/** The expiry timer on its cron; `stop` waits for a sweep that is running. */
function scheduleSweeps(expression: string, run: () => Promise<SweepSummary>, logger: Logger) {
  let running: Promise<unknown> = Promise.resolve();
  // protect: a sweep still running when the next is due is not started twice.
  const cron = new Cron(expression, { protect: true }, async () => {
    const sweepNow = run().then(
      (summary) => logger.info({ sweep: summaryFields(summary) }, summaryLine(summary)),
      (err) => logger.error({ err }, "sweep failed; the next one will retry"),
    );
    running = sweepNow;
    await sweepNow;
  });
  return {
    async stop() {
      cron.stop();
      await running;
    },
  };
}

/** The Socket Mode connection, with the app-level token and its own patient reconnects. */
function socketConnectionFor(
  config: BotConfig,
  logger: Parameters<typeof socketConnection>[0]["logger"],
  link: Parameters<typeof socketConnection>[0]["link"],
  fetch: Parameters<typeof socketConnection>[0]["fetch"],
): SocketConnection {
  return socketConnection({
    appToken: config.SLACK_APP_TOKEN ?? "",
    slackApiUrl: config.SLACK_API_URL,
    logger,
    link,
    fetch,
  });
}

/** Builds the Bolt app from configuration and injected parts (database, clock). */
export function createApp(config: BotConfig, deps: AppDeps): KmsBot {
  const billing: BillingContext = {
    db: deps.db,
    clock: deps.clock,
    timezone: config.KMS_TIMEZONE,
    envAdmins: config.KMS_ADMIN_USERS,
  };
  const { logger, bolt, link, metrics, routes } = operations(config, deps);
  const provider = deps.provider ?? providerOf(config);
  // A person is waiting on every interactive call: retry briefly, then tell them. (The
  // client still waits out a 429's Retry-After before retrying.)
  const clientOptions = {
    slackApiUrl: config.SLACK_API_URL,
    retryConfig: { retries: 2, factor: 2, minTimeout: 200, maxTimeout: 1_000 },
    timeout: 10_000,
    fetch: countingFetch(metrics),
  };
  const authorize = botAuthorization(
    config.SLACK_BOT_TOKEN,
    new WebClient(config.SLACK_BOT_TOKEN, clientOptions),
  );
  const transport = config.socketMode
    ? socketTransport(config, routes, socketConnectionFor(config, bolt, link, clientOptions.fetch))
    : httpTransport(config, routes);
  const app = new App({
    authorize,
    receiver: transport.receiver,
    clientOptions,
    logger: bolt,
    logLevel: boltLevel(config.LOG_LEVEL),
    // No listener uses Bolt's conversation context; its store creates an Error for every
    // request from a conversation it does not hold.
    convoStore: false,
    // Its one check (an event from the bot itself) is the first request stage instead.
    ignoreSelf: false,
  });
  // Over HTTP the token check is what tells whether Slack is reachable; in Socket Mode, the socket.
  const check = tokenCheck(authorize, { logger: bolt, link: config.socketMode ? undefined : link });
  const requests = inFlightRequests();
  app.use(
    inOrder(
      ignoreOwnEvents,
      requestLog(logger, metrics),
      requests.track,
      admission(ADMISSION),
      requestGuard(deps.db, async () => (await authorize().catch(() => undefined))?.teamId),
    ),
  );
  registerFeatures(app, { billing, config, provider, slackError: metrics.slackError });
  const poster = deps.poster ?? slackPoster(config.SLACK_BOT_TOKEN, config.SLACK_API_URL);
  const runSweep = measuredSweep(metrics, (options?: SweepOptions) =>
    sweep(billing, timerSettings(config), poster, { provider, ...options }),
  );
  let schedule: { stop(): Promise<void> } | undefined;
  return {
    app,
    billing,
    provider,
    logger,
    metrics,
    slack: link,
    sweep: runSweep,
    async start(port = config.PORT) {
      await check.start();
      await syncAtStart(billing, provider, logger);
      const bound = await transport.start(port);
      if (deps.schedule !== false)
        schedule = scheduleSweeps(config.KMS_SWEEP_CRON, runSweep, logger);
      return bound;
    },
    /** Stops taking requests, lets the ones in flight and a running sweep finish, then returns. */
    async stop() {
      check.stop();
      const sweeping = schedule?.stop();
      await transport.stop();
      await requests.drain();
      await sweeping;
    },
  };
}

/** KMS_PROVIDER: the bot's own ledger, or the Alibaba Cloud account through the BSS OpenAPI. */
function providerOf(config: BotConfig): BillingProvider {
  const settings = alibabaSettings(config);
  return settings ? alibabaProvider(accountDeps(settings)) : localProvider;
}

/** With the Alibaba Cloud account, its fleet is pulled once at start-up; failing that, the sweeps retry. */
async function syncAtStart(billing: BillingContext, provider: BillingProvider, logger: Logger) {
  if (provider.kind === "local") return;
  try {
    const result = await provider.sync(billing, timerActor);
    logger.info({ changes: result.changes.length }, "synced with the Alibaba Cloud account");
  } catch (err) {
    logger.warn({ err }, "could not sync with the Alibaba Cloud account; the sweeps will retry");
  }
}

/** The sweep, counted and timed in the metrics. */
function measuredSweep(
  metrics: Metrics,
  run: (options?: SweepOptions) => Promise<SweepSummary>,
): (options?: SweepOptions) => Promise<SweepSummary> {
  return async (options) => {
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    try {
      const summary = await run(options);
      metrics.sweep(summary, seconds());
      return summary;
    } catch (error) {
      metrics.sweep(error instanceof Error ? error : new Error(String(error)), seconds());
      throw error;
    }
  };
}

function summaryFields({ actions: _actions, ...counts }: SweepSummary) {
  return counts;
}
