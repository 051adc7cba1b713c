import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { benchTempDir } from "./db.js";

/** dist-bench/ (this file is dist-bench/bench/lib/proc.js once compiled). */
export const BUILD_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** The bot's entry point, compiled from src/main.ts with the benchmarks. */
export const BOT_MAIN = join(BUILD_ROOT, "src", "main.js");
/**
 * The node flags `npm start` gives the bot (package.json's start script: the heap limits), so
 * the bot is measured as it runs.
 */
export const BOT_NODE_FLAGS: string[] = (() => {
  const pkg = JSON.parse(readFileSync(join(BUILD_ROOT, "..", "package.json"), "utf8"));
  return String(pkg.scripts?.start ?? "")
    .split(/\s+/)
    .filter((word) => word.startsWith("--"));
})();

/** The bare Bolt app that only acknowledges. */
export const BARE_MAIN = join(BUILD_ROOT, "bench", "servers", "bare-bolt.js");

export const SIGNING_SECRET = "bench-signing-secret-0123456789";
export const ALERT_CHANNEL = "C0ALERTS";
/** A cron expression that does not fire during a run (1 January, 00:00): no sweep disturbs a measurement. */
export const QUIET_CRON = "0 0 1 1 *";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The environment of a spawned server: this one without Slack/KMS settings, plus `vars`. */
function childEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(SLACK_|KMS_|DATABASE_URL$|PORT$|NODE_OPTIONS$)/.test(k)) env[k] = v;
  }
  return { ...env, ...vars };
}

export interface Server {
  child: ChildProcess;
  pid: number;
  port: number;
  url: string;
  /** performance.now() just before spawning. */
  spawnedAt: number;
  log: string;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  /** Entry script (default: the bot). */
  main?: string;
  databaseUrl?: string;
  slackApiUrl: string;
  /** `node --cpu-prof` into this directory. */
  cpuProfDir?: string;
  name: string;
}

/**
 * Spawns `node <main>` (the bot as `npm start` runs it, or the bare app) on a free port, from
 * an empty working directory (so no .env is read), its output going to a log file.
 */
export async function spawnServer(options: SpawnOptions): Promise<Server> {
  const port = await freePort();
  const log = join(benchTempDir(), `${options.name}-${port}.log`);
  const fd = openSync(log, "w");
  const args = [
    ...(options.cpuProfDir
      ? [
          "--cpu-prof",
          `--cpu-prof-dir=${options.cpuProfDir}`,
          `--cpu-prof-name=${options.name}-${port}.cpuprofile`,
        ]
      : []),
    ...(options.main === undefined ? BOT_NODE_FLAGS : []),
    options.main ?? BOT_MAIN,
  ];
  const env = childEnv({
    PORT: String(port),
    SLACK_BOT_TOKEN: "xoxb-test-token",
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: options.slackApiUrl,
    KMS_ALERT_CHANNEL: ALERT_CHANNEL,
    KMS_SWEEP_CRON: QUIET_CRON,
    ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
  });
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: benchTempDir(),
    env,
    stdio: ["ignore", fd, fd],
  });
  closeSync(fd);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not spawn ${options.name}`);
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once("exit", () => {
      exited = true;
      resolve();
    }),
  );
  return {
    child,
    pid,
    port,
    url: `http://127.0.0.1:${port}`,
    spawnedAt,
    log,
    async stop() {
      if (exited) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      await exit;
      clearTimeout(timer);
    },
  };
}

/** Polls GET `path` until it answers 200; returns performance.now() at that answer. */
export async function waitForHttp(
  server: Server,
  path: string,
  timeoutMs = 60_000,
  intervalMs = 10,
): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (server.child.exitCode !== null) {
      throw new Error(
        `${path}: the process exited (${server.child.exitCode}); see ${server.log}:\n${tail(server.log)}`,
      );
    }
    try {
      const res = await fetch(`${server.url}${path}`, { signal: AbortSignal.timeout(5_000) });
      await res.arrayBuffer();
      if (res.status === 200) return performance.now();
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline)
      throw new Error(
        `${path} did not answer 200 within ${timeoutMs} ms; ${server.log}:\n${tail(server.log)}`,
      );
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export function tail(path: string, lines = 20): string {
  try {
    return readFileSync(path, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

/** Resident set size of a process in bytes (Linux /proc; elsewhere `ps`). */
export function rssOf(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1];
    if (kb) return Number(kb) * 1024;
  } catch {
    // not Linux
  }
  const out = execFileSync("ps", ["-o", "rss=", "-p", String(pid)], { encoding: "utf8" });
  return Number(out.trim()) * 1024;
}

/** Samples a process's RSS every `everyMs` until stopped; returns the samples. */
export function sampleRss(pid: number, everyMs = 100): { stop(): number[] } {
  const samples: number[] = [];
  const take = () => {
    try {
      samples.push(rssOf(pid));
    } catch {
      // gone
    }
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return samples;
    },
  };
}
