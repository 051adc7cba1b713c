import { type FakeSlack, startFakeSlack } from "../test/helpers/fake-slack.js";
import { type SlackRequest, slashCommand } from "../test/helpers/slack-requests.js";
import { benchInstanceId, createBenchDb, fund, seedInstances } from "./lib/db.js";
import { type LoadResult, runLoad } from "./lib/load.js";
import type { BenchOptions } from "./lib/options.js";
import {
  BARE_MAIN,
  QUIET_CRON,
  type Server,
  SIGNING_SECRET,
  spawnServer,
  waitForHttp,
} from "./lib/proc.js";
import { type ReplySink, startReplySink } from "./lib/sink.js";
import { fmt, judge, load1, pct, percentile, printTable } from "./lib/table.js";

/** How long the bot takes to answer GET /healthz (which runs `select 1`). */
async function healthzMs(server: Server): Promise<number> {
  const start = performance.now();
  const res = await fetch(`${server.url}/healthz`);
  await res.arrayBuffer();
  return performance.now() - start;
}

/** What the work after `/kms renew`'s ack achieved: opening the modal. */
interface ModalOutcome {
  acked: number;
  opened: number;
  /** Opened within 1 s of the acknowledgement reaching the client. */
  inTime: number;
  failed: Record<string, number>;
  lagP50: number;
  lagP99: number;
  drainS: number;
}

/**
 * The renewals sent and when each was acknowledged (by trigger id), and the modals the fake
 * Slack saw opened for them.
 */
class ModalTracker {
  readonly #ackedAt = new Map<string, number>();
  #callsSeen = 0;
  constructor(
    private readonly fake: FakeSlack,
    private readonly bot: Server,
  ) {}

  answered(request: SlackRequest, status: number): void {
    const trigger = new URLSearchParams(request.body).get("trigger_id");
    if (trigger && status >= 200 && status < 300) this.#ackedAt.set(trigger, Date.now());
  }

  /** views.open calls answered since the last drain, for renewals whose ack was seen. */
  #calls() {
    return this.fake.calls
      .slice(this.#callsSeen)
      .filter(
        (c) =>
          c.method === "views.open" &&
          c.status !== undefined &&
          this.#ackedAt.has(String(c.args.trigger_id)),
      );
  }

  /** Waits until every acknowledged renewal reached views.open, or nothing moved for 1 s. */
  async drain(): Promise<ModalOutcome> {
    const start = performance.now();
    let last = -1;
    let stableSince = start;
    for (;;) {
      const n = this.#calls().length;
      if (n !== last) [last, stableSince] = [n, performance.now()];
      const now = performance.now();
      if (n >= this.#ackedAt.size || now - start > 120_000) break;
      // Quiet for a second and the bot answers /healthz (a query) promptly: its queue is empty.
      if (now - stableSince > 1_000 && (await healthzMs(this.bot)) < 100) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const calls = this.#calls();
    this.#callsSeen = this.fake.calls.length;
    const failed: Record<string, number> = {};
    const lags: number[] = [];
    let opened = 0;
    let inTime = 0;
    for (const call of calls) {
      const ackedAt = this.#ackedAt.get(String(call.args.trigger_id)) ?? 0;
      const ok = call.response?.ok === true;
      lags.push(call.at - ackedAt);
      if (ok) opened++;
      if (ok && call.at - ackedAt <= 1_000) inTime++;
      if (!ok) {
        const error = String(call.response?.error ?? "no answer");
        failed[error] = (failed[error] ?? 0) + 1;
      }
    }
    const acked = this.#ackedAt.size;
    if (lags.length < acked) failed["never called"] = acked - lags.length;
    this.#ackedAt.clear();
    const drainS = (performance.now() - start) / 1000;
    return {
      acked,
      opened,
      inTime,
      failed,
      lagP50: percentile(lags, 50),
      lagP99: percentile(lags, 99),
      drainS,
    };
  }
}

/** `/kms status` answers: acknowledged, then the fleet list posted to the response_url. */
interface ReplyOutcome {
  acked: number;
  delivered: number;
  wrong: number;
  kbEach: number;
}

class ReplyTracker {
  #acked = 0;
  #seen = { received: 0, wrong: 0, bytes: 0 };
  constructor(readonly sink: ReplySink) {}

  answered(status: number): void {
    if (status >= 200 && status < 300) this.#acked++;
  }

  /** Waits (up to 10 s) for the answers of the acknowledged requests, then counts them. */
  async drain(): Promise<ReplyOutcome> {
    const deadline = performance.now() + 10_000;
    const delivered = () => this.sink.received - this.#seen.received;
    while (delivered() < this.#acked && performance.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    const n = delivered();
    const outcome = {
      acked: this.#acked,
      delivered: n,
      wrong: this.sink.wrong - this.#seen.wrong,
      kbEach: n ? (this.sink.bytes - this.#seen.bytes) / n / 1024 : 0,
    };
    this.#seen = { received: this.sink.received, wrong: this.sink.wrong, bytes: this.sink.bytes };
    this.#acked = 0;
    return outcome;
  }
}

interface Row {
  name: string;
  result: LoadResult;
  /** The bare app's answers per second and p99 in the runs just before and after. */
  bareRps: number;
  bareP99: number;
  load: string;
}

type Kind = "help" | "status" | "renew";

/**
 * 1. Acknowledgement latency and throughput of signed `/kms help`, `/kms status` and
 * `/kms renew <id>`, each run between two runs of a bare Bolt app that only acks (its
 * baseline), at 1, 10 and 50 connections; and for each renewal, its modal after the ack.
 */
export async function ackBench(options: BenchOptions): Promise<void> {
  const fleetSize = options.quick ? 200 : 10_000;
  const seconds = (connections: number) => (options.quick ? 0.5 : connections === 50 ? 6 : 3);
  console.log(
    `\n## 1. Acknowledgement (SQLite, ${fmt(fleetSize, 0)} instances, ${seconds(50)} s per run at 50 connections, ${seconds(1)} s at 1 and 10; ` +
      `each kms-bot run between two bare-app runs;\n   bot and bare app each a separate process; autocannon and the fake Slack in the bench process)`,
  );
  const fake = await startFakeSlack();
  const sink = await startReplySink((r) => {
    const reply = r as { text?: unknown; blocks?: unknown };
    return (
      String(reply.text).includes(`${fleetSize} Dedicated KMS instance(s)`) &&
      Array.isArray(reply.blocks) &&
      reply.blocks.length > 2
    );
  });
  const bench = await createBenchDb("sqlite", { name: "ack" });
  const servers: Server[] = [];
  try {
    await seedInstances(bench.db, { count: fleetSize, dueEvery: 0, now: Date.now() });
    await fund(bench.db, 1_000_000);
    await bench.closeHandles();
    const bare = await spawnServer({ main: BARE_MAIN, slackApiUrl: fake.url, name: "bare" });
    servers.push(bare);
    const bot = await spawnServer({
      databaseUrl: bench.url,
      slackApiUrl: fake.url,
      name: "bot-ack",
      cpuProfDir: options.cpuProfDir,
    });
    servers.push(bot);
    await Promise.all([waitForHttp(bare, "/healthz"), waitForHttp(bot, "/healthz")]);
    const modals = new ModalTracker(fake, bot);
    const replies = new ReplyTracker(sink);
    let seq = 0;
    const requests: Record<Kind, () => SlackRequest> = {
      help: () => slashCommand({ text: "help", triggerId: `bench.${++seq}.${Date.now()}` }),
      status: () =>
        slashCommand({
          text: "status",
          triggerId: `bench.${++seq}.${Date.now()}`,
          responseUrl: sink.url(seq),
        }),
      renew: () =>
        slashCommand({
          text: `renew ${benchInstanceId(++seq % fleetSize)}`,
          triggerId: fake.newTriggerId(),
          responseUrl: fake.newResponseUrl(),
        }),
    };
    const checks: Record<Kind, (body: string) => boolean> = {
      help: (b) => b.includes("/kms"),
      status: (b) => b === "" || b.includes(`${fleetSize} Dedicated KMS instance(s)`),
      renew: (b) => !b.includes("already handled"),
    };
    const load = (server: Server, kind: Kind, connections: number, s: number) =>
      runLoad({
        url: server.url,
        connections,
        durationS: s,
        next: requests[kind],
        signingSecret: SIGNING_SECRET,
        check: server === bot ? checks[kind] : undefined,
        onAnswer:
          server !== bot
            ? undefined
            : kind === "renew"
              ? (r, st) => modals.answered(r, st)
              : kind === "status"
                ? (_r, st) => replies.answered(st)
                : undefined,
      });
    // Warm-up (JIT, the bot's one auth.test), not reported.
    const warm = options.quick ? 0.5 : 2;
    await load(bare, "status", 10, warm);
    for (const kind of ["help", "status", "renew"] as const) await load(bot, kind, 10, warm);
    await modals.drain();
    await replies.drain();

    const { rows, modalRows, replyRows } = await interleaved(
      (target, kind, connections, s) => load(target === "bare" ? bare : bot, kind, connections, s),
      { modals, replies },
      seconds,
    );
    report(rows, modalRows, replyRows);
  } finally {
    for (const s of servers) await s.stop();
    await sink.close();
    await fake.close();
    await bench.destroy();
  }
}

type Load = (
  target: "bare" | "bot",
  kind: Kind,
  connections: number,
  seconds: number,
) => Promise<LoadResult>;

/**
 * At 1, 10 and 50 connections: bare, help, bare, status, bare, renew, bare; each kms-bot row
 * against the mean of the bare runs around it.
 */
async function interleaved(
  load: Load,
  { modals, replies }: { modals: ModalTracker; replies: ReplyTracker },
  seconds: (connections: number) => number,
): Promise<{
  rows: Row[];
  modalRows: Array<[number, ModalOutcome]>;
  replyRows: Array<[number, ReplyOutcome]>;
}> {
  const rows: Row[] = [];
  const modalRows: Array<[number, ModalOutcome]> = [];
  const replyRows: Array<[number, ReplyOutcome]> = [];
  for (const connections of [1, 10, 50]) {
    const s = seconds(connections);
    let before = await load("bare", "status", connections, s);
    rows.push({
      name: "bare Bolt app",
      result: before,
      bareRps: before.rps,
      bareP99: before.p99,
      load: load1(),
    });
    for (const kind of ["help", "status", "renew"] as const) {
      const result = await load("bot", kind, connections, s);
      if (kind === "renew") modalRows.push([connections, await modals.drain()]);
      if (kind === "status") replyRows.push([connections, await replies.drain()]);
      const after = await load("bare", "status", connections, s);
      rows.push({
        name: kind === "renew" ? "/kms renew <id>" : `/kms ${kind}`,
        result,
        bareRps: (before.rps + after.rps) / 2,
        bareP99: (before.p99 + after.p99) / 2,
        load: load1(),
      });
      before = after;
    }
  }
  return { rows, modalRows, replyRows };
}

/** Prints the tables, judges the targets, and fails on refused or wrong answers. */
function report(
  rows: Row[],
  modalRows: Array<[number, ModalOutcome]>,
  replyRows: Array<[number, ReplyOutcome]>,
): void {
  const problems: string[] = [];
  let broken = 0;
  printTable(
    "Acknowledgement: answers per second and latency until Slack gets the HTTP answer (the ack); ratios against the bare runs around each row",
    [
      "request",
      "conns",
      "req/s",
      "p50 ms",
      "p99 ms",
      "max ms",
      "vs bare",
      "bare req/s",
      "p99 / bare",
      "404/other/err/wrong",
      "load",
    ],
    rows.map(({ name, result: r, bareRps, bareP99, load }) => {
      broken += r.otherNon2xx + r.wrong;
      if (r.otherNon2xx + r.errors + r.wrong > 0)
        problems.push(
          `${name}: ${r.otherNon2xx} non-2xx other than 404, ${r.errors} errors, ${r.wrong} wrong bodies`,
        );
      return [
        name,
        fmt(r.connections, 0),
        fmt(r.rps, 1),
        fmt(r.p50, 2),
        fmt(r.p99, 2),
        fmt(r.max, 1),
        pct(r.rps / bareRps),
        fmt(bareRps, 1),
        fmt(r.p99 / bareP99, 1),
        `${r.notAcked}/${r.otherNon2xx}/${r.errors}/${r.wrong}`,
        load,
      ];
    }),
  );
  printTable(
    "/kms renew after its ack: views.open against the fake Slack (trigger ids live 3 s, as on Slack)",
    [
      "conns",
      "acked",
      "opened",
      "within 1 s of ack",
      "views.open failed",
      "ack->open p50 ms",
      "p99 ms",
      "drain s",
    ],
    modalRows.map(([connections, m]) => [
      connections,
      m.acked,
      m.opened,
      m.inTime,
      Object.entries(m.failed)
        .map(([e, n]) => `${n} ${e}`)
        .join(", ") || "none",
      fmt(m.lagP50, 1),
      fmt(m.lagP99, 1),
      fmt(m.drainS, 1),
    ]),
  );
  printTable(
    "/kms status after its ack: the fleet list posted to the response_url (every 100th parsed and checked)",
    ["conns", "acked", "answered", "wrong", "KB each"],
    replyRows.map(([connections, r]) => {
      if (r.wrong > 0 || r.delivered < r.acked)
        problems.push(
          `/kms status at ${connections}: ${r.delivered} of ${r.acked} answered, ${r.wrong} wrong`,
        );
      broken += r.wrong;
      return [connections, r.acked, r.delivered, r.wrong, fmt(r.kbEach, 1)];
    }),
  );
  console.log(
    "404 = Bolt's own answer when a listener has not acknowledged within 3 s (Slack would show the person an error);\n" +
      "req/s counts 2xx answers only; latencies include every answer. 'other' non-2xx (e.g. 401) would mean a broken benchmark.\n" +
      `(The bot is \`node dist-bench/src/main.js\` with KMS_SWEEP_CRON="${QUIET_CRON}" so no sweep runs during the measurement.)`,
  );
  for (const p of problems) console.log(`! ${p}`);
  judgeAck(rows, modalRows);
  const acked = replyRows.reduce((n, [, r]) => n + r.acked, 0);
  const answered = replyRows.reduce((n, [, r]) => n + r.delivered, 0);
  judge(
    "1. ack",
    "every acknowledged /kms status answered at its response_url (1, 10, 50 connections)",
    `${fmt(answered, 0)} of ${fmt(acked, 0)}`,
    acked > 0 && answered >= acked,
  );
  // Refused (non-2xx) or wrong answers mean the benchmark itself is broken (signing, replays).
  if (broken > 0)
    throw new Error(`acknowledgement benchmark: ${broken} refused or wrong answer(s)`);
}

function judgeAck(rows: Row[], modalRows: Array<[number, ModalOutcome]>): void {
  const at50 = rows.filter((r) => r.result.connections === 50);
  for (const { name, result: r, bareRps } of at50) {
    const floor = name === "/kms help" ? 0.8 : name === "bare Bolt app" ? undefined : 0.5;
    if (floor === undefined) continue;
    const ratio = r.rps / bareRps;
    judge(
      "1. ack",
      `${name}: >= ${floor * 100}% of bare throughput at 50 connections`,
      `${pct(ratio)} (${fmt(r.rps, 1)} vs ${fmt(bareRps, 1)} req/s)`,
      ratio >= floor,
    );
    if (name !== "/kms help")
      judge(
        "1. ack",
        `${name}: p99 < 100 ms at 50 connections`,
        `${fmt(r.p99, 1)} ms`,
        r.p99 < 100,
      );
  }
  const acked = modalRows.reduce((n, [, m]) => n + m.acked, 0);
  const inTime = modalRows.reduce((n, [, m]) => n + m.inTime, 0);
  judge(
    "1. ack",
    "every renew modal opened within 1 s of its ack (1, 10, 50 connections)",
    `${fmt(inTime, 0)} of ${fmt(acked, 0)}`,
    acked > 0 && inTime === acked,
  );
}
