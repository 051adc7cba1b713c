import autocannon from "autocannon";
import { type SlackRequest, signRequest } from "../../test/helpers/slack-requests.js";
import { percentile } from "./table.js";

export interface LoadOptions {
  /** Base URL of the app, e.g. http://127.0.0.1:3000 */
  url: string;
  connections: number;
  durationS: number;
  /** Builds the next request; called once per request (fresh trigger id, fresh signature). */
  next: () => SlackRequest;
  signingSecret: string;
  /** Checks an answer's body; failures are counted as `wrong`. */
  check?: (body: string) => boolean;
  /** Told of every answer, with the request it answers, when it arrives. */
  onAnswer?: (request: SlackRequest, status: number) => void;
}

export interface LoadResult {
  connections: number;
  /** 2xx answers. */
  ok: number;
  /** 404 answers: Bolt's answer when a listener has not acknowledged within 3 s. */
  notAcked: number;
  /** Other non-2xx answers (401: a bad signature, i.e. a broken benchmark). */
  otherNon2xx: number;
  errors: number;
  timeouts: number;
  /** Answers whose body failed `check`. */
  wrong: number;
  durationS: number;
  /** 2xx answers per second. */
  rps: number;
  /** Latency of every answer (the 404s after 3 s included), ms, sub-millisecond resolution. */
  p50: number;
  p99: number;
  max: number;
}

interface Sent {
  sent?: SlackRequest;
}

/**
 * Runs autocannon against `POST /slack/events`, signing every request as Slack does (its own
 * body, so its own signature: the bot refuses a repeated signature as a replay).
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  let wrong = 0;
  // autocannon keeps one context per connection, and a connection has one request in flight.
  const setupRequest = (request: autocannon.Request, context?: Sent): autocannon.Request => {
    const r = options.next();
    if (context) context.sent = r;
    return {
      ...request,
      method: "POST",
      path: "/slack/events",
      headers: { "content-type": r.contentType, ...signRequest(r.body, options.signingSecret) },
      body: r.body,
    };
  };
  const check = options.check;
  let finish: (error: unknown, result: autocannon.Result) => void = () => undefined;
  const finished = new Promise<autocannon.Result>((resolve, reject) => {
    finish = (error, result) => (error ? reject(error) : resolve(result));
  });
  const instance = autocannon(
    {
      url: options.url,
      connections: options.connections,
      duration: options.durationS,
      timeout: 60,
      requests: [
        {
          setupRequest,
          onResponse: (status: number, body: string, context?: Sent) => {
            if (check && status >= 200 && status < 300 && !check(body)) wrong++;
            if (context?.sent) options.onAnswer?.(context.sent, status);
          },
        },
      ],
    },
    (error, result) => finish(error, result),
  );
  let ok = 0;
  let notAcked = 0;
  instance.on("response", (_client, statusCode, _bytes, responseTime) => {
    latencies.push(responseTime);
    if (statusCode >= 200 && statusCode < 300) ok++;
    else if (statusCode === 404) notAcked++;
  });
  const result = await finished;
  const durationS = result.duration;
  return {
    connections: options.connections,
    ok,
    notAcked,
    otherNon2xx: result.non2xx - notAcked,
    errors: result.errors,
    timeouts: result.timeouts,
    wrong,
    durationS,
    rps: ok / durationS,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: percentile(latencies, 100),
  };
}
