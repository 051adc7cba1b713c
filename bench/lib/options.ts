/** What `npm run bench -- [flags]` asked for. */
export interface BenchOptions {
  /** Tiny sizes and short runs: proves every benchmark still works (CI). */
  quick: boolean;
  /** Benchmarks to run (default: all), by name: ack, sweep, money, memory, startup. */
  only: ReadonlySet<BenchName>;
  /** PostgreSQL server for the PostgreSQL rows; undefined skips them. */
  pgUrl: string | undefined;
  /** Directory for `node --cpu-prof` profiles of the spawned bot processes, if wanted. */
  cpuProfDir: string | undefined;
}

export const BENCH_NAMES = ["ack", "sweep", "money", "memory", "startup"] as const;
export type BenchName = (typeof BENCH_NAMES)[number];

const DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/test";

const USAGE = `usage: npm run bench -- [--quick] [--only ack,sweep,money,memory,startup] [--no-pg]
                            [--pg-url postgres://...] [--cpu-prof DIR]
  env: BENCH_QUICK=1 (same as --quick), BENCH_PG_URL (default ${DEFAULT_PG_URL})`;

export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): BenchOptions {
  let quick = env.BENCH_QUICK === "1" || env.BENCH_QUICK === "true";
  let only = new Set<BenchName>(BENCH_NAMES);
  let pgUrl: string | undefined = env.BENCH_PG_URL || DEFAULT_PG_URL;
  let cpuProfDir: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value\n${USAGE}`);
      return v;
    };
    if (arg === "--quick") quick = true;
    else if (arg === "--no-pg") pgUrl = undefined;
    else if (arg === "--pg-url") pgUrl = value();
    else if (arg === "--cpu-prof") cpuProfDir = value();
    else if (arg === "--only") {
      const names = value()
        .split(",")
        .map((s) => s.trim());
      const bad = names.filter((n) => !(BENCH_NAMES as readonly string[]).includes(n));
      if (bad.length > 0) throw new Error(`unknown benchmark(s): ${bad.join(", ")}\n${USAGE}`);
      only = new Set(names as BenchName[]);
    } else if (arg === "--help" || arg === "-h") {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown argument ${arg}\n${USAGE}`);
  }
  return { quick, only, pgUrl, cpuProfDir };
}
