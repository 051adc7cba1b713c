import { type Logger as BoltLogger, LogLevel } from "@slack/bolt";
import { type DestinationStream, type Logger, pino } from "pino";

export type Level = "debug" | "info" | "warn" | "error";
export type { Logger };

export interface LoggerOptions {
  level: Level;
  /** Values that must never be written (tokens, signing secret): replaced wherever they appear. */
  secrets: readonly (string | undefined)[];
  /** Readable lines instead of JSON (default: when stdout is a terminal). */
  pretty?: boolean;
  /** Where lines go (default: stdout). */
  destination?: { write(line: string): unknown };
}

const REDACTED = "[redacted]";

/**
 * Slack credentials by shape (bot, user and app-level tokens), the deprecated verification
 * token payloads still carry, and response URLs (each one lets its holder post as the bot).
 */
const SECRET_SHAPES: Array<[RegExp, string]> = [
  [/\bxox[abeoprs]-[A-Za-z0-9-]+/g, REDACTED],
  [/\bxapp-[A-Za-z0-9-]+/g, REDACTED],
  [/(\\*"(?:token|response_url)\\*"\s*:\s*\\*")[^"\\]*/g, `$1${REDACTED}`],
  [/(\b(?:token|response_url)=)[^&\s"\\]+/g, `$1${REDACTED}`],
  [/(https:\/\/hooks\.slack\.com\/)[^\s"\\]+/g, `$1${REDACTED}`],
];

/** What every one of SECRET_SHAPES contains: most lines hold none and are not scanned again. */
const MAYBE_SHAPED = /xox|xapp-|token|response_url|hooks\.slack\.com/;

/** A function that removes every secret from a line about to be written. */
export function scrubber(secrets: readonly (string | undefined)[]): (line: string) => string {
  const known = secrets.filter((s): s is string => typeof s === "string" && s.length >= 4);
  return (line) => {
    let out = line;
    for (const secret of known) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    if (!MAYBE_SHAPED.test(out)) return out;
    for (const [shape, replacement] of SECRET_SHAPES) out = out.replace(shape, replacement);
    return out;
  };
}

const LEVEL_NAMES: Record<number, string> = {
  10: "TRACE",
  20: "DEBUG",
  30: "INFO",
  40: "WARN",
  50: "ERROR",
  60: "FATAL",
};

/** Turns pino's JSON lines into `12:00:01.234 INFO message key=value ...` for a terminal. */
function prettyLines(out: { write(line: string): unknown }): DestinationStream {
  return {
    write(line: string) {
      const { time, level, msg, pid: _pid, hostname: _host, err, ...rest } = JSON.parse(line);
      const when = new Date(Number(time)).toISOString().slice(11, 23);
      const fields = Object.entries(rest)
        .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
        .join(" ");
      const stack = err?.stack ? `\n${err.stack}` : "";
      out.write(
        `${when} ${LEVEL_NAMES[level] ?? level} ${msg ?? ""}${fields ? ` ${fields}` : ""}${stack}\n`,
      );
    },
  };
}

/**
 * Standard output, written without blocking: a line goes out as soon as the previous write
 * is done, and lines logged meanwhile go out together (one write a request cost a tenth of
 * the request throughput). Whatever is still buffered is written when the process exits.
 */
function stdoutLines(): DestinationStream {
  // Bounded: if whatever reads standard output stalls, lines beyond 8 MB are dropped rather
  // than filling the heap.
  return pino.destination({ dest: 1, sync: false, maxLength: 8 * 1024 * 1024 });
}

/** The process's logger: JSON lines (or readable ones on a terminal), secrets scrubbed. */
export function createLogger(options: LoggerOptions): Logger {
  const pretty = options.pretty ?? process.stdout.isTTY === true;
  const out = options.destination ?? (pretty ? process.stdout : stdoutLines());
  const scrub = scrubber(options.secrets);
  return pino(
    {
      level: options.level,
      base: { pid: process.pid },
      hooks: { streamWrite: scrub },
      serializers: { err: pino.stdSerializers.err },
    },
    pretty ? prettyLines(out) : (out as DestinationStream),
  );
}

const TO_BOLT: Record<Level, LogLevel> = {
  debug: LogLevel.DEBUG,
  info: LogLevel.INFO,
  warn: LogLevel.WARN,
  error: LogLevel.ERROR,
};

export const boltLevel = (level: Level): LogLevel => TO_BOLT[level];

/** Bolt (and its Socket Mode client) log through this adapter into the process's logger. */
export function boltLogger(logger: Logger, name = "bolt"): BoltLogger {
  const child = logger.child({ name });
  const write =
    (level: Level) =>
    (...parts: unknown[]) => {
      if (!child.isLevelEnabled(level)) return;
      const err = parts.find((p): p is Error => p instanceof Error);
      const text = parts
        .filter((p) => p !== err)
        .map((p) => (typeof p === "string" ? p : JSON.stringify(p)))
        .join(" ");
      if (err) child[level]({ err }, text || err.message);
      else child[level](text);
    };
  return {
    debug: write("debug"),
    info: write("info"),
    warn: write("warn"),
    error: write("error"),
    setLevel(level: LogLevel) {
      child.level = level;
    },
    getLevel: () => child.level as LogLevel,
    setName() {},
  };
}

/** knex's own messages: its warnings carry stack traces, so they go to the debug log. */
export function knexLog(logger: Logger) {
  const child = logger.child({ name: "knex" });
  return {
    warn: (message: unknown) => child.debug(String(message)),
    error: (message: unknown) => child.error(String(message).split("\n")[0]),
    deprecate: (message: unknown) => child.debug(String(message)),
    debug: (message: unknown) => child.debug(String(message)),
  };
}
