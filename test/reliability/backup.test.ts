// `kms-bot backup <file>`: a consistent online copy of the SQLite database while writes go on,
// which restores (copied to a new path) into a working database for the CLI and the bot.
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Knex } from "knex";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { migrations } from "../../migrations/index.js";
import { topup } from "../../src/billing/account.js";
import { type BillingContext, cliActor } from "../../src/billing/context.js";
import { renew } from "../../src/billing/orders.js";
import { openDatabase } from "../../src/store/db.js";
import { applyMigrations } from "../../src/store/migrate.js";
import { billingContext, seedInstance, T0 } from "../helpers/billing.js";
import { runCliProcess, startCli } from "../helpers/cli-process.js";
import { createTestDatabase, PG_URL, type TestDatabase } from "../helpers/databases.js";
import { type FakeSlack, startFakeSlack } from "../helpers/fake-slack.js";
import { SLACK_TEST_IDS } from "../helpers/slack-requests.js";
import {
  checkBooks,
  closedModal,
  DAY,
  killAllBots,
  renewSubmission,
  send,
  sleep,
  startBot,
} from "./bot-process.js";

const ALL_MIGRATIONS = migrations.map(([name]) => name);

async function integrity(db: Knex): Promise<string> {
  const rows = (await db.raw("PRAGMA integrity_check")) as Array<{ integrity_check: string }>;
  return rows.map((r) => r.integrity_check).join("; ");
}

async function ledgerRows(db: Knex) {
  return (await db("ledger").orderBy("id")).map((r) => ({
    id: Number(r.id),
    amount: Number(r.amount_cents),
    after: Number(r.balance_after_cents),
  }));
}

describe("kms-bot backup (SQLite)", () => {
  let t: TestDatabase;
  let ctx: BillingContext;
  let dir: string;
  const opened: Knex[] = [];
  const seeded = new Map<string, number>();
  const open = (file: string) => {
    const db = openDatabase(`sqlite:${file}`);
    opened.push(db);
    return db;
  };
  const env = () => ({ DATABASE_URL: t.processUrl, KMS_TIMEZONE: "UTC" });

  beforeEach(async () => {
    t = await createTestDatabase("sqlite");
    dir = mkdtempSync(join(tmpdir(), "kms-backup-"));
    ctx = billingContext(t.db, T0);
    seeded.clear();
    const row = await seedInstance(t.db, { id: "kst-a", expires_at: T0 + 20 * DAY });
    seeded.set(row.id, row.expires_at);
    // For the bot run on a restored copy, which lives in real time.
    const live = await seedInstance(t.db, { id: "kst-now", expires_at: Date.now() + 60 * DAY });
    seeded.set(live.id, live.expires_at);
    await topup(ctx, cliActor, 500_000_000);
    await renew(ctx, cliActor, { instanceId: "kst-a", months: 1, idempotencyKey: "seed-1" });
  });
  afterEach(async () => {
    await killAllBots();
    await Promise.all(opened.splice(0).map((db) => db.destroy()));
    await t.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Topups and renewals on the live file, one after another, until stopped. */
  function writeStream() {
    let stop = false;
    let writes = 0;
    const done = (async () => {
      for (let i = 0; !stop; i++) {
        if (i % 25 === 24) {
          await renew(ctx, cliActor, { instanceId: "kst-a", months: 1, idempotencyKey: `w-${i}` });
        } else {
          await topup(ctx, cliActor, 100 + i);
        }
        writes += 1;
      }
    })();
    return {
      writes: () => writes,
      async stop() {
        stop = true;
        await done;
      },
    };
  }

  it("taken while writes go on, each copy is one snapshot: valid, balance == its ledger, a prefix of the live ledger, migrations complete", async () => {
    const stream = writeStream();
    await sleep(100);
    const files: string[] = [];
    for (let i = 0; i < 3; i++) {
      const file = join(dir, `kms-${i}.sqlite3`);
      const before = stream.writes();
      const r = await runCliProcess(["backup", file], env());
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`Backed up to ${file}\n`);
      // Online: the writers were not stopped while it ran.
      expect(stream.writes()).toBeGreaterThan(before);
      files.push(file);
    }
    await stream.stop();
    const live = await ledgerRows(t.db);
    let previous = 0;
    for (const file of files) {
      expect(existsSync(`${file}-wal`)).toBe(false);
      const copy = open(file);
      expect(await integrity(copy)).toBe("ok");
      const books = await checkBooks(copy, seeded);
      expect(books.orders.length).toBeGreaterThan(0);
      const rows = await ledgerRows(copy);
      expect(rows).toEqual(live.slice(0, rows.length));
      expect(rows.length).toBeGreaterThan(previous);
      previous = rows.length;
      const names = await copy("kms_migrations").orderBy("id").pluck("name");
      expect(names).toEqual(ALL_MIGRATIONS);
      expect(await applyMigrations(copy)).toEqual([]);
    }
    expect(live.length).toBeGreaterThan(previous);
  });

  it("restored (copied to a new path), it serves kms-bot migrate, bills and topup, and the bot, without touching the original", async () => {
    const backup = join(dir, "kms-backup.sqlite3");
    expect((await runCliProcess(["backup", backup], env())).code).toBe(0);
    const restored = join(dir, "restore", "kms.sqlite3");
    mkdirSync(join(dir, "restore"));
    copyFileSync(backup, restored);
    const renv = { DATABASE_URL: `sqlite:${restored}`, KMS_TIMEZONE: "UTC" };

    const migrated = await runCliProcess(["migrate"], renv);
    expect(migrated.code).toBe(0);
    expect(migrated.stdout).toBe("Database is up to date.\n");

    const bills = await runCliProcess(["bills", "--month", "2026-01"], renv);
    expect(bills.code).toBe(0);
    const lines = bills.stdout.trim().split("\n");
    const source = await ledgerRows(t.db);
    expect(lines).toHaveLength(1 + source.length);
    expect(bills.stdout).toContain("ORD-");

    const topped = await runCliProcess(["topup", "5"], renv);
    expect(topped.code).toBe(0);
    const sourceBalance = source.at(-1)?.after ?? 0;
    expect(topped.stdout).toContain("Recharged USD 5.00.");
    const copy = open(restored);
    expect((await checkBooks(copy, seeded)).balance).toBe(sourceBalance + 500);

    const fake: FakeSlack = await startFakeSlack();
    try {
      const bot = await startBot({ databaseUrl: `sqlite:${restored}`, fake });
      const res = await send(
        bot.url,
        renewSubmission("V-RESTORED", "kst-now", 1, SLACK_TEST_IDS.userId),
      );
      expect(closedModal(res), JSON.stringify(res)).toBe(true);
      bot.child.kill("SIGTERM");
      expect((await bot.exited).code).toBe(0);
    } finally {
      await fake.close();
    }
    const books = await checkBooks(copy, seeded);
    expect(books.orders.map((o) => o.idempotency_key)).toContain("renew:V-RESTORED");
    // The original file has none of what happened on the copy.
    expect(await ledgerRows(t.db)).toEqual(source);
    expect(await t.db("orders").where({ idempotency_key: "renew:V-RESTORED" })).toEqual([]);
  });

  /** A database file one migration behind the code (as an older release left it). */
  async function olderDatabase(file: string): Promise<void> {
    const db = openDatabase(`sqlite:${file}`);
    const behind = migrations.slice(0, -1);
    await db.migrate.latest({
      tableName: "kms_migrations",
      migrationSource: {
        getMigrations: async () => behind.map(([name]) => name),
        getMigrationName: (name: string) => name,
        getMigration: async (name: string) => {
          const found = behind.find(([n]) => n === name);
          if (!found) throw new Error(name);
          return found[1];
        },
      },
    });
    await db.destroy();
  }

  it("an older copy (one migration behind) restored at a new path is brought up to date by kms-bot migrate", async () => {
    const old = join(dir, "old.sqlite3");
    await olderDatabase(old);
    const restored = join(dir, "old-restored.sqlite3");
    copyFileSync(old, restored);
    const r = await runCliProcess(["migrate"], { DATABASE_URL: `sqlite:${restored}` });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`Applied ${ALL_MIGRATIONS.at(-1)}\n`);
    const copy = open(restored);
    expect(await copy("kms_migrations").orderBy("id").pluck("name")).toEqual(ALL_MIGRATIONS);
  });

  it("only reads the database it copies: a database one migration behind stays behind, and so does its copy", async () => {
    // The usual upgrade: back up with the new release, then migrate. The backup must be of the
    // database as it was, and must not have changed it.
    const old = join(dir, "old.sqlite3");
    await olderDatabase(old);
    const backup = join(dir, "old-backup.sqlite3");
    const r = await runCliProcess(["backup", backup], { DATABASE_URL: `sqlite:${old}` });
    expect(r.code).toBe(0);
    const behind = ALL_MIGRATIONS.slice(0, -1);
    const source = open(old);
    expect(await source("kms_migrations").orderBy("id").pluck("name"), "the source").toEqual(
      behind,
    );
    const copy = open(backup);
    expect(await copy("kms_migrations").orderBy("id").pluck("name"), "the copy").toEqual(behind);
  });

  it("onto an existing file: refused, the file left as it was", async () => {
    const file = join(dir, "precious.sqlite3");
    writeFileSync(file, "not to be overwritten");
    const r = await runCliProcess(["backup", file], env());
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`kms-bot: ${file} already exists; choose a new file\n`);
    expect(r.stdout).toBe("");
    expect(readFileSync(file, "utf8")).toBe("not to be overwritten");
  });

  it("into a folder that does not exist: refused with a message, nothing created", async () => {
    const file = join(dir, "missing", "kms.sqlite3");
    const r = await runCliProcess(["backup", file], env());
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^kms-bot: .+/);
    expect(r.stdout).toBe("");
    expect(existsSync(file)).toBe(false);
  });

  it("killed while copying: leaves no partial file at the backup path that could be restored", async () => {
    // Enough data (~60 MB of audit history) that the copy takes a while.
    const bulk = "x".repeat(50_000);
    await t.db.transaction(async (tx) => {
      for (let i = 0; i < 1_200; i += 100) {
        await tx("audit_log").insert(
          Array.from({ length: 100 }, (_, k) => ({
            at: T0,
            actor: "cli",
            action: "bulk",
            subject: null,
            inputs: `${bulk}${i + k}`,
          })),
        );
      }
    });
    const file = join(dir, "interrupted.sqlite3");
    const { child, done } = startCli(["backup", file], env());
    const deadline = Date.now() + 10_000;
    // The copy is written under a temporary name first: kill it while that is being written.
    const copying = () =>
      readdirSync(dir).some((n) => n.startsWith("interrupted.sqlite3.") && n.endsWith(".partial"));
    while (!copying() && !existsSync(file) && Date.now() < deadline) await sleep(2);
    expect(existsSync(file), "the backup finished before it could be killed").toBe(false);
    child.kill("SIGKILL");
    const r = await done;
    expect(r.signal).toBe("SIGKILL");
    expect(r.stdout).not.toContain("Backed up");
    // Whatever is at the path must be a complete backup or nothing at all.
    if (existsSync(file)) {
      let verdict: string;
      const copy = open(file);
      try {
        verdict = await integrity(copy);
        const rows = await ledgerRows(copy);
        if (rows.length !== (await ledgerRows(t.db)).length) verdict += "; ledger incomplete";
      } catch (error) {
        verdict = String(error);
      }
      expect(verdict, `a killed backup left ${statSync(file).size} bytes at ${file}`).toBe("ok");
    }
  });
});

describe.skipIf(!PG_URL)("kms-bot backup (PostgreSQL)", () => {
  let t: TestDatabase;
  let dir: string;
  beforeEach(async () => {
    t = await createTestDatabase("postgres");
    dir = mkdtempSync(join(tmpdir(), "kms-backup-pg-"));
  });
  afterEach(async () => {
    await t.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it("is refused, pointing to pg_dump, and writes nothing", async () => {
    const file = join(dir, "kms.sqlite3");
    const r = await runCliProcess(["backup", file], { DATABASE_URL: t.processUrl });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("pg_dump");
    expect(r.stdout).toBe("");
    expect(existsSync(file)).toBe(false);
  });
});
