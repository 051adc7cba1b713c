import { parseDatabaseUrl } from "../store/db.js";

/** A reason not to start, said in one line, and the exit code that goes with it. */
export class StartupError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = "StartupError";
  }
}

/** Slack's answers that mean a token will never work as it is: stop instead of retrying. */
export const FATAL_TOKEN_ERRORS = new Set([
  "invalid_auth",
  "not_authed",
  "account_inactive",
  "token_revoked",
  "token_expired",
  "not_allowed_token_type",
  "user_removed_from_team",
  "team_disabled",
]);

/** Slack's error code in a Web API failure, if Slack answered with one. */
export function slackErrorCode(error: unknown): string | undefined {
  const code = (error as { data?: { error?: unknown } })?.data?.error;
  return typeof code === "string" ? code : undefined;
}

/** A token Slack refused for good, named by its variable, as the one line to exit with. */
export function refusedToken(variable: string, code: string): StartupError {
  return new StartupError(
    `kms-bot: Slack refused ${variable} (${code}): copy the token again from your app's ` +
      "settings at https://api.slack.com/apps (reinstall the app if it was revoked) and restart.",
    2,
  );
}

export interface Backoff {
  minMs: number;
  maxMs: number;
}

/** Patient retries for reaching Slack: 1 s doubling to 10 s, forever. */
export const SLACK_RETRY: Backoff = { minMs: 1_000, maxMs: 10_000 };

/** Capped exponential backoff with jitter (50-100% of the step), after `failures` failures. */
export function backoffMs(failures: number, { minMs, maxMs }: Backoff, error?: unknown): number {
  const step = Math.min(maxMs, minMs * 2 ** Math.max(0, failures - 1));
  const retryAfter = (error as { retryAfter?: unknown })?.retryAfter;
  const floor = typeof retryAfter === "number" ? retryAfter * 1000 : 0;
  return Math.max(floor, Math.round(step * (0.5 + Math.random() / 2)));
}

/** A short description of why a call to Slack failed, for a log line. */
export function describeFailure(error: unknown): string {
  const e = error as { code?: unknown; statusCode?: unknown; message?: unknown };
  const slack = slackErrorCode(error);
  if (slack) return slack;
  if (typeof e?.statusCode === "number") return `HTTP ${e.statusCode}`;
  return String(e?.message ?? error);
}

function where(databaseUrl: string): string {
  const target = parseDatabaseUrl(databaseUrl);
  if (target?.dialect !== "postgres") return target?.location ?? databaseUrl;
  try {
    const url = new URL(target.location);
    return `${url.hostname}:${url.port || 5432}`;
  } catch {
    return "the DATABASE_URL host";
  }
}

function databaseName(databaseUrl: string): string {
  try {
    return decodeURIComponent(new URL(databaseUrl).pathname.slice(1)) || "(none)";
  } catch {
    return "(unknown)";
  }
}

/**
 * The one line (and exit code) for a failure at start-up: what went wrong and what to do.
 * Anything not recognised is reported by its message; the stack goes to the debug log.
 */
export function explainStartupFailure(
  error: unknown,
  context: { databaseUrl: string; port: number; host?: string },
): StartupError {
  if (error instanceof StartupError) return error;
  const e = error as { code?: unknown; message?: unknown; syscall?: unknown };
  const code = typeof e?.code === "string" ? e.code : "";
  const message = String(e?.message ?? error).split("\n")[0];
  const sqlite = parseDatabaseUrl(context.databaseUrl)?.dialect === "sqlite";
  const place = where(context.databaseUrl);
  if (code === "EADDRINUSE")
    return new StartupError(
      `kms-bot: port ${context.port} is already in use${context.host ? ` on ${context.host}` : ""}: stop the other process or set PORT to a free port.`,
    );
  if (code === "EACCES" && e.syscall === "listen")
    return new StartupError(
      `kms-bot: not allowed to listen on port ${context.port}: use a port above 1023 (PORT).`,
    );
  if (
    sqlite &&
    /^(EACCES|EPERM|EROFS|ENOTDIR|EEXIST|SQLITE_CANTOPEN|SQLITE_READONLY|SQLITE_PERM)$/.test(code)
  )
    return new StartupError(
      `kms-bot: cannot write the SQLite database ${place} (${code}): make its folder writable by this user, or set DATABASE_URL=sqlite:<writable path>.`,
    );
  if (code === "ECONNREFUSED")
    return new StartupError(
      `kms-bot: PostgreSQL at ${place} refuses connections: start it, or fix the host and port in DATABASE_URL.`,
    );
  if (code === "ENOTFOUND" || code === "EAI_AGAIN")
    return new StartupError(
      `kms-bot: the database host in DATABASE_URL (${place}) does not resolve: fix DATABASE_URL.`,
    );
  if (code === "3D000")
    return new StartupError(
      `kms-bot: PostgreSQL database "${databaseName(context.databaseUrl)}" does not exist at ${place}: create it (createdb ${databaseName(context.databaseUrl)}) or fix DATABASE_URL.`,
    );
  if (code === "28P01" || code === "28000")
    return new StartupError(
      `kms-bot: PostgreSQL at ${place} refused the user or password in DATABASE_URL: fix them.`,
    );
  return new StartupError(`kms-bot: could not start: ${message}${code ? ` (${code})` : ""}`);
}
