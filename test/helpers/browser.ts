/**
 * The playground as a person meets it: `npm run playground`'s built entry started as a real
 * process on a free port (in a fresh folder, so its ./data is its own), and Debian's Chromium
 * driven by playwright-core (no browser is ever downloaded).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { ROOT } from "./cli-process.js";

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/lib/chromium/chromium"];

/** Chromium's path (KMS_CHROMIUM, else Debian's), or undefined when there is none. */
export const CHROMIUM = [process.env.KMS_CHROMIUM, ...CANDIDATES].find(
  (path): path is string => path !== undefined && path !== "" && existsSync(path),
);

const inCi = !["", "false", "0", undefined].includes(process.env.CI);

/**
 * Whether the browser tests skip: only outside CI when there is no Chromium (they say so). In CI
 * they run, and fail at once without Chromium (`chromium()` throws).
 */
export const SKIP_BROWSER = !CHROMIUM && !inCi;
if (SKIP_BROWSER) {
  console.warn(
    "playground browser tests skipped: no Chromium at /usr/bin/chromium (apt-get install -y chromium, or set KMS_CHROMIUM).",
  );
}

/** Chromium's path; throws (in CI) when there is none. */
export function chromiumPath(): string {
  if (!CHROMIUM)
    throw new Error("the playground's browser tests need Chromium: apt-get install -y chromium");
  return CHROMIUM;
}

/** Screenshots of each step land here (git-ignored). */
export const ARTIFACTS = join(ROOT, "test-artifacts/playground");

export interface PlaygroundProcess {
  url: string;
  child: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

export interface PlaygroundStart {
  /** Its working folder (default: a new one, removed by stop()); ./data goes in there. */
  dir?: string;
  args?: string[];
  /** Added to a bare environment (PATH and PORT=0). */
  env?: Record<string, string>;
}

/** Starts `node dist/src/playground/main.js --fresh` with PORT=0 and waits for its one line. */
export async function startPlaygroundProcess(o: PlaygroundStart = {}): Promise<PlaygroundProcess> {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), "kms-playground-"));
  const args = [join(ROOT, "dist/src/playground/main.js"), ...(o.args ?? ["--fresh"])];
  const child = spawn(process.execPath, args, {
    cwd: dir,
    env: { PATH: process.env.PATH ?? "", PORT: "0", ...o.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no URL within 20 s:\n${stdout}${stderr}`)),
      20_000,
    );
    child.stdout?.on("data", (d) => {
      stdout += d;
      const found = /^Playground: (http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(stdout);
      if (found?.[1]) {
        clearTimeout(timer);
        resolve(found[1]);
      }
    });
    child.on("exit", (code) =>
      reject(new Error(`playground exited with ${code}:\n${stdout}${stderr}`)),
    );
  });
  return {
    url,
    child,
    output: () => stdout + stderr,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      }
      if (!o.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs the playground entry to its end (for start-up refusals). */
export function runPlaygroundProcess(env: Record<string, string>) {
  const child = spawn(process.execPath, [join(ROOT, "dist/src/playground/main.js")], {
    cwd: tmpdir(),
    env: { PATH: process.env.PATH ?? "", PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (d) => {
    output += d;
  });
  child.stderr?.on("data", (d) => {
    output += d;
  });
  return new Promise<{ code: number | null; output: string }>((resolve) => {
    child.on("close", (code) => resolve({ code, output }));
  });
}

export interface Browser {
  page: Page;
  context: BrowserContext;
  /** Saves a screenshot of the page as `<ARTIFACTS>/<name>.png`. */
  shot(name: string): Promise<void>;
  close(): Promise<void>;
}

/** Headless Chromium with a fresh profile, a laptop-sized window, showing `url`. */
export async function openBrowser(executablePath: string, url: string): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), "kms-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    viewport: { width: 1280, height: 800 },
    timezoneId: "UTC",
    locale: "en-US",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(url);
  mkdirSync(ARTIFACTS, { recursive: true });
  return {
    page,
    context,
    shot: async (name) => {
      await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
