/**
 * Summarises a V8 CPU profile (`node --cpu-prof`, or `npm run bench -- --cpu-prof DIR`):
 * self time by package or source folder, and the hottest functions.
 *
 *   node dist-bench/bench/profile-summary.js DIR/bot-ack-1234.cpuprofile [top=25]
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Where a function lives: a package, a folder of kms-bot, node itself, or V8 (GC, idle). */
function placeOf(url: string, name: string): string {
  if (!url) return name.startsWith("(") ? name : "(native)";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg) return pkg;
  if (url.startsWith("node:")) return "node:internal";
  const own = /\/(src\/[^/]+|migrations|bench)\//.exec(url)?.[1];
  return own ?? url;
}

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error("usage: node dist-bench/bench/profile-summary.js <file.cpuprofile> [top]");
  process.exit(2);
}
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i] as number;
  self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}
const total = [...self.values()].reduce((a, b) => a + b, 0);
const idle = [...self]
  .filter(([id]) => byId.get(id)?.callFrame.functionName === "(idle)")
  .reduce((a, [, t]) => a + t, 0);
const busy = total - idle;
const places = new Map<string, number>();
const functions = new Map<string, number>();
for (const [id, t] of self) {
  const node = byId.get(id);
  if (!node) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  if (functionName === "(idle)") continue;
  const place = placeOf(url, functionName);
  places.set(place, (places.get(place) ?? 0) + t);
  const fn = `${functionName || "(anonymous)"} ${url ? `${url.replace(/^.*\/(node_modules|dist-bench)\//, "")}:${lineNumber + 1}` : ""}`;
  functions.set(fn, (functions.get(fn) ?? 0) + t);
}
const pct = (t: number) => `${((t / busy) * 100).toFixed(1).padStart(5)}%`;
console.log(
  `${file}: ${(total / 1e6).toFixed(2)} s sampled, ${(busy / 1e6).toFixed(2)} s busy (${((busy / total) * 100).toFixed(0)}%)`,
);
console.log("\nself time by package / folder (share of busy time):");
for (const [place, t] of [...places].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`  ${pct(t)}  ${place}`);
}
console.log("\nhottest functions (self time):");
for (const [fn, t] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`  ${pct(t)}  ${fn}`);
}
