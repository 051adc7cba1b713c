import { Cron } from "croner";
import { z } from "zod";
import { isTimeZone } from "./billing/time.js";
import { parseDatabaseUrl } from "./store/db.js";

// Empty values (`KMS_SUPPORT_CHANNEL=` in a .env file) count as unset.
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (typeof v === "string" && v.trim() === "" ? undefined : v), schema);

const dayList = (fallback: string, max: number) =>
  optional(z.string().default(fallback)).transform((text, ctx) => {
    const parts = text.split(",").map((p) => p.trim());
    const days = parts.map(Number);
    if (parts.some((p) => !/^\d+$/.test(p)) || days.some((d) => d < 1 || d > max)) {
      ctx.addIssue({
        code: "custom",
        message: `must be comma-separated whole days from 1 to ${max}, got "${text}"`,
      });
      return z.NEVER;
    }
    return [...new Set(days)].sort((a, b) => b - a);
  });

const userId = /^[UW][A-Z0-9]{2,}$/;

/** `business.aliyuncs.com`, `host:port`, or a full http(s) URL without a path (tests). */
const ENDPOINT = /^(https?:\/\/)?[A-Za-z0-9.-]+(:\d{1,5})?\/?$/;

// KMS_PROVIDER=alibaba: the Alibaba Cloud account through the BSS OpenAPI. Values are never
// echoed in messages (one of them is a secret).
const provider = {
  KMS_PROVIDER: optional(
    z.enum(["local", "alibaba"], { error: "must be local or alibaba" }).default("local"),
  ),
  ALIBABA_CLOUD_ACCESS_KEY_ID: optional(
    z
      .string()
      .regex(/^[A-Za-z0-9]{8,128}$/, "must be an AccessKey ID (letters and digits, like LTAI...)")
      .optional(),
  ),
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: optional(
    z.string().min(8, "is too short to be an AccessKey secret").optional(),
  ),
  KMS_ALIBABA_SITE: optional(
    z
      .enum(["international", "china"], { error: "must be international or china" })
      .default("international"),
  ),
  KMS_ALIBABA_ENDPOINT: optional(
    z
      .string()
      .regex(ENDPOINT, "must be a host such as business.aliyuncs.com or a URL http(s)://host:port")
      .optional(),
  ),
  KMS_ALIBABA_PRODUCT_CODE: optional(
    z
      .string()
      .regex(/^[a-z0-9_-]{1,64}$/i, "must be a BSS product code such as kms")
      .default("kms"),
  ),
};

/** What the per-variable checks can't see: with `alibaba` the AccessKey is required. */
function providerProblems(env: NodeJS.ProcessEnv): string[] {
  if (env.KMS_PROVIDER?.trim() !== "alibaba") return [];
  return (["ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"] as const)
    .filter((name) => !env[name]?.trim())
    .map((name) => `${name}: is required with KMS_PROVIDER=alibaba (the RAM user's AccessKey)`);
}
const channelId = /^[CGD][A-Z0-9]{2,}$/;

/** The values .env.example ships with: a copied file that was never filled in. */
const PLACEHOLDER = /replace-me|^[CGD]0+$/;
const notPlaceholder = (what: string) =>
  [
    (value: string | undefined) => value === undefined || !PLACEHOLDER.test(value),
    `is still the placeholder from .env.example: put ${what} here`,
  ] as const;

const base = z.object({
  DATABASE_URL: optional(
    z
      .string()
      .default("sqlite:./data/kms.sqlite3")
      .refine(
        (u) => parseDatabaseUrl(u) !== undefined,
        "must be sqlite:<path> or postgres://user@host:port/db",
      ),
  ),
  KMS_ADMIN_USERS: optional(z.string().default("")).transform((text, ctx) => {
    const ids = text
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    const bad = ids.filter((id) => !userId.test(id));
    if (bad.length > 0) {
      ctx.addIssue({
        code: "custom",
        message: `not Slack user ids (like U0123ABCD): ${bad.join(", ")}`,
      });
      return z.NEVER;
    }
    return ids;
  }),
  KMS_TIMEZONE: optional(
    z.string().default("UTC").refine(isTimeZone, "is not an IANA time zone such as Europe/Berlin"),
  ),
  ...provider,
});

const timer = base.extend({
  SLACK_API_URL: optional(
    z
      .url({ protocol: /^https?$/, error: "must be an http(s) URL" })
      .default("https://slack.com/api/")
      .transform((u) => (u.endsWith("/") ? u : `${u}/`)),
  ),
  KMS_ALERT_CHANNEL: optional(
    z
      .string({ error: "is required (the channel id for expiry warnings, C...)" })
      .regex(channelId, "is not a Slack channel id (C...)")
      .refine(...notPlaceholder("the id of the channel for expiry warnings")),
  ),
  KMS_WARN_DAYS: dayList("30,14,7,3,1", 365),
  KMS_RELEASE_WARN_DAYS: dayList("7,3,1", 14),
});

const slack = timer.extend({
  SLACK_BOT_TOKEN: optional(
    z
      .string({ error: "is required (the bot token, xoxb-...)" })
      .startsWith("xoxb-", "must start with xoxb-")
      .refine(...notPlaceholder("your app's Bot User OAuth Token")),
  ),
  SLACK_SIGNING_SECRET: optional(
    z
      .string()
      .min(8, "is too short")
      .refine(...notPlaceholder("your app's Signing Secret"))
      .optional(),
  ),
  SLACK_APP_TOKEN: optional(
    z
      .string()
      .startsWith("xapp-", "must start with xapp- (an app-level token)")
      .refine(...notPlaceholder("your app-level token"))
      .optional(),
  ),
  HOST: optional(
    z
      .string()
      .regex(/^[A-Za-z0-9.:[\]-]+$/, "must be a host name or IP address, such as 127.0.0.1")
      .optional(),
  ),
  LOG_LEVEL: optional(
    z
      .enum(["debug", "info", "warn", "error"], { error: "must be debug, info, warn or error" })
      .default("info"),
  ),
  PORT: optional(
    z.coerce
      .number({ error: "must be a number" })
      .int("must be a whole number")
      .min(1)
      .max(65535)
      .default(3000),
  ),
  KMS_SUPPORT_CHANNEL: optional(
    z
      .string()
      .regex(channelId, "is not a Slack channel id (C...)")
      .refine(...notPlaceholder("the id of the channel for unsubscribe tickets"))
      .optional(),
  ),
  KMS_SWEEP_CRON: optional(
    z
      .string()
      .default("*/5 * * * *")
      .refine((expr) => {
        try {
          new Cron(expr, { paused: true }).stop();
          return true;
        } catch {
          return false;
        }
      }, "is not a cron expression such as */5 * * * *"),
  ),
});

export type BaseConfig = Readonly<z.output<typeof base>>;
export type TimerConfig = Readonly<z.output<typeof timer>> & { readonly SLACK_BOT_TOKEN?: string };
export type BotConfig = Readonly<z.output<typeof slack>> & {
  readonly supportChannel: string;
  readonly socketMode: boolean;
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

function parse<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv): z.output<T> {
  const result = schema.safeParse(env);
  const problems = [
    ...(result.success ? [] : result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`)),
    ...providerProblems(env),
  ];
  if (result.success && problems.length === 0) return result.data;
  throw new ConfigError(problems);
}

/** What the CLI needs: the database, the time zone and the admins. */
export function loadBaseConfig(env: NodeJS.ProcessEnv = process.env): BaseConfig {
  return Object.freeze(parse(base, env));
}

/**
 * What `kms-bot sweep` needs: the base, the thresholds, the alert channel and, unless it is a
 * dry run, the bot token.
 */
export function loadTimerConfig(
  env: NodeJS.ProcessEnv = process.env,
  options: { dryRun: boolean },
): TimerConfig {
  const schema = options.dryRun
    ? timer
    : timer.extend({ SLACK_BOT_TOKEN: slack.shape.SLACK_BOT_TOKEN });
  return Object.freeze(parse(schema, env));
}

/**
 * What the bot needs, parsed once at start-up. Throws ConfigError
 * naming every missing or bad variable at once.
 */
export function loadBotConfig(env: NodeJS.ProcessEnv = process.env): BotConfig {
  const result = slack.safeParse(env);
  const problems = result.success
    ? []
    : result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  problems.push(...providerProblems(env));
  const socketMode = typeof env.SLACK_APP_TOKEN === "string" && env.SLACK_APP_TOKEN.trim() !== "";
  const secret = env.SLACK_SIGNING_SECRET?.trim();
  if (!socketMode && !secret && !problems.some((p) => p.startsWith("SLACK_SIGNING_SECRET"))) {
    problems.push(
      "SLACK_SIGNING_SECRET: is required in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)",
    );
  }
  if (!result.success || problems.length > 0) throw new ConfigError(problems);
  const config = result.data;
  return Object.freeze({
    ...config,
    supportChannel: config.KMS_SUPPORT_CHANNEL ?? config.KMS_ALERT_CHANNEL,
    socketMode,
  });
}
