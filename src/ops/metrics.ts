import type { IncomingMessage, ServerResponse } from "node:http";
import type { FetchFunction } from "@slack/web-api";
import type { Knex } from "knex";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { ordersByKind, refundsByOrderKind, type Tally, warningBacklog } from "../store/ops.js";
import type { SweepSummary } from "../timer/sweep.js";
import type { SlackLink } from "./health.js";

export type RequestOutcome = "ok" | "error";

export interface Metrics {
  readonly registry: Registry;
  request(kind: string, outcome: RequestOutcome, seconds: number): void;
  slackError(method: string, error: string): void;
  sweep(outcome: SweepSummary | Error, seconds: number): void;
}

export interface MetricsOptions {
  db: Knex;
  link: SlackLink;
  /** Wall clock for "last sweep" timestamps. */
  now?: () => number;
  /** Node's process metrics (memory, CPU, event loop); off in tests, which build many apps. */
  processMetrics?: boolean;
}

/**
 * One database read shared by the gauges that show parts of it: they are collected together
 * when Prometheus scrapes. A failed read leaves the gauges at their last values.
 */
function sharedRead<T>(read: () => Promise<T>): () => Promise<T | undefined> {
  let pending: Promise<T | undefined> | undefined;
  return () => {
    pending ??= read()
      .catch(() => undefined)
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
}

function gauge<T>(
  registry: Registry,
  name: string,
  help: string,
  read: () => Promise<T | undefined>,
  show: (g: Gauge, value: T) => void,
  labelNames: string[] = [],
): void {
  new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    async collect() {
      const value = await read();
      if (value !== undefined) show(this, value);
    },
  });
}

/** Gauges read from the database when Prometheus scrapes. */
function databaseGauges(registry: Registry, db: Knex, now: () => number): void {
  const warnings = sharedRead(() => warningBacklog({ tx: db }, now()));
  gauge(
    registry,
    "kms_warnings_due",
    "Pending warnings due now and not held back by a retry backoff",
    warnings,
    (g, w) => g.set(w.due),
  );
  gauge(
    registry,
    "kms_warnings_backlog",
    "Pending warnings whose time has come, including those waiting to be retried",
    warnings,
    (g, w) => g.set(w.backlog),
  );
  const tallies = (name: string, help: string, label: string, read: typeof ordersByKind) => {
    const rows = sharedRead(() => read({ tx: db }));
    const each = (field: "count" | "cents") => (g: Gauge, list: Tally[]) => {
      for (const row of list) g.set({ [label]: row.kind }, row[field]);
    };
    gauge(registry, name, help, rows, each("count"), [label]);
    gauge(registry, `${name}_cents`, `${help}: amount in cents`, rows, each("cents"), [label]);
  };
  tallies("kms_orders", "Orders in the database by kind", "kind", ordersByKind);
  tallies(
    "kms_refunds",
    "Refunds in the ledger by the kind of order refunded",
    "order_kind",
    refundsByOrderKind,
  );
}

/** The timer's metrics: runs by outcome, duration, last success, warnings sent and failed. */
function sweepMetrics(registry: Registry, now: () => number): Metrics["sweep"] {
  const sweeps = new Counter({
    name: "kms_sweep_runs_total",
    help: "Expiry timer sweeps, by outcome (ok, skipped: another replica held the lease, failed)",
    labelNames: ["outcome"],
    registers: [registry],
  });
  const sweepSeconds = new Histogram({
    name: "kms_sweep_duration_seconds",
    help: "How long a sweep took",
    buckets: [0.1, 0.5, 1, 5, 15, 60, 300],
    registers: [registry],
  });
  const lastSweep = new Gauge({
    name: "kms_sweep_last_success_timestamp_seconds",
    help: "When this process last completed a sweep (not skipped, not failed), Unix time",
    registers: [registry],
  });
  const warningsSent = new Counter({
    name: "kms_warnings_sent_total",
    help: "Warnings and receipts the timer posted to Slack",
    registers: [registry],
  });
  const warningsFailed = new Counter({
    name: "kms_warnings_failed_total",
    help: "Posts the timer tried and Slack refused or did not answer (they stay due)",
    registers: [registry],
  });
  return (outcome, seconds) => {
    if (outcome instanceof Error) {
      sweeps.inc({ outcome: "failed" });
      return;
    }
    sweeps.inc({ outcome: outcome.skipped ? "skipped" : "ok" });
    if (outcome.skipped) return;
    sweepSeconds.observe(seconds);
    lastSweep.set(now() / 1000);
    warningsSent.inc(outcome.posted);
    warningsFailed.inc(outcome.failed);
  };
}

/** The bot's Prometheus metrics, in a registry of its own. */
export function createMetrics({
  db,
  link,
  now = Date.now,
  processMetrics,
}: MetricsOptions): Metrics {
  const registry = new Registry();
  if (processMetrics) collectDefaultMetrics({ register: registry });
  const labels = ["kind", "outcome"] as const;
  const requests = new Counter({
    name: "kms_requests_total",
    help: "Slack requests handled, by kind (command, action, view, options, event) and outcome",
    labelNames: labels,
    registers: [registry],
  });
  const latency = new Histogram({
    name: "kms_request_duration_seconds",
    help: "Time to handle a Slack request (acknowledgement and the work after it)",
    labelNames: labels,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const slackErrors = new Counter({
    name: "kms_slack_api_errors_total",
    help: "Slack Web API calls that failed, by method and error (Slack's code, http_<status>, network)",
    labelNames: ["method", "error"],
    registers: [registry],
  });
  const recordSweep = sweepMetrics(registry, now);
  databaseGauges(registry, db, now);
  if (link.mode === "socket") {
    new Gauge({
      name: "kms_slack_socket_connected",
      help: "1 while the Socket Mode connection to Slack is up, else 0",
      registers: [registry],
      collect() {
        this.set(link.isUp ? 1 : 0);
      },
    });
  }
  // The children of each (kind, outcome), looked up once: prom-client hashes the labels on
  // every call otherwise.
  const byLabels = new Map<
    string,
    { count: { inc(): void }; time: { observe(s: number): void } }
  >();
  return {
    registry,
    request(kind, outcome, seconds) {
      const key = `${kind}\n${outcome}`;
      let children = byLabels.get(key);
      if (!children) {
        children = {
          count: requests.labels({ kind, outcome }),
          time: latency.labels({ kind, outcome }),
        };
        byLabels.set(key, children);
      }
      children.count.inc();
      children.time.observe(seconds);
    },
    slackError: (method, error) => slackErrors.inc({ method, error }),
    sweep: recordSweep,
  };
}

/** `GET /metrics` in Prometheus's text format. */
export function metricsRoute(metrics: Metrics) {
  return async (_req: IncomingMessage, res: ServerResponse) => {
    const text = await metrics.registry.metrics();
    res.writeHead(200, { "content-type": metrics.registry.contentType });
    res.end(text);
  };
}

/** The Web API method a request goes to (`chat.postMessage`), or `upload` for file uploads. */
function methodOf(url: string | URL): string {
  const path = new URL(String(url)).pathname;
  const at = path.lastIndexOf("/api/");
  return at >= 0 ? path.slice(at + "/api/".length) : "upload";
}

/** A fetch for WebClient that counts every failed call in `metrics`. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function countingFetch(metrics: Metrics): FetchFunction {
  return async (url, init) => {
    const method = methodOf(url);
    let response: Response;
    try {
      response = await fetch(url, init as RequestInit);
    } catch (error) {
      metrics.slackError(method, "network");
      throw error;
    }
    if (!response.ok) {
      metrics.slackError(method, `http_${response.status}`);
      return response;
    }
    if (!response.headers.get("content-type")?.includes("json")) return response;
    // Read once and handed on as read: cloning the body and parsing it a second time cost
    // more than the call itself for a modal's answer. Only an answer that may be a refusal
    // is parsed here.
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      metrics.slackError(method, "network");
      // Handed on failing as it failed: the client meets the error where it would have (when
      // it reads the body, after its retries), so a call Slack may have done is not repeated.
      const failing = new ReadableStream({ start: (c) => c.error(error) });
      return new Response(failing, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      });
    }
    if (/"ok"\s*:\s*false/.test(text)) {
      const body = parseJson(text) as { ok?: unknown; error?: unknown } | undefined;
      if (body?.ok === false) metrics.slackError(method, String(body.error ?? "unknown"));
    }
    return new Response(text, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}
