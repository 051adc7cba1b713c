import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

// Issue 13's timer properties: the timer speaks to the billing core only, no Slack listener
// reaches into the timer, and no timer or core file outgrows 350 lines.

const SRC = join(import.meta.dirname, "../../src");

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? filesUnder(join(dir, e.name))
      : e.name.endsWith(".ts")
        ? [join(dir, e.name)]
        : [],
  );
}

const imports = (file: string) =>
  [...readFileSync(file, "utf8").matchAll(/from "([^"]+)"/g)].map((m) => m[1]);

describe("timer layout", () => {
  it("src/timer imports the billing core, never src/store", () => {
    for (const file of filesUnder(join(SRC, "timer"))) {
      expect(
        imports(file).filter((i) => i.includes("/store/")),
        file,
      ).toEqual([]);
    }
  });

  it("only the app factory, the CLI and the sweep metrics import src/timer", () => {
    const importers = filesUnder(SRC)
      .filter((f) => !f.includes("/timer/"))
      .filter((f) => imports(f).some((i) => i.includes("/timer/")))
      .map((f) => f.slice(SRC.length + 1))
      .sort();
    // ops/metrics.ts reads the type of a sweep's summary; no Slack listener imports the timer.
    expect(importers).toEqual(["app.ts", "cli/commands.ts", "ops/metrics.ts"]);
  });

  it("no file in src/timer or src/billing is over 350 lines", () => {
    for (const file of [...filesUnder(join(SRC, "timer")), ...filesUnder(join(SRC, "billing"))]) {
      expect(readFileSync(file, "utf8").split("\n").length, file).toBeLessThanOrEqual(351);
    }
  });
});
