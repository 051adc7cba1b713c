import { existsSync } from "node:fs";
import type { Knex } from "knex";
import { checkAccountAtStart } from "./alibaba/startup.js";
import { createApp, type KmsBot } from "./app.js";
import { systemClock } from "./clock.js";
import { type BotConfig, ConfigError, loadBotConfig } from "./config.js";
import { createLogger, knexLog, type Logger } from "./ops/logger.js";
import { explainStartupFailure } from "./ops/startup.js";
import { openDatabase } from "./store/db.js";
import { applyMigrations } from "./store/migrate.js";

if (existsSync(".env")) process.loadEnvFile(".env");

let config: BotConfig;
try {
  config = loadBotConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`${error.message}\n\nSee .env.example and the README.`);
  process.exit(2);
}

const logger = createLogger({
  level: config.LOG_LEVEL,
  secrets: [
    config.SLACK_BOT_TOKEN,
    config.SLACK_APP_TOKEN,
    config.SLACK_SIGNING_SECRET,
    config.ALIBABA_CLOUD_ACCESS_KEY_SECRET,
  ],
});

const accountProblem = await checkAccountAtStart(config);
if (accountProblem) {
  console.error(accountProblem);
  process.exit(2);
}

/** Opens and migrates the database, then starts the bot; any failure is one line and an exit. */
async function start(): Promise<{ bot: KmsBot; db: Knex }> {
  let db: Knex | undefined;
  try {
    db = openDatabase(config.DATABASE_URL, { log: knexLog(logger) });
    const applied = await applyMigrations(db);
    if (applied.length > 0) logger.info(`applied migrations ${applied.join(", ")}`);
    const bot = createApp(config, { db, clock: systemClock, logger, processMetrics: true });
    const port = await bot.start();
    const where = `http://${config.HOST ?? "localhost"}:${port}`;
    logger.info(
      config.socketMode
        ? `started in Socket Mode; ${where}/healthz and /metrics`
        : `listening on ${where} (POST /slack/events, GET /healthz, GET /metrics)`,
    );
    return { bot, db };
  } catch (error) {
    // The stack is for a developer (LOG_LEVEL=debug); the operator gets one line.
    logger.debug({ err: error }, "start-up failed");
    const failure = explainStartupFailure(error, {
      databaseUrl: config.DATABASE_URL,
      port: config.PORT,
      host: config.HOST,
    });
    console.error(failure.message);
    await db?.destroy().catch(() => undefined);
    process.exit(failure.exitCode);
  }
}

function stopOnSignals(bot: KmsBot, db: Knex, log: Logger): void {
  let stopping = false;
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.on(signal, async () => {
      if (stopping) process.exit(1);
      stopping = true;
      log.info(`kms-bot: ${signal}, finishing requests in flight`);
      // A second signal, or 25 s, ends it regardless (orchestrators send SIGKILL after ~30 s).
      setTimeout(() => process.exit(1), 25_000).unref();
      await bot.stop();
      await db.destroy();
      log.info("kms-bot: stopped");
      process.exit(0);
    });
  }
}

const { bot, db } = await start();
stopOnSignals(bot, db, logger);
