import { existsSync } from "node:fs";
import { checkAccountAtStart } from "./alibaba/startup.js";
import { createApp } from "./app.js";
import { systemClock } from "./clock.js";
import { ConfigError, loadBotConfig } from "./config.js";
import { openDatabase } from "./store/db.js";
import { applyMigrations } from "./store/migrate.js";

if (existsSync(".env")) process.loadEnvFile(".env");

let config: ReturnType<typeof loadBotConfig>;
try {
  config = loadBotConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`${error.message}\n\nSee .env.example and the README.`);
  process.exit(2);
}

const accountProblem = await checkAccountAtStart(config);
if (accountProblem) {
  console.error(accountProblem);
  process.exit(2);
}

const db = openDatabase(config.DATABASE_URL);
const applied = await applyMigrations(db);
if (applied.length > 0) console.log(`kms-bot: applied migrations ${applied.join(", ")}`);
const bot = createApp(config, { db, clock: systemClock });
const port = await bot.start();
console.log(
  config.socketMode
    ? `kms-bot: connected in Socket Mode; health on http://localhost:${port}/healthz`
    : `kms-bot: listening on http://localhost:${port} (POST /slack/events, GET /healthz)`,
);

let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    console.log(`kms-bot: ${signal}, finishing requests in flight`);
    // A second signal, or 25 s, ends it regardless (orchestrators send SIGKILL after ~30 s).
    setTimeout(() => process.exit(1), 25_000).unref();
    await bot.stop();
    await db.destroy();
    console.log("kms-bot: stopped");
    process.exit(0);
  });
}
