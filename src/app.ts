import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { App, LogLevel } from "@slack/bolt";
import type { Knex } from "knex";
import type { BillingContext } from "./billing/context.js";
import type { Clock } from "./clock.js";
import type { BotConfig } from "./config.js";
import { registerListeners } from "./listeners.js";
import { dialectOf } from "./store/db.js";

export interface AppDeps {
  db: Knex;
  clock: Clock;
}

export interface KmsBot {
  app: InstanceType<typeof App>;
  billing: BillingContext;
  /** Starts serving; returns the HTTP port actually bound (useful with PORT=0 in tests). */
  start(port?: number): Promise<number>;
  stop(): Promise<void>;
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
  const app = config.socketMode
    ? new App({
        token: config.SLACK_BOT_TOKEN,
        appToken: config.SLACK_APP_TOKEN,
        socketMode: true,
        customRoutes,
        clientOptions,
        logLevel: LogLevel.INFO,
      })
    : new App({
        token: config.SLACK_BOT_TOKEN,
        signingSecret: config.SLACK_SIGNING_SECRET,
        customRoutes,
        clientOptions,
        logLevel: LogLevel.INFO,
      });
  registerListeners(app, { billing, config });
  return {
    app,
    billing,
    async start(port = config.PORT) {
      const server = (await app.start(port)) as Server | undefined;
      const address = server?.address();
      return typeof address === "object" && address ? address.port : port;
    },
    async stop() {
      await app.stop();
    },
  };
}
