// The shape the code keeps (issue 13): the Slack edge and the timer reach the database only
// through the billing core, nothing imports in a cycle, and no file or function outgrows
// what a reader holds in their head.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const MAX_FILE_LINES = 350;
const MAX_FUNCTION_LINES = 80;

/** Every TypeScript source under `dir`, as paths relative to the repository. */
function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts"))
    .map((f) => join(dir, f))
    .sort();
}

const SRC = sources("src");
const text = (file: string) => readFileSync(join(ROOT, file), "utf8");

/** The files a source imports (relative imports only; `.js` suffixes point at `.ts` sources). */
function importsOf(file: string): string[] {
  const found: string[] = [];
  const source = ts.createSourceFile(file, text(file), ts.ScriptTarget.ES2022, false);
  for (const statement of source.statements) {
    const spec =
      (ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)) &&
      statement.moduleSpecifier &&
      ts.isStringLiteral(statement.moduleSpecifier)
        ? statement.moduleSpecifier.text
        : undefined;
    if (spec?.startsWith(".")) {
      found.push(relative(ROOT, resolve(ROOT, dirname(file), spec)).replace(/\.js$/, ".ts"));
    }
  }
  return found;
}

const GRAPH = new Map(SRC.map((f) => [f, importsOf(f)]));

/** Every import cycle, each as the files around it (Tarjan's strongly connected components). */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next);
    next += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) ?? 0, index.get(w) ?? 0));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string | undefined;
    do {
      w = stack.pop();
      if (w === undefined) break;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || graph.get(v)?.includes(v)) out.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}

/** Functions (declarations, methods, arrows, expressions) longer than `max` lines. */
function longFunctions(file: string, max: number): string[] {
  const source = ts.createSourceFile(file, text(file), ts.ScriptTarget.ES2022, true);
  const long: string[] = [];
  const lineOf = (pos: number) => source.getLineAndCharacterOfPosition(pos).line;
  const walk = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && "body" in node && node.body) {
      const lines = lineOf(node.getEnd()) - lineOf(node.getStart(source)) + 1;
      if (lines > max) {
        const name = node.name && ts.isIdentifier(node.name) ? node.name.text : "(anonymous)";
        long.push(`${file}:${lineOf(node.getStart(source)) + 1} ${name}: ${lines} lines`);
      }
    }
    ts.forEachChild(node, walk);
  };
  walk(source);
  return long;
}

// TODO(lead): drop after the replay guard rewrite merges (it records signatures in the store).
const GUARD_REWRITE_PENDING = (f: string) => f === "src/slack/guard.ts";

describe("the shape of src/", () => {
  it("finds the sources and their imports", () => {
    expect(SRC).toContain("src/slack/router.ts");
    expect(GRAPH.get("src/slack/app.ts")).toContain("src/slack/router.ts");
  });

  it("the Slack edge (and the timer) never import the store: they call the billing core", () => {
    const offending = [...GRAPH]
      .filter(([file]) => file.startsWith("src/slack/") || file.startsWith("src/timer/"))
      .filter(([file]) => !GUARD_REWRITE_PENDING(file))
      .flatMap(([file, deps]) =>
        deps.filter((d) => d.startsWith("src/store/")).map((d) => `${file} -> ${d}`),
      );
    expect(offending).toEqual([]);
  });

  it("has no import cycles", () => {
    expect(cycles(GRAPH)).toEqual([]);
  });

  it("finds a cycle when there is one (the check itself)", () => {
    const graph = new Map([
      ["a", ["b"]],
      ["b", ["c"]],
      ["c", ["a"]],
      ["d", ["a"]],
    ]);
    expect(cycles(graph)).toEqual([["a", "b", "c"]]);
  });

  it(`keeps every source file within ${MAX_FILE_LINES} lines`, () => {
    const long = SRC.map((f) => [f, text(f).split("\n").length] as const).filter(
      ([, lines]) => lines > MAX_FILE_LINES,
    );
    expect(long).toEqual([]);
  });

  it(`keeps every function within ${MAX_FUNCTION_LINES} lines`, () => {
    const long = SRC.flatMap((f) => longFunctions(f, MAX_FUNCTION_LINES));
    expect(long).toEqual([]);
  });
});
