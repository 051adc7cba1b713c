import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DAY_MS, seedInstance } from "../helpers/billing.js";
import { runCliProcess } from "../helpers/cli-process.js";
import { createTestDatabase, type TestDatabase } from "../helpers/databases.js";
import { type FakeSlack, startFakeSlack } from "../helpers/fake-slack.js";
import { ALERTS, cliEnv, count, okPosts, timerAudit, warnings } from "./harness.js";

const AT = Date.UTC(2027, 0, 1, 0, 0, 0);
const AT_ISO = "2027-01-01T00:00:00Z";

describe("kms-bot sweep", () => {
  let t: TestDatabase;
  let fake: FakeSlack;
  let env: Record<string, string>;
  /** Everything a sweep could change, to compare before and after. */
  const snapshot = async () => ({
    instances: await t.db("instances").orderBy("id"),
    warnings: await t.db("warnings").orderBy("id"),
    audit: await t.db("audit_log").orderBy("id"),
    leases: await t.db("leases").orderBy("name"),
    orders: await t.db("orders").orderBy("id"),
    ledger: await t.db("ledger").orderBy("id"),
  });

  beforeEach(async () => {
    t = await createTestDatabase("sqlite");
    fake = await startFakeSlack();
    env = cliEnv(t, fake);
    await seedInstance(t.db, { id: "kst-soon", expires_at: AT + 5 * DAY_MS, channel: "C0TEAM" });
    await seedInstance(t.db, { id: "kst-gone", expires_at: AT - 3 * DAY_MS });
    await seedInstance(t.db, { id: "kst-old", expires_at: AT - 20 * DAY_MS, channel: "C0OLD" });
    await seedInstance(t.db, { id: "kst-far", expires_at: AT + 200 * DAY_MS });
  });
  afterEach(async () => {
    fake.assertNoViolations();
    await fake.close();
    await t.destroy();
  });

  it("--dry-run prints every transition and post it would make, and changes nothing", async () => {
    const before = await snapshot();
    const r = await runCliProcess(["sweep", "--at", AT_ISO, "--dry-run"], env);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toContain("would mark kst-gone disabled (expired)");
    expect(lines).toContain("would mark kst-old released");
    expect(lines).toContain("would warn kst-soon: pre-expiry (7 day(s))");
    expect(r.stdout).not.toContain("kst-far");
    expect(lines.at(-1)).toMatch(
      /^dry run, nothing changed: sweep 2027-01-01T00:00:00Z: checked 3, transitioned 0, renewed 0, posted 0, failed 0, next due /,
    );
    expect(await snapshot()).toEqual(before);
    expect(await count(t.db, "warnings")).toBe(0);
    expect(await count(t.db, "audit_log")).toBe(0);
    expect(fake.calls).toEqual([]);
  });

  it("--dry-run needs no bot token", async () => {
    const { SLACK_BOT_TOKEN: _, ...noToken } = env;
    const r = await runCliProcess(["sweep", "--at", AT_ISO, "--dry-run"], noToken);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("dry run, nothing changed: sweep 2027-01-01T00:00:00Z");
    expect(fake.calls).toEqual([]);
  });

  it("refuses a malformed --at with the usage, exit 2, changing nothing", async () => {
    const before = await snapshot();
    for (const at of ["yesterday", "2027-13-01T00:00:00Z", ""]) {
      const r = await runCliProcess(["sweep", "--at", at], env);
      expect(r.code, `--at "${at}"`).toBe(2);
      expect(r.stderr).toContain("Usage: kms-bot");
      expect(r.stderr).toContain("--at");
    }
    expect(await snapshot()).toEqual(before);
    expect(fake.calls).toEqual([]);
  });

  it("without SLACK_BOT_TOKEN (and not a dry run) exits 2 naming it", async () => {
    const { SLACK_BOT_TOKEN: _, ...noToken } = env;
    const before = await snapshot();
    const r = await runCliProcess(["sweep", "--at", AT_ISO], noToken);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("SLACK_BOT_TOKEN");
    expect(r.stdout).toBe("");
    expect(await snapshot()).toEqual(before);
    expect(fake.calls).toEqual([]);
  });

  it("sweep --at posts, prints each action and the summary, and the rows exist; a second run posts nothing", async () => {
    const r = await runCliProcess(["sweep", "--at", AT_ISO], env);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toContain("marked kst-gone disabled (expired)");
    expect(lines).toContain("marked kst-old released");
    expect(lines).toContain("posted pre-expiry for kst-soon in C0TEAM");
    expect(lines).toContain(`posted expired for kst-gone in ${ALERTS}`);
    expect(lines).toContain("posted released for kst-old in C0OLD");
    expect(lines.at(-1)).toMatch(
      /^sweep 2027-01-01T00:00:00Z: checked 3, transitioned 2, renewed 0, posted 3, failed 0, next due /,
    );
    expect(okPosts(fake)).toHaveLength(3);
    const rows = await warnings(t.db);
    expect(rows.map((w) => `${w.instance_id} ${w.kind} ${w.slot} ${w.status}`).sort()).toEqual([
      "kst-gone expired 0 sent",
      "kst-old released 0 sent",
      "kst-soon pre_expiry 7 sent",
    ]);
    for (const w of rows) expect(w.sent_at).toBe(AT);
    expect((await timerAudit(t.db)).sort()).toEqual([
      "instance.expired kst-gone",
      "instance.released kst-old",
    ]);
    const old = await t.db("instances").where({ id: "kst-old" }).first();
    expect(Number(old?.released_at)).toBe(AT - 5 * DAY_MS);

    const again = await runCliProcess(["sweep", "--at", AT_ISO], env);
    expect(again.code).toBe(0);
    expect(again.stdout.trim()).toMatch(
      /^sweep 2027-01-01T00:00:00Z: .*transitioned 0, renewed 0, posted 0, failed 0/,
    );
    expect(okPosts(fake)).toHaveLength(3);
  });

  it("exits 1 when posts failed, saying when they will be retried", async () => {
    fake.down();
    const r = await runCliProcess(["sweep", "--at", AT_ISO], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /could not post pre-expiry for kst-soon: http_503; retry after 2027-01-01T00:01:00Z/,
    );
    expect(r.stdout.trim().split("\n").at(-1)).toMatch(
      /posted 0, failed 3, next due 2027-01-01T00:01:00Z/,
    );
    expect((await warnings(t.db)).filter((w) => w.status === "pending")).toHaveLength(3);

    // A rehearsal after the retry time lists the posts it would retry, and retries nothing.
    fake.down(false);
    const before = await snapshot();
    const calls = fake.calls.length;
    const dry = await runCliProcess(["sweep", "--at", "2027-01-01T00:02:00Z", "--dry-run"], env);
    expect(dry.code).toBe(0);
    const lines = dry.stdout.trim().split("\n");
    expect(lines).toContain("would post pre-expiry for kst-soon");
    expect(lines).toContain("would post expired for kst-gone");
    expect(lines).toContain("would post released for kst-old");
    expect(await snapshot()).toEqual(before);
    expect(fake.calls).toHaveLength(calls);
  });
});
