import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ConfigError, loadBaseConfig, loadBotConfig } from "../src/config.js";

/** The least a bot in HTTP mode needs. */
const HTTP_ENV = {
  SLACK_BOT_TOKEN: "xoxb-1-abc",
  SLACK_SIGNING_SECRET: "0123456789abcdef",
  KMS_ALERT_CHANNEL: "C0ALERTS1",
} satisfies NodeJS.ProcessEnv;

function configError(load: () => unknown): ConfigError {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("the configuration was accepted");
}

describe("loadBotConfig", () => {
  it("fills in the documented defaults", () => {
    const config = loadBotConfig({ ...HTTP_ENV });
    expect(config.PORT).toBe(3000);
    expect(config.DATABASE_URL).toBe("sqlite:./data/kms.sqlite3");
    expect(config.SLACK_API_URL).toBe("https://slack.com/api/");
    expect(config.KMS_WARN_DAYS).toEqual([30, 14, 7, 3, 1]);
    expect(config.KMS_RELEASE_WARN_DAYS).toEqual([7, 3, 1]);
    expect(config.KMS_TIMEZONE).toBe("UTC");
    expect(config.KMS_SWEEP_CRON).toBe("*/5 * * * *");
    expect(config.KMS_ADMIN_USERS).toEqual([]);
    expect(config.SLACK_APP_TOKEN).toBeUndefined();
    expect(config.socketMode).toBe(false);
  });

  it("posts tickets to the alert channel when no support channel is set", () => {
    expect(loadBotConfig({ ...HTTP_ENV }).supportChannel).toBe("C0ALERTS1");
    expect(loadBotConfig({ ...HTTP_ENV, KMS_SUPPORT_CHANNEL: "C0SUPPORT" }).supportChannel).toBe(
      "C0SUPPORT",
    );
  });

  it("reads every variable it is given", () => {
    const config = loadBotConfig({
      ...HTTP_ENV,
      PORT: "8080",
      DATABASE_URL: "postgres://kms@db:5432/kms",
      SLACK_API_URL: "http://localhost:9999/api",
      KMS_ADMIN_USERS: "U0ADMIN01, W0ADMIN02",
      KMS_TIMEZONE: "Asia/Shanghai",
      KMS_WARN_DAYS: "1,7,30",
      KMS_RELEASE_WARN_DAYS: "1, 14",
      KMS_SWEEP_CRON: "0 * * * *",
    });
    expect(config.PORT).toBe(8080);
    expect(config.DATABASE_URL).toBe("postgres://kms@db:5432/kms");
    expect(config.SLACK_API_URL).toBe("http://localhost:9999/api/");
    expect(config.KMS_ADMIN_USERS).toEqual(["U0ADMIN01", "W0ADMIN02"]);
    expect(config.KMS_TIMEZONE).toBe("Asia/Shanghai");
    expect(config.KMS_WARN_DAYS).toEqual([30, 7, 1]);
    expect(config.KMS_RELEASE_WARN_DAYS).toEqual([14, 1]);
    expect(config.KMS_SWEEP_CRON).toBe("0 * * * *");
  });

  it("is frozen", () => {
    const config = loadBotConfig({ ...HTTP_ENV });
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { PORT: number }).PORT = 1;
    }).toThrow(TypeError);
    expect(config.PORT).toBe(3000);
  });

  it("runs in Socket Mode when SLACK_APP_TOKEN is set, without a signing secret", () => {
    const config = loadBotConfig({
      SLACK_BOT_TOKEN: "xoxb-1-abc",
      SLACK_APP_TOKEN: "xapp-1-def",
      KMS_ALERT_CHANNEL: "C0ALERTS1",
    });
    expect(config.socketMode).toBe(true);
    expect(config.SLACK_APP_TOKEN).toBe("xapp-1-def");
    expect(config.SLACK_SIGNING_SECRET).toBeUndefined();
  });

  it("requires a signing secret in HTTP mode", () => {
    const { SLACK_SIGNING_SECRET: _, ...env } = HTTP_ENV;
    const e = configError(() => loadBotConfig(env));
    expect(e.problems).toHaveLength(1);
    expect(e.problems[0]).toMatch(/^SLACK_SIGNING_SECRET: .*HTTP mode/);
  });

  it("names every bad variable in one error", () => {
    const e = configError(() =>
      loadBotConfig({
        SLACK_SIGNING_SECRET: "0123456789abcdef",
        KMS_ALERT_CHANNEL: "C0ALERTS1",
        PORT: "abc",
        DATABASE_URL: "mysql://x",
        KMS_TIMEZONE: "Mars/Base",
        KMS_WARN_DAYS: "30,x",
        KMS_ADMIN_USERS: "bob",
      }),
    );
    const named = e.problems.map((p) => p.slice(0, p.indexOf(":")));
    expect(new Set(named)).toEqual(
      new Set([
        "SLACK_BOT_TOKEN",
        "PORT",
        "DATABASE_URL",
        "KMS_TIMEZONE",
        "KMS_WARN_DAYS",
        "KMS_ADMIN_USERS",
      ]),
    );
    for (const name of named) expect(e.message).toContain(name);
    expect(e.message).toMatch(/^Invalid configuration:/);
    expect(e.message).toContain("bob");
    expect(e.message).toContain("30,x");
  });

  it("names missing required variables, and bad channel, token and cron values", () => {
    const e = configError(() =>
      loadBotConfig({
        SLACK_SIGNING_SECRET: "0123456789abcdef",
        SLACK_APP_TOKEN: "xoxb-wrong-kind",
        KMS_SUPPORT_CHANNEL: "support",
        KMS_SWEEP_CRON: "every five minutes",
        KMS_RELEASE_WARN_DAYS: "20",
        SLACK_API_URL: "ftp://example.com",
      }),
    );
    const named = new Set(e.problems.map((p) => p.slice(0, p.indexOf(":"))));
    for (const name of [
      "SLACK_BOT_TOKEN",
      "KMS_ALERT_CHANNEL",
      "SLACK_APP_TOKEN",
      "KMS_SUPPORT_CHANNEL",
      "KMS_SWEEP_CRON",
      "KMS_RELEASE_WARN_DAYS",
      "SLACK_API_URL",
    ]) {
      expect(named, `${name} in ${e.message}`).toContain(name);
    }
  });

  it("counts empty strings as unset", () => {
    const config = loadBotConfig({
      ...HTTP_ENV,
      PORT: "",
      DATABASE_URL: "",
      SLACK_API_URL: "",
      SLACK_APP_TOKEN: "",
      KMS_SUPPORT_CHANNEL: "",
      KMS_WARN_DAYS: "",
      KMS_RELEASE_WARN_DAYS: " ",
      KMS_TIMEZONE: "",
      KMS_ADMIN_USERS: "",
      KMS_SWEEP_CRON: "",
    });
    expect(config.PORT).toBe(3000);
    expect(config.DATABASE_URL).toBe("sqlite:./data/kms.sqlite3");
    expect(config.SLACK_API_URL).toBe("https://slack.com/api/");
    expect(config.socketMode).toBe(false);
    expect(config.supportChannel).toBe("C0ALERTS1");
    expect(config.KMS_WARN_DAYS).toEqual([30, 14, 7, 3, 1]);
    expect(config.KMS_RELEASE_WARN_DAYS).toEqual([7, 3, 1]);
    expect(config.KMS_TIMEZONE).toBe("UTC");
  });

  it("refuses the placeholders of .env.example, naming each in the one message", () => {
    const example = Object.fromEntries(
      readFileSync(new URL("../.env.example", import.meta.url), "utf8")
        .split("\n")
        .filter((line) => /^[A-Z_]+=/.test(line))
        .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
    );
    const e = configError(() => loadBotConfig(example));
    const named = e.problems.filter((p) => p.includes("placeholder from .env.example"));
    expect(named.map((p) => p.slice(0, p.indexOf(":"))).sort()).toEqual([
      "KMS_ALERT_CHANNEL",
      "SLACK_BOT_TOKEN",
      "SLACK_SIGNING_SECRET",
    ]);
    // Filled in, the same file is accepted.
    const filled = loadBotConfig({ ...example, ...HTTP_ENV });
    expect(filled.SLACK_BOT_TOKEN).toBe(HTTP_ENV.SLACK_BOT_TOKEN);
  });

  it("reads HOST (default: all interfaces) and LOG_LEVEL (default info)", () => {
    const defaults = loadBotConfig({ ...HTTP_ENV });
    expect(defaults.HOST).toBeUndefined();
    expect(defaults.LOG_LEVEL).toBe("info");
    const set = loadBotConfig({ ...HTTP_ENV, HOST: "127.0.0.1", LOG_LEVEL: "debug" });
    expect(set.HOST).toBe("127.0.0.1");
    expect(set.LOG_LEVEL).toBe("debug");
    const e = configError(() =>
      loadBotConfig({ ...HTTP_ENV, HOST: "local host", LOG_LEVEL: "verbose" }),
    );
    expect(e.problems).toEqual([
      expect.stringMatching(/^HOST: must be a host name or IP address/),
      "LOG_LEVEL: must be debug, info, warn or error",
    ]);
  });

  it("counts an empty required variable as missing", () => {
    const e = configError(() =>
      loadBotConfig({ ...HTTP_ENV, SLACK_BOT_TOKEN: "", SLACK_SIGNING_SECRET: "" }),
    );
    const named = e.problems.map((p) => p.slice(0, p.indexOf(":")));
    expect(named).toContain("SLACK_BOT_TOKEN");
    expect(named).toContain("SLACK_SIGNING_SECRET");
    expect(e.message).toMatch(/SLACK_BOT_TOKEN: is required/);
  });
});

const LOCAL_PROVIDER = {
  KMS_PROVIDER: "local",
  KMS_ALIBABA_SITE: "international",
  KMS_ALIBABA_PRODUCT_CODE: "kms",
};

describe("KMS_PROVIDER=alibaba settings", () => {
  const SECRET = "s3cr3t-value-never-printed";

  it("requires the AccessKey with alibaba and names both variables, never the secret", () => {
    const e = configError(() => loadBaseConfig({ KMS_PROVIDER: "alibaba" }));
    expect(e.problems).toEqual([
      "ALIBABA_CLOUD_ACCESS_KEY_ID: is required with KMS_PROVIDER=alibaba (the RAM user's AccessKey)",
      "ALIBABA_CLOUD_ACCESS_KEY_SECRET: is required with KMS_PROVIDER=alibaba (the RAM user's AccessKey)",
    ]);
  });

  it("names every bad provider variable at once and never echoes the secret", () => {
    const e = configError(() =>
      loadBaseConfig({
        KMS_PROVIDER: "aliyun",
        ALIBABA_CLOUD_ACCESS_KEY_ID: "LTAI 5t",
        ALIBABA_CLOUD_ACCESS_KEY_SECRET: "x9Qz",
        KMS_ALIBABA_SITE: "mars",
        KMS_ALIBABA_ENDPOINT: "ftp://bss/x",
        KMS_ALIBABA_PRODUCT_CODE: "k m s",
      }),
    );
    const named = e.problems.map((p) => p.slice(0, p.indexOf(":")));
    expect(named.sort()).toEqual([
      "ALIBABA_CLOUD_ACCESS_KEY_ID",
      "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
      "KMS_ALIBABA_ENDPOINT",
      "KMS_ALIBABA_PRODUCT_CODE",
      "KMS_ALIBABA_SITE",
      "KMS_PROVIDER",
    ]);
    expect(e.message).not.toContain("x9Qz");
  });

  it("accepts a host or a full URL as the endpoint", () => {
    for (const endpoint of [
      "business.aliyuncs.com",
      "http://127.0.0.1:8080",
      "https://b.example:443/",
    ]) {
      const config = loadBaseConfig({
        KMS_PROVIDER: "alibaba",
        ALIBABA_CLOUD_ACCESS_KEY_ID: "LTAI5tExample",
        ALIBABA_CLOUD_ACCESS_KEY_SECRET: SECRET,
        KMS_ALIBABA_ENDPOINT: endpoint,
      });
      expect(config.KMS_ALIBABA_ENDPOINT).toBe(endpoint);
    }
  });
});

describe("loadBaseConfig (the CLI's configuration)", () => {
  it("needs no Slack settings and fills in the defaults", () => {
    const config = loadBaseConfig({});
    expect(config).toEqual({
      DATABASE_URL: "sqlite:./data/kms.sqlite3",
      KMS_ADMIN_USERS: [],
      KMS_TIMEZONE: "UTC",
      ...LOCAL_PROVIDER,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("counts empty strings as unset", () => {
    expect(loadBaseConfig({ DATABASE_URL: "", KMS_TIMEZONE: "", KMS_ADMIN_USERS: "" })).toEqual({
      DATABASE_URL: "sqlite:./data/kms.sqlite3",
      KMS_ADMIN_USERS: [],
      KMS_TIMEZONE: "UTC",
      ...LOCAL_PROVIDER,
    });
  });

  it("names every bad variable it reads", () => {
    const e = configError(() =>
      loadBaseConfig({
        DATABASE_URL: "mysql://x",
        KMS_TIMEZONE: "Mars/Base",
        KMS_ADMIN_USERS: "U0GOOD001,bob",
        PORT: "abc",
      }),
    );
    const named = e.problems.map((p) => p.slice(0, p.indexOf(":")));
    expect(named.sort()).toEqual(["DATABASE_URL", "KMS_ADMIN_USERS", "KMS_TIMEZONE"]);
    expect(e.message).toContain("bob");
    expect(e.message).not.toContain("U0GOOD001");
  });

  it("accepts sqlite and postgres URLs only", () => {
    expect(loadBaseConfig({ DATABASE_URL: "sqlite:/tmp/x.db" }).DATABASE_URL).toBe(
      "sqlite:/tmp/x.db",
    );
    expect(loadBaseConfig({ DATABASE_URL: "postgresql://u@h/db" }).DATABASE_URL).toBe(
      "postgresql://u@h/db",
    );
    for (const url of ["sqlite:", "mysql://x", "postgres://", "./data/kms.sqlite3"]) {
      expect(configError(() => loadBaseConfig({ DATABASE_URL: url })).message).toContain(
        "DATABASE_URL",
      );
    }
  });
});
