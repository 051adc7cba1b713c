/**
 * Shared pieces of the expiry-timer suites: settings, views of what the fake Slack received,
 * and the warnings outbox as rows.
 */
import type { Knex } from "knex";
import { type WarningRow, warningRow } from "../../src/store/rows.js";
import { WARNING_EVENT } from "../../src/timer/poster.js";
import type { SweepOptions, SweepSettings } from "../../src/timer/sweep.js";
import type { TestDatabase } from "../helpers/databases.js";
import type { FakeSlack, RecordedCall } from "../helpers/fake-slack.js";

export const ALERTS = "C0ALERTS";
export const OWNER = "U0OWNER1";
export const HOUR = 3_600_000;
export const MINUTE = 60_000;

export const SETTINGS: SweepSettings = {
  warnDays: [30, 14, 7, 3, 1],
  releaseWarnDays: [7, 3, 1],
  alertChannel: ALERTS,
};

/** No real waiting between posts to one channel. */
export const NO_SLEEP: SweepOptions = { sleep: async () => {} };

export const iso = (ms: number): string => new Date(ms).toISOString();

/** chat.postMessage calls Slack answered `ok`. */
export function okPosts(fake: FakeSlack): RecordedCall[] {
  return fake.callsTo("chat.postMessage").filter((c) => c.response?.ok === true);
}

/** The posts about one instance: every timer message names it as `*<id>*` in its text. */
export function postsAbout(fake: FakeSlack, instanceId: string): RecordedCall[] {
  return okPosts(fake).filter((c) => String(c.args.text).includes(`*${instanceId}*`));
}

/** The emoji a timer message starts with (which kind of warning it is). */
export function emojiOf(call: RecordedCall): string {
  return String(call.args.text).split(" ")[0] ?? "";
}

/** The warning id a posted message is tagged with (message metadata), if any. */
export function taggedWarningId(metadata: unknown): string | undefined {
  if (typeof metadata !== "object" || metadata === null) return undefined;
  const m = metadata as { event_type?: unknown; event_payload?: Record<string, unknown> };
  if (m.event_type !== WARNING_EVENT) return undefined;
  const id = m.event_payload?.warning_id;
  return id === undefined ? undefined : String(id);
}

/** How many ok posts each warning id got, read from the metadata of the posts. */
export function postsPerWarningId(fake: FakeSlack): Map<string, number> {
  const counts = new Map<string, number>();
  for (const call of okPosts(fake)) {
    const id = taggedWarningId(call.args.metadata);
    if (id !== undefined) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

export async function warnings(db: Knex): Promise<WarningRow[]> {
  const rows = await db("warnings").orderBy("id");
  return rows.map((r) => warningRow.parse(r));
}

export async function warningOf(
  db: Knex,
  instanceId: string,
  kind?: WarningRow["kind"],
): Promise<WarningRow> {
  const found = (await warnings(db)).filter(
    (w) => w.instance_id === instanceId && (kind === undefined || w.kind === kind),
  );
  const last = found.at(-1);
  if (!last) throw new Error(`no ${kind ?? ""} warning for ${instanceId}`);
  return last;
}

/** Audit entries the timer wrote, as `action subject` strings. */
export async function timerAudit(db: Knex): Promise<string[]> {
  const rows = await db("audit_log").where({ actor: "timer" }).orderBy("id");
  return rows.map((r) => `${r.action} ${r.subject}`);
}

export async function count(db: Knex, table: string): Promise<number> {
  const row = await db(table).count({ n: "*" }).first();
  return Number(row?.n ?? 0);
}

/** The environment `kms-bot sweep` needs to reach this database and the fake Slack. */
export function cliEnv(t: TestDatabase, fake: FakeSlack): Record<string, string> {
  return {
    DATABASE_URL: t.processUrl,
    KMS_TIMEZONE: "UTC",
    SLACK_BOT_TOKEN: fake.botToken,
    SLACK_API_URL: fake.url,
    KMS_ALERT_CHANNEL: ALERTS,
  };
}

/** Counts occurrences of each value. */
export function tally(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}
