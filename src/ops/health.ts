import type { IncomingMessage, ServerResponse } from "node:http";
import type { Knex } from "knex";
import { dialectOf } from "../store/db.js";
import { probeWritable } from "../store/ops.js";

/** How long Slack may be away before /healthz says so with a 503 (a refresh takes ~1 s). */
export const SLACK_GRACE_MS = 10_000;
/** How long the health query waits for the database (SQLite: for its write lock). */
export const DATABASE_WAIT_MS = 1_000;

/**
 * Whether the bot can reach Slack: in Socket Mode, whether the socket is connected; over HTTP,
 * whether the bot token has been verified (auth.test). Starts down until told otherwise.
 */
export class SlackLink {
  private downSince: number | undefined;
  private readonly listeners: Array<(up: boolean) => void> = [];

  constructor(
    readonly mode: "socket" | "http",
    private readonly now: () => number = Date.now,
  ) {
    this.downSince = now();
  }

  get isUp(): boolean {
    return this.downSince === undefined;
  }

  /** Since when it has been down (epoch ms), or undefined when up. */
  get since(): number | undefined {
    return this.downSince;
  }

  up(): void {
    this.downSince = undefined;
    for (const listener of this.listeners) listener(true);
  }

  down(): void {
    this.downSince ??= this.now();
    for (const listener of this.listeners) listener(false);
  }

  onChange(listener: (up: boolean) => void): void {
    this.listeners.push(listener);
  }

  /** Down for longer than `graceMs`. */
  isDownFor(graceMs: number): boolean {
    return this.downSince !== undefined && this.now() - this.downSince > graceMs;
  }
}

export type DatabaseState = { state: "ok" } | { state: "busy" } | { state: "error"; error: string };

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return code === "SQLITE_BUSY" || code === "SQLITE_LOCKED";
}

/** Asks the database, giving up after about `waitMs` (a lock held elsewhere, a full pool). */
export async function probeDatabase(db: Knex, waitMs = DATABASE_WAIT_MS): Promise<DatabaseState> {
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<DatabaseState>((resolve) => {
    timer = setTimeout(() => resolve({ state: "busy" }), waitMs + 250);
  });
  const asked = probeWritable({ tx: db }, waitMs).then(
    (): DatabaseState => ({ state: "ok" }),
    (error): DatabaseState =>
      isBusy(error) ? { state: "busy" } : { state: "error", error: String(error) },
  );
  try {
    return await Promise.race([asked, gaveUp]);
  } finally {
    clearTimeout(timer);
  }
}

export interface HealthOptions {
  db: Knex;
  link: SlackLink;
  graceMs?: number;
  /** The Alibaba Cloud account as last seen (KMS_PROVIDER=alibaba): reported, never fatal. */
  account?: () => { ok: boolean; message: string };
}

/**
 * `GET /healthz`: 200 `{ok:true, database}` when the database answers within a second and
 * Slack is reachable; 503 when the database is busy or failing, or Slack has been away for
 * more than 10 s (`slack` says how, `since` since when).
 */
export function healthRoute({ db, link, graceMs = SLACK_GRACE_MS, account }: HealthOptions) {
  return async (_req: IncomingMessage, res: ServerResponse) => {
    const database = await probeDatabase(db);
    const body: Record<string, unknown> = { ok: true, database: dialectOf(db) };
    if (database.state === "busy") Object.assign(body, { ok: false, database: "busy" });
    if (database.state === "error") Object.assign(body, { ok: false, error: database.error });
    if (link.mode === "socket" && link.isUp) body.slack = "connected";
    if (!link.isUp) {
      body.slack = link.mode === "socket" ? "disconnected" : "unreachable";
      body.since = new Date(link.since ?? 0).toISOString();
      if (link.isDownFor(graceMs)) body.ok = false;
    }
    const seen = account?.();
    if (seen) body.alibaba = seen.ok ? "reachable" : seen.message;
    res.writeHead(body.ok ? 200 : 503, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
}
