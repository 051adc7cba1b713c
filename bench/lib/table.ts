import { loadavg } from "node:os";

/** Prints rows as an aligned text table (numbers right-aligned). */
export function printTable(title: string, header: string[], rows: Array<Array<string | number>>) {
  const cells = rows.map((r) =>
    r.map((c) => (typeof c === "number" ? fmt(c, Number.isInteger(c) ? 0 : undefined) : c)),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? "").length)));
  const numeric = header.map((_, i) => rows.every((r) => isNumberLike(r[i])));
  const line = (r: string[]) =>
    r
      .map((c, i) => (numeric[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  console.log(`\n${title}`);
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of cells) console.log(line(r));
}

function isNumberLike(c: string | number | undefined): boolean {
  return (
    typeof c === "number" || (typeof c === "string" && /^[-+]?[\d,.]+\s*(%|x|ms|s|MB)?$/.test(c))
  );
}

/** A number with sensible precision: 12,345 / 123.4 / 1.23 / 0.012. */
export function fmt(n: number, digits?: number): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  const d = digits ?? (abs >= 1000 ? 0 : abs >= 100 ? 1 : abs >= 1 ? 2 : 3);
  return n.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
}

export const ms = (n: number) => `${fmt(n)} ms`;
export const pct = (ratio: number) => `${fmt(ratio * 100, 1)}%`;
export const mb = (bytes: number) => `${fmt(bytes / 1024 / 1024, 1)} MB`;

/** Percentile (0..100) of unsorted samples, nearest-rank. */
export function percentile(samples: ArrayLike<number>, p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = Float64Array.from(samples).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

export function median(samples: ArrayLike<number>): number {
  return percentile(samples, 50);
}

/** One target's verdict, collected for the closing summary. */
export interface Verdict {
  bench: string;
  target: string;
  measured: string;
  met: boolean | "n/a";
  /** 1-minute load average when it was judged: a busy machine skews timings. */
  load: number;
}

export const verdicts: Verdict[] = [];

/** The 1-minute load average now, for the tables. */
export const load1 = () => fmt(loadavg()[0] ?? 0, 2);

export function judge(bench: string, target: string, measured: string, met: boolean | "n/a") {
  verdicts.push({ bench, target, measured, met, load: loadavg()[0] ?? 0 });
}
