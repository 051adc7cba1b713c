import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { balance } from "../src/billing/account.js";
import type { BillingContext } from "../src/billing/context.js";
import { runCli, USAGE } from "../src/cli.js";
import { fixedClock } from "../src/clock.js";
import { listInstances } from "../src/store/instances.js";
import { ledgerSum } from "../src/store/ledger.js";
import { createTestDatabase, type TestDatabase } from "./helpers/databases.js";

const T0 = Date.UTC(2026, 0, 10, 12, 0, 0);
const HEADER = "instance_id,name,site,expires_at,channel,owner";
const BILL_HEADER =
  "billing_cycle,time,order_id,item,instance_id,site,period_start,period_end,months,unit_price_usd,amount_usd,balance_after_usd";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe("kms-bot CLI", () => {
  let t: TestDatabase;
  let dir: string;
  let clock: ReturnType<typeof fixedClock>;
  let env: NodeJS.ProcessEnv;

  async function cli(...argv: string[]): Promise<Run> {
    let stdout = "";
    let stderr = "";
    const code = await runCli(argv, {
      env,
      stdout: (text) => {
        stdout += text;
      },
      stderr: (text) => {
        stderr += text;
      },
      clock,
    });
    return { code, stdout, stderr };
  }

  function file(name: string, text: string): string {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  }

  const ctx = (): BillingContext => ({ db: t.db, clock, timezone: "UTC", envAdmins: [] });
  const instances = () => listInstances({ tx: t.db });
  const ledgerRows = async () => Number((await t.db("ledger").count({ n: "*" }))[0]?.n);

  beforeEach(async () => {
    t = await createTestDatabase("sqlite");
    dir = mkdtempSync(join(tmpdir(), "kms-cli-test-"));
    clock = fixedClock(T0);
    env = { DATABASE_URL: t.url, KMS_TIMEZONE: "UTC" };
  });

  afterEach(async () => {
    await t.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  describe("migrate", () => {
    it("applies the migrations to a new database, then reports it up to date", async () => {
      const fresh = await createTestDatabase("sqlite", { migrate: false });
      try {
        env = { DATABASE_URL: fresh.url, KMS_TIMEZONE: "UTC" };
        const first = await cli("migrate");
        expect(first).toMatchObject({ code: 0, stderr: "" });
        expect(first.stdout).toMatch(/^Applied \d{14}_billing_core(, \d{14}_\w+)*\n$/);
        expect(await fresh.db.schema.hasTable("instances")).toBe(true);
        expect(await fresh.db.schema.hasTable("ledger")).toBe(true);

        const second = await cli("migrate");
        expect(second).toEqual({ code: 0, stdout: "Database is up to date.\n", stderr: "" });
      } finally {
        await fresh.destroy();
      }
    });
  });

  describe("import", () => {
    const good = [
      HEADER,
      'kst-a,"Payments, EU",international,2026-12-01T00:00:00Z,C0PAYMENT,U0OWNER01',
      "kst-b,Ledger HSM,China,2027-01-15,,",
      "",
    ].join("\r\n");

    it("creates instances from an RFC 4180 file", async () => {
      const run = await cli("import", file("good.csv", good));
      expect(run).toMatchObject({ code: 0, stderr: "" });
      expect(run.stdout).toMatch(
        /^line 2 kst-a: created\nline 3 kst-b: created\nImported 2 instance\(s\): 2 new, 0 updated, 0 unchanged\. Import id imp-[a-z0-9-]+\.\n$/,
      );
      expect(await instances()).toMatchObject([
        {
          id: "kst-a",
          name: "Payments, EU",
          site: "international",
          expires_at: Date.UTC(2026, 11, 1),
          admin_disabled_at: null,
          released_at: null,
          channel: "C0PAYMENT",
          owner: "U0OWNER01",
          auto_renew_months: null,
          created_at: T0,
          updated_at: T0,
        },
        {
          id: "kst-b",
          name: "Ledger HSM",
          site: "china",
          expires_at: Date.UTC(2027, 0, 15),
          admin_disabled_at: null,
          released_at: null,
          channel: null,
          owner: null,
          auto_renew_months: null,
          created_at: T0,
          updated_at: T0,
        },
      ]);
    });

    it("updates the instances on re-import, keeping when they were created", async () => {
      expect((await cli("import", file("good.csv", good))).code).toBe(0);
      clock.set(T0 + 60_000);
      const changed = [
        // Columns in another order, with a byte order mark, as spreadsheets write them.
        "\uFEFFname,instance_id,expires_at,site,owner,channel",
        '"Payments, EU (renamed)",kst-a,2027-12-01T08:00:00+08:00,international,,',
        '"Ledger ""HSM""",kst-b,2027-01-15,china,U0OWNER02,C0LEDGER1',
        "New one,kst-c,2026-06-30T12:00:00Z,international,,",
      ].join("\n");
      // The file moves kst-a's expiry: that takes --force-dates (kst-a has no period sold by the bot).
      const run = await cli("import", file("changed.csv", changed), "--force-dates");
      expect(run).toMatchObject({ code: 0, stderr: "" });
      expect(run.stdout).toMatch(
        /^line 2 kst-a: updated name, channel, owner, expires_at\nline 3 kst-b: updated name, channel, owner\nline 4 kst-c: created\nImported 3 instance\(s\): 1 new, 2 updated, 0 unchanged\. Import id imp-/,
      );
      const rows = await instances();
      expect(rows.map((r) => [r.id, r.name, r.expires_at, r.channel, r.owner])).toEqual([
        ["kst-c", "New one", Date.UTC(2026, 5, 30, 12), null, null],
        ["kst-b", 'Ledger "HSM"', Date.UTC(2027, 0, 15), "C0LEDGER1", "U0OWNER02"],
        ["kst-a", "Payments, EU (renamed)", Date.UTC(2027, 11, 1), null, null],
      ]);
      const byId = Object.fromEntries(rows.map((r) => [r.id, r]));
      expect(byId["kst-a"]?.created_at).toBe(T0);
      expect(byId["kst-a"]?.updated_at).toBe(T0 + 60_000);
      expect(byId["kst-c"]?.created_at).toBe(T0 + 60_000);
    });

    it("reads dates without an offset in KMS_TIMEZONE", async () => {
      env = { ...env, KMS_TIMEZONE: "Asia/Shanghai" };
      const csv = `${HEADER}\nkst-a,A,international,2026-12-01,,\n`;
      expect((await cli("import", file("tz.csv", csv))).code).toBe(0);
      expect((await instances())[0]?.expires_at).toBe(Date.UTC(2026, 10, 30, 16));
    });

    describe("refuses a bad file with its line number and writes nothing", () => {
      beforeEach(async () => {
        expect((await cli("import", file("good.csv", good))).code).toBe(0);
        clock.set(T0 + 60_000);
      });

      // Every bad file first updates kst-a and (where there is room) creates kst-new, so a
      // partial write would show.
      const update = "kst-a,Renamed,international,2030-01-01T00:00:00Z,,";
      const create = "kst-new,Brand new,china,2030-01-01T00:00:00Z,,";
      const cases: Array<[string, string[], RegExp]> = [
        [
          "an unknown site on line 3",
          [HEADER, update, "kst-x,Bad site,europe,2030-01-01T00:00:00Z,,"],
          /^kms-bot: Invalid CSV line 3: site must be international or china\n$/,
        ],
        [
          "an impossible date (2026-02-30) on line 4",
          [HEADER, create, update, "kst-x,Bad date,china,2026-02-30,,"],
          /^kms-bot: Invalid CSV line 4: expires_at "2026-02-30" is not an ISO 8601 date/,
        ],
        [
          "a duplicate instance id, after a blank line",
          [HEADER, create, update, "", "kst-new,Again,china,2030-01-01T00:00:00Z,,"],
          /^kms-bot: Invalid CSV line 5: instance_id kst-new already appears on line 2\n$/,
        ],
        [
          "a header missing a column",
          ["instance_id,name,site,expires_at,channel", create, update],
          /^kms-bot: Invalid CSV line 1: missing column\(s\) owner; the header must be instance_id,name,site,expires_at,channel,owner\n$/,
        ],
        [
          "a quote in the middle of a quoted field",
          [HEADER, create, update, 'kst-x,"Bad "quote" name",china,2030-01-01,,'],
          /^kms-bot: Invalid CSV line 4: text after a closing quote/,
        ],
        [
          "a quoted field never closed",
          [
            HEADER,
            create,
            update,
            'kst-x,"Unclosed,china,2030-01-01,,',
            "kst-y,Y,china,2030-01-01,,",
          ],
          /^kms-bot: Invalid CSV line 4: a quoted field is never closed\n$/,
        ],
        [
          "a row with the wrong number of fields",
          [HEADER, create, update, "kst-x,Short,china,2030-01-01,"],
          /^kms-bot: Invalid CSV line 4: has 5 field\(s\), the header has 6\n$/,
        ],
        [
          "a bad owner id",
          [HEADER, create, update, "kst-x,Owner,china,2030-01-01,,bob"],
          /^kms-bot: Invalid CSV line 4: owner is not a Slack user id\n$/,
        ],
      ];

      it.each(cases)("%s", async (_name, lines, message) => {
        const before = await instances();
        const run = await cli("import", file("bad.csv", `${lines.join("\r\n")}\r\n`));
        expect(run.code).toBe(1);
        expect(run.stdout).toBe("");
        expect(run.stderr).toMatch(message);
        expect(await instances()).toEqual(before);
        expect(before.map((r) => r.id)).toEqual(["kst-a", "kst-b"]);
      });

      it("a missing file", async () => {
        const before = await instances();
        const missing = join(dir, "nope.csv");
        const run = await cli("import", missing);
        expect(run).toEqual({
          code: 1,
          stdout: "",
          stderr: `kms-bot: No such file or folder: ${missing}\n`,
        });
        expect(await instances()).toEqual(before);
      });

      it("a folder instead of a file", async () => {
        const before = await instances();
        const run = await cli("import", dir);
        expect(run).toEqual({
          code: 1,
          stdout: "",
          stderr: `kms-bot: ${dir} is a folder, not a file\n`,
        });
        expect(await instances()).toEqual(before);
      });

      it("no file or two files, with usage", async () => {
        for (const argv of [["import"], ["import", "a.csv", "b.csv"]]) {
          const run = await cli(...argv);
          expect(run.code).toBe(2);
          expect(run.stderr).toContain("import takes one file");
          expect(run.stderr).toContain(USAGE);
        }
        expect((await instances()).map((r) => r.name)).toEqual(["Payments, EU", "Ledger HSM"]);
      });
    });
  });

  describe("topup", () => {
    it("adds a recharge to the balance", async () => {
      const run = await cli("topup", "1,000.50");
      expect(run).toEqual({
        code: 0,
        stdout: "Recharged USD 1,000.50. Balance: USD 1,000.50\n",
        stderr: "",
      });
      expect(await balance(ctx())).toBe(100_050);
      const second = await cli("topup", "USD 99.50");
      expect(second.stdout).toBe("Recharged USD 99.50. Balance: USD 1,100.00\n");
      expect(await balance(ctx())).toBe(110_000);
      expect(await ledgerSum({ tx: t.db })).toBe(110_000);
      const rows = await t.db("ledger").orderBy("id");
      expect(
        rows.map((r) => [r.kind, Number(r.amount_cents), r.actor, Number(r.created_at)]),
      ).toEqual([
        ["recharge", 100_050, "cli", T0],
        ["recharge", 9_950, "cli", T0],
      ]);
    });

    it.each([
      ["-5", /positive/],
      ["0", /more than zero/],
      ["abc", /"abc" is not an amount/],
      ["1.234", /at most 2 decimals/],
      ["10,000,000.01", /larger than USD 10,000,000\.00/],
    ])("refuses %j with a message and writes no ledger row", async (amount, message) => {
      const run = await cli("topup", amount);
      expect(run.code).toBe(1);
      expect(run.stdout).toBe("");
      expect(run.stderr).toMatch(/^kms-bot: Invalid amount: /);
      expect(run.stderr).toMatch(message);
      expect(await ledgerRows()).toBe(0);
      expect(await balance(ctx())).toBe(0);
    });

    it("takes exactly one amount", async () => {
      for (const argv of [["topup"], ["topup", "1,000", "50"]]) {
        const run = await cli(...argv);
        expect(run.code).toBe(2);
        expect(run.stderr).toContain("topup takes one amount");
      }
      expect(await ledgerRows()).toBe(0);
    });
  });

  describe("bills", () => {
    it("writes the month's bill lines as CSV to a file", async () => {
      expect((await cli("topup", "1,000.50")).code).toBe(0);
      clock.set(Date.UTC(2026, 1, 1)); // the next month's recharge is not in January's bill
      expect((await cli("topup", "5")).code).toBe(0);
      const out = join(dir, "bills-2026-01.csv");
      const run = await cli("bills", "--month", "2026-01", "--out", out);
      expect(run).toEqual({ code: 0, stdout: `Wrote ${out}\n`, stderr: "" });
      expect(readFileSync(out, "utf8")).toBe(
        `${BILL_HEADER}\r\n2026-01,2026-01-10T12:00:00+00:00,,Recharge,,,,,,,1000.50,1000.50\r\n`,
      );
      // No temporary file is left beside it.
      expect(readdirSync(dir)).toEqual(["bills-2026-01.csv"]);
    });

    it("shows times and cycles in KMS_TIMEZONE", async () => {
      clock.set(Date.UTC(2026, 0, 31, 20)); // 1 February 04:00 in Shanghai
      env = { ...env, KMS_TIMEZONE: "Asia/Shanghai" };
      expect((await cli("topup", "12")).code).toBe(0);
      const jan = await cli("bills", "--month", "2026-01");
      expect(jan.stdout).toBe(`${BILL_HEADER}\r\n`);
      const feb = await cli("bills", "--month", "2026-02");
      expect(feb.stdout).toBe(
        `${BILL_HEADER}\r\n2026-02,2026-02-01T04:00:00+08:00,,Recharge,,,,,,,12.00,12.00\r\n`,
      );
    });

    it("prints the current month to stdout by default", async () => {
      expect((await cli("topup", "7.25")).code).toBe(0);
      const run = await cli("bills");
      expect(run.code).toBe(0);
      expect(run.stdout.split("\r\n")).toEqual([
        BILL_HEADER,
        "2026-01,2026-01-10T12:00:00+00:00,,Recharge,,,,,,,7.25,7.25",
        "",
      ]);
    });

    it("refuses a month that does not exist and writes no file", async () => {
      const out = join(dir, "bills.csv");
      const run = await cli("bills", "--month", "2026-13", "--out", out);
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(
        'kms-bot: Invalid month: "2026-13" is not a month; write it as YYYY-MM\n',
      );
      expect(existsSync(out)).toBe(false);
    });

    it("says which file it can't write, and leaves nothing behind", async () => {
      const out = join(dir, "no-such-folder", "bills.csv");
      const run = await cli("bills", "--month", "2026-01", "--out", out);
      expect(run).toEqual({
        code: 1,
        stdout: "",
        stderr: `kms-bot: No such file or folder: ${out}\n`,
      });
      expect(readdirSync(dir)).toEqual([]);
    });

    it("refuses unknown options with usage", async () => {
      const run = await cli("bills", "--year", "2026");
      expect(run.code).toBe(2);
      expect(run.stderr).toContain("--year");
      expect(run.stderr).toContain(USAGE);
    });
  });

  describe("usage and configuration", () => {
    it("answers an unknown command with exit 2 and the usage", async () => {
      const run = await cli("frobnicate");
      expect(run.code).toBe(2);
      expect(run.stdout).toBe("");
      expect(run.stderr).toBe(`kms-bot: unknown command "frobnicate"\n\n${USAGE}\n`);
    });

    it("prints usage for help (exit 0) and without a command (exit 2)", async () => {
      expect(await cli("help")).toEqual({ code: 0, stdout: `${USAGE}\n`, stderr: "" });
      expect(await cli()).toEqual({ code: 2, stdout: `${USAGE}\n`, stderr: "" });
    });

    it("stops with exit 2 naming DATABASE_URL when it is not sqlite or postgres", async () => {
      env = { DATABASE_URL: "mysql://x", KMS_TIMEZONE: "UTC" };
      const run = await cli("topup", "5");
      expect(run.code).toBe(2);
      expect(run.stdout).toBe("");
      expect(run.stderr).toMatch(/^Invalid configuration:/);
      expect(run.stderr).toContain("DATABASE_URL");
      expect(run.stderr).not.toContain("KMS_TIMEZONE");
    });

    it("names every bad variable at once", async () => {
      env = { DATABASE_URL: t.url, KMS_TIMEZONE: "Mars/Base", KMS_ADMIN_USERS: "bob" };
      const run = await cli("migrate");
      expect(run.code).toBe(2);
      expect(run.stderr).toContain("KMS_TIMEZONE");
      expect(run.stderr).toContain("KMS_ADMIN_USERS");
    });
  });
});
