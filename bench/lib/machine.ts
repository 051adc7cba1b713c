import { readdirSync, readFileSync } from "node:fs";
import { cpus, freemem, loadavg, platform, release, totalmem } from "node:os";
import knex from "knex";
import { fmt } from "./table.js";

export interface MachineInfo {
  cpu: string;
  cores: number;
  memory: string;
  os: string;
  node: string;
  sqlite: string;
  postgres: string;
  /** 1-minute load average when the run started (other work on the machine skews timings). */
  load: string;
}

export function loadText(): string {
  const [one, five] = loadavg();
  return `${fmt(one ?? 0, 2)} (1 min), ${fmt(five ?? 0, 2)} (5 min)`;
}

function diskOf(): string {
  // Linux: whether the kernel says the first real block device rotates (HDD) or not.
  try {
    const dev = readdirSync("/sys/block").find((d) => !/^(loop|zram|ram|sr)/.test(d));
    if (!dev) return "unknown";
    const rot = readFileSync(`/sys/block/${dev}/queue/rotational`, "utf8").trim();
    return `${dev} ${rot === "0" ? "non-rotational" : "rotational"}`;
  } catch {
    return "unknown";
  }
}

/** The machine the numbers were measured on. */
export async function machineInfo(pgUrl: string | undefined): Promise<MachineInfo> {
  const cpuList = cpus();
  const sqliteDb = knex({
    client: "sqlite3",
    connection: { filename: ":memory:" },
    useNullAsDefault: true,
  });
  let sqlite = "unknown";
  try {
    const rows = (await sqliteDb.raw("select sqlite_version() as v")) as Array<{ v: string }>;
    sqlite = rows[0]?.v ?? "unknown";
  } finally {
    await sqliteDb.destroy();
  }
  let postgres = "not used";
  if (pgUrl) {
    const pg = knex({ client: "pg", connection: pgUrl, pool: { min: 0, max: 1 } });
    try {
      const r = (await pg.raw("show server_version")) as {
        rows: Array<{ server_version: string }>;
      };
      postgres = r.rows[0]?.server_version ?? "unknown";
    } catch (error) {
      postgres = `unreachable (${(error as Error).message})`;
    } finally {
      await pg.destroy();
    }
  }
  return {
    cpu: cpuList[0]?.model.trim() ?? "unknown",
    cores: cpuList.length,
    memory: `${fmt(totalmem() / 2 ** 30, 1)} GiB (${fmt(freemem() / 2 ** 30, 1)} GiB free), disk ${diskOf()}`,
    os: `${platform()} ${release()}`,
    node: process.version,
    sqlite,
    postgres,
    load: loadText(),
  };
}
