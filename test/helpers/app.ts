import type { Knex } from "knex";
import { createApp, type KmsBot } from "../../src/app.js";
import type { BillingContext } from "../../src/billing/context.js";
import { loadBotConfig } from "../../src/config.js";
import { ADMIN, billingContext, T0, type TestClock } from "./billing.js";
import { createTestDatabase, type DatabaseId, type TestDatabase } from "./databases.js";
import {
  checkMessage,
  type FakeSlack,
  type FakeSlackOptions,
  type JsonObject,
  startFakeSlack,
} from "./fake-slack.js";
import { type FakeSocket, startFakeSocket } from "./fake-socket.js";
import { currentShownPrice } from "./forms.js";
import {
  type AppResponse,
  type BlockActionOptions,
  blockAction,
  eventCallback,
  postToApp,
  SLACK_TEST_IDS,
  type SlackRequest,
  slashCommand,
  type ViewSubmissionOptions,
  viewSubmission,
} from "./slack-requests.js";

export const SIGNING_SECRET = "test-signing-secret-0123456789";
export const ALERT_CHANNEL = "C0ALERTS";
export const MEMBER_ID = SLACK_TEST_IDS.userId;

export interface TestBot {
  bot: KmsBot;
  /** Base URL of the running app (`http://127.0.0.1:<port>`). */
  url: string;
  fake: FakeSlack;
  /** With `socket: true`: the Socket Mode endpoint the bot is connected to (send through it). */
  socket?: FakeSocket;
  t: TestDatabase;
  db: Knex;
  clock: TestClock;
  billing: BillingContext;
  send(request: SlackRequest, options?: { headers?: Record<string, string> }): Promise<AppResponse>;
  /** Runs `/kms <text>` as `userId`; checks the synchronous reply against Block Kit limits. */
  command(text: string, userId?: string): Promise<AppResponse & { reply: Record<string, unknown> }>;
  click(options: BlockActionOptions): Promise<AppResponse>;
  submit(options: ViewSubmissionOptions): Promise<AppResponse>;
  event(event: Record<string, unknown>, headers?: Record<string, string>): Promise<AppResponse>;
  close(): Promise<void>;
}

/**
 * The real Bolt app over real HTTP on a free port, with a fresh database, a fixed clock and
 * a fake Slack Web API. Billing admins: `ADMIN`. With `replicaOf`, a second replica: another
 * app (and its own database handle) on the other bot's database and fake Slack; its `close`
 * stops only itself.
 */
export async function startTestBot(
  options: {
    db?: DatabaseId;
    slack?: FakeSlackOptions;
    env?: Record<string, string>;
    /** Run in Socket Mode against a fake socket endpoint (`url` then serves only /healthz, /metrics). */
    socket?: boolean;
    /** The clock moves 1 ms on every reading (as a real clock does between two reads). */
    tickingClock?: boolean;
    /** A second bot process on `replicaOf`'s database and fake Slack (closing it leaves them). */
    replicaOf?: TestBot;
  } = {},
): Promise<TestBot> {
  const replicaOf = options.replicaOf;
  const fake = replicaOf?.fake ?? (await startFakeSlack(options.slack));
  const socket = options.socket ? await startFakeSocket(fake) : undefined;
  const t = replicaOf?.t ?? (await createTestDatabase(options.db ?? "sqlite"));
  const db = replicaOf ? t.another() : t.db;
  const config = loadBotConfig({
    SLACK_BOT_TOKEN: fake.botToken,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: fake.url,
    DATABASE_URL: t.url,
    KMS_ADMIN_USERS: ADMIN,
    KMS_ALERT_CHANNEL: ALERT_CHANNEL,
    KMS_TIMEZONE: "UTC",
    LOG_LEVEL: "warn",
    ...(socket ? { SLACK_APP_TOKEN: fake.appToken } : {}),
    ...options.env,
  });
  const billing = billingContext(db, T0);
  if (options.tickingClock) billing.clock = ticking(billing.clock);
  const bot = createApp(config, { db, clock: billing.clock, schedule: false });
  const port = await bot.start(0);
  const url = `http://127.0.0.1:${port}`;
  const send = (request: SlackRequest, o: { headers?: Record<string, string> } = {}) =>
    postToApp(url, request, { signingSecret: SIGNING_SECRET, headers: o.headers });
  return {
    bot,
    url,
    fake,
    socket,
    t,
    db,
    clock: billing.clock,
    billing: { ...billing, envAdmins: config.KMS_ADMIN_USERS },
    send,
    async command(text, userId = MEMBER_ID) {
      const triggerId = fake.newTriggerId();
      const responseUrl = fake.newResponseUrl();
      const response = await send(slashCommand({ text, userId, triggerId, responseUrl }));
      const reply =
        response.text === "" ? await answerTo(fake, triggerId, responseUrl) : replyOf(response);
      const issues = checkMessage(reply);
      if (issues.length > 0) {
        throw new Error(
          `reply to "/kms ${text}" breaks Block Kit limits: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`,
        );
      }
      return { ...response, reply };
    },
    click: (o) =>
      send(
        blockAction({ triggerId: fake.newTriggerId(), responseUrl: fake.newResponseUrl(), ...o }),
      ),
    // A submission without its view or metadata is of a modal that showed today's price.
    submit: async (o) =>
      send(
        viewSubmission(
          o.view || o.privateMetadata !== undefined
            ? o
            : { ...o, privateMetadata: await currentShownPrice(billing, o.callbackId, o.values) },
        ),
      ),
    event: (event, headers) => send(eventCallback({ event }), { headers }),
    async close() {
      await bot.stop();
      await socket?.close();
      if (replicaOf) return;
      await fake.close();
      await t.destroy();
    },
  };
}

function ticking(clock: TestClock): TestClock {
  const moving = () => {
    clock.advance(1);
    return clock();
  };
  return Object.assign(moving, { set: clock.set, advance: clock.advance });
}

function replyOf(response: AppResponse): Record<string, unknown> {
  return (response.json ?? {}) as Record<string, unknown>;
}

/** How long a command may take to answer (the Web API client retries Slack's 429s meanwhile). */
const ANSWER_MS = 10_000;

/**
 * What a command acknowledged empty answered afterwards: its response_url post, or nothing
 * when it opened its modal (`{}`).
 */
async function answerTo(
  fake: FakeSlack,
  triggerId: string,
  responseUrl: string,
): Promise<Record<string, unknown>> {
  const path = new URL(responseUrl).pathname;
  const waits = [
    fake.waitForResponse((r) => r.url.endsWith(path), ANSWER_MS).then((r) => r.body),
    fake
      .waitFor(
        "views.open",
        (c) => c.args.trigger_id === triggerId && c.response?.ok === true,
        ANSWER_MS,
      )
      .then(() => ({})),
  ];
  for (const w of waits) w.catch(() => undefined);
  return Promise.any(waits).catch(() => {
    throw new Error(`no answer to the command (trigger ${triggerId})`);
  });
}

/** All the text a reply shows (its `text` and every block's text), for assertions. */
/**
 * `/kms <text>` delivered over the bot's Socket Mode connection: what the person sees, the ack's
 * own reply or, for a command acknowledged empty, its response_url answer.
 */
export async function socketCommand(
  bot: TestBot,
  text: string,
  userId: string = MEMBER_ID,
  options: { envelopeId?: string } = {},
): Promise<Record<string, unknown>> {
  if (!bot.socket) throw new Error("socketCommand needs startTestBot({ socket: true })");
  const triggerId = bot.fake.newTriggerId();
  const responseUrl = bot.fake.newResponseUrl();
  const request = slashCommand({ text, userId, triggerId, responseUrl });
  const answer = answerTo(bot.fake, triggerId, responseUrl);
  answer.catch(() => undefined);
  const ack = await bot.socket.deliver(request, options);
  if (ack.payload && Object.keys(ack.payload).length > 0) return ack.payload;
  return answer;
}

export function shown(reply: unknown): string {
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (typeof v === "string") return;
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) {
        if (k === "text" && typeof x === "string") out.push(x);
        else walk(x);
      }
    }
  };
  walk(reply);
  return out.join("\n");
}

/** Every element (button, select, ...) with this action_id anywhere in a reply or view. */
export function elementsWith(payload: unknown, actionId: string): JsonObject[] {
  const out: JsonObject[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") {
      const o = v as JsonObject;
      if (o.action_id === actionId) out.push(o);
      Object.values(o).forEach(walk);
    }
  };
  walk(payload);
  return out;
}
