/**
 * Starts the playground: the real bot (createApp: listeners, billing core, timer) on its own
 * SQLite file, the Slack emulator as its Web API, and the page a person uses in a browser.
 * Everything listens on 127.0.0.1 only; no Slack setting is read.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { createApp, type KmsBot } from "../app.js";
import { loadBotConfig } from "../config.js";
import { openDatabase } from "../store/db.js";
import { applyMigrations } from "../store/migrate.js";
import { playgroundClock } from "./clock.js";
import { startFakeSlack } from "./emulator/index.js";
import { seedPlayground } from "./seed.js";
import { portOf, startPageServer } from "./server.js";
import type { SnapshotSources } from "./snapshot.js";
import { ADMIN, ALERT_CHANNEL, BOT, SUPPORT_CHANNEL, USERS } from "./world.js";

export interface PlaygroundOptions {
  /** Port of the page (0: any free port). */
  port: number;
  /** Where playground.sqlite3 lives (default ./data). */
  dataDir?: string;
  /** Start over: a new database with the sample fleet, the clock back to real time. */
  fresh?: boolean;
}

export interface RunningPlayground {
  url: string;
  stop(): Promise<void>;
}

const BOT_TOKEN = "xoxb-playground";

function summaryText(s: Awaited<ReturnType<KmsBot["sweep"]>>): string {
  const at = new Date(s.at).toISOString().replace(/\.\d{3}Z$/, "Z");
  if (s.skipped) return `sweep ${at}: skipped, another sweep is running`;
  return `sweep ${at}: checked ${s.checked}, transitioned ${s.transitioned}, renewed ${s.renewed}, posted ${s.posted}, failed ${s.failed}`;
}

export async function startPlayground(options: PlaygroundOptions): Promise<RunningPlayground> {
  const dataDir = resolve(options.dataDir ?? "data");
  const file = join(dataDir, "playground.sqlite3");
  const clockFile = join(dataDir, "playground.clock.json");
  mkdirSync(dataDir, { recursive: true });
  if (options.fresh) {
    for (const f of [file, `${file}-wal`, `${file}-shm`, clockFile]) rmSync(f, { force: true });
  }
  const isNew = !existsSync(file);
  const db = openDatabase(`sqlite:${file}`);
  await applyMigrations(db);
  const clock = playgroundClock(clockFile);
  if (isNew) await seedPlayground(db, clock());

  const users = Object.fromEntries(
    USERS.map((u) => [
      u.id,
      { name: u.name.toLowerCase(), real_name: u.name, profile: { display_name: u.name } },
    ]),
  );
  const fake = await startFakeSlack({
    botToken: BOT_TOKEN,
    botUserId: BOT.userId,
    botId: BOT.botId,
    teamName: "KMS Playground",
    users,
  });
  const signingSecret = randomBytes(16).toString("hex");
  // Built from constants: SLACK_* and the rest of the environment are ignored on purpose.
  const config = loadBotConfig({
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: signingSecret,
    SLACK_API_URL: fake.url,
    DATABASE_URL: `sqlite:${file}`,
    KMS_ADMIN_USERS: ADMIN,
    KMS_ALERT_CHANNEL: ALERT_CHANNEL,
    KMS_SUPPORT_CHANNEL: SUPPORT_CHANNEL,
    KMS_TIMEZONE: "UTC",
    // Read once the configuration knows them (HOST, LOG_LEVEL): loopback only, quiet stdout.
    HOST: "127.0.0.1",
    LOG_LEVEL: "warn",
  });
  // The timer runs when the page asks (Run sweep now / at), not on a schedule: the demo changes
  // only when the person wants it to.
  const bot = createApp(config, { db, clock, schedule: false });
  // HOST above binds it to 127.0.0.1 like everything else here.
  const botPort = await bot.start(0);
  const link = { fake, botUrl: `http://127.0.0.1:${botPort}`, signingSecret };
  const sources: SnapshotSources = { fake, billing: bot.billing, clock, fileTimes: new Map() };
  fake.onChange(() => {
    for (const f of fake.uploadedFiles) {
      if (!sources.fileTimes.has(f.fileId)) sources.fileTimes.set(f.fileId, `${Date.now() / 1000}`);
    }
  });
  const page = await startPageServer(
    {
      link,
      sources,
      async sweep(at) {
        if (at !== undefined) clock.moveTo(at);
        sources.lastSweep = summaryText(await bot.sweep());
        return sources.lastSweep;
      },
    },
    options.port,
  );
  return {
    url: `http://127.0.0.1:${portOf(page)}/`,
    async stop() {
      page.closeAllConnections();
      await new Promise<void>((done) => page.close(() => done()));
      await bot.stop();
      await fake.close();
      await db.destroy();
    },
  };
}
