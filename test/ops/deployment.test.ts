// The deployment files can't be run here (no Docker daemon): these checks read them for what
// the README promises, and keep the README, the manifests and /metrics in step.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { startTestBot } from "../helpers/app.js";

type Json = Record<string, unknown>;

const read = (path: string): string =>
  readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");
const readme = read("README.md");

/** The README section under `## title`, up to the next `## `. */
function section(title: string): string {
  const start = readme.indexOf(`## ${title}\n`);
  expect(start, `README section "${title}"`).toBeGreaterThanOrEqual(0);
  const end = readme.indexOf("\n## ", start + 3);
  return readme.slice(start, end < 0 ? undefined : end);
}

const botScopes = (manifest: Json): string[] =>
  [...((manifest.oauth_config as Json).scopes as { bot: string[] }).bot].sort();

describe("the manifests and the README", () => {
  const http = parse(read("manifest.yml")) as Json;
  const socket = parse(read("manifest.socket.yml")) as Json;

  it("the README lists exactly the bot scopes manifest.yml asks for", () => {
    const paragraph = section("Create the Slack app")
      .split("\n\n")
      .find((p) => p.includes("smallest set of bot scopes"));
    const listed = [...(paragraph ?? "").matchAll(/`([a-z_]+:[a-z_]+|commands)`/g)].map(
      (m) => m[1],
    );
    expect([...new Set(listed)].sort()).toEqual(botScopes(http));
  });

  it("the Socket Mode manifest is the same app with Socket Mode on and no URLs", () => {
    const strip = (m: Json): Json =>
      JSON.parse(JSON.stringify(m), (key, value) =>
        key === "url" || key === "request_url" || key === "socket_mode_enabled" ? undefined : value,
      );
    expect(strip(socket)).toEqual(strip(http));
    expect((socket.settings as Json).socket_mode_enabled).toBe(true);
    expect((http.settings as Json).socket_mode_enabled).toBe(false);
    expect(read("manifest.socket.yml")).not.toContain("example.com");
  });
});

describe("deployment files", () => {
  it("Dockerfile: two Debian slim Node 20 stages, npm ci then prune, non-root, health check, node as the command", () => {
    const dockerfile = read("Dockerfile");
    const stages = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(stages).toEqual(["node:20-bookworm-slim", "node:20-bookworm-slim"]);
    expect(dockerfile).toMatch(/^RUN npm ci .*&& npm prune --omit=dev$/m);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK [\s\S]*\/healthz/m);
    expect(dockerfile).toMatch(
      /^CMD \["node", "--max-semi-space-size=4", "--max-old-space-size=128", "dist\/src\/main.js"\]$/m,
    );
    expect(read(".dockerignore")).toMatch(/^\.env$/m);
  });

  it("compose.yaml: two bot replicas on PostgreSQL, the database on a named volume", () => {
    const compose = parse(read("compose.yaml")) as {
      services: Record<string, Json>;
      volumes: Json;
    };
    const { bot, db } = compose.services as { bot: Json; db: Json };
    expect(String(db.image)).toMatch(/^postgres:/);
    expect((bot.deploy as Json).replicas).toBe(2);
    expect(String((bot.environment as Json).DATABASE_URL)).toMatch(/^postgres:\/\/.*@db:5432\//);
    expect(bot.depends_on).toEqual({ db: { condition: "service_healthy" } });
    const volume = String((db.volumes as string[])[0]).split(":")[0] ?? "";
    expect(Object.keys(compose.volumes)).toContain(volume);
  });

  it("npm start runs node directly; .nvmrc and engines agree", () => {
    const pkg = JSON.parse(read("package.json")) as {
      scripts: Record<string, string>;
      engines: { node: string };
    };
    // The heap flags keep the bot under 150 MB under load (bench/README.md, "Memory").
    expect(pkg.scripts.start).toBe(
      "node --max-semi-space-size=4 --max-old-space-size=128 dist/src/main.js",
    );
    expect(pkg.scripts.prestart).toBeUndefined();
    expect(pkg.scripts.prepare).toBe("npm run build");
    expect(pkg.engines.node).toBe(">=20.12");
    expect(read(".nvmrc").trim()).toBe("20");
  });

  it("the README's server section uses the Dockerfile, compose.yaml and the systemd unit", () => {
    const server = section("On a server");
    for (const file of ["Dockerfile", "compose.yaml", "deploy/kms-bot.service"]) {
      expect(server).toContain(file);
      expect(() => read(file)).not.toThrow();
    }
    expect(server).toContain("No Docker daemon");
    expect(read("deploy/kms-bot.service")).toMatch(
      /^ExecStart=\/usr\/bin\/node --max-semi-space-size=4 --max-old-space-size=128 dist\/src\/main.js$/m,
    );
  });
});

describe("the README documents every metric", () => {
  it("each kms_ metric /metrics exposes is in the Operations section", async () => {
    const s = await startTestBot({ socket: true });
    try {
      await s.socket?.waitForConnection(1);
      const text = await (await fetch(`${s.url}/metrics`)).text();
      const names = new Set([...text.matchAll(/^# TYPE (kms_\w+)/gm)].map((m) => m[1]));
      expect(names.size).toBeGreaterThan(10);
      const documented = section("Operations: health, logs, metrics");
      for (const name of names) expect(documented, name).toContain(`\`${name}`);
    } finally {
      await s.close();
    }
  });
});
