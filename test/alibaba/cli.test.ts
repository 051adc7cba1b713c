// `kms-bot` in alibaba mode, in-process against the fake account: sync prints what changed,
// import takes the account's date for an empty expires_at, topup refers to the console, bills
// come from the account.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli.js";
import { fixedClock } from "../../src/clock.js";
import { getInstance } from "../../src/store/instances.js";
import { accountFleet, alibabaEnv } from "../helpers/alibaba.js";
import { T0 } from "../helpers/billing.js";
import { createTestDatabase, DATABASES, type TestDatabase } from "../helpers/databases.js";
import { type FakeBss, startFakeBss } from "../helpers/fake-bss.js";

describe.each(DATABASES)("kms-bot with KMS_PROVIDER=alibaba (%s)", (dbId) => {
  let t: TestDatabase;
  let fake: FakeBss;
  let dir: string;
  const clock = fixedClock(T0);

  async function cli(...argv: string[]) {
    let stdout = "";
    let stderr = "";
    const env = { DATABASE_URL: t.processUrl, KMS_TIMEZONE: "UTC", ...alibabaEnv(fake) };
    const code = await runCli(argv, {
      env,
      stdout: (s) => {
        stdout += s;
      },
      stderr: (s) => {
        stderr += s;
      },
      clock,
    });
    return { code, stdout, stderr };
  }

  beforeEach(async () => {
    t = await createTestDatabase(dbId);
    dir = mkdtempSync(join(tmpdir(), "kms-alibaba-cli-"));
    fake = await startFakeBss({
      instances: accountFleet(2, T0),
      balanceCents: 1_000_000,
      now: clock,
    });
  });
  afterEach(async () => {
    await fake.close();
    await t.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it("sync prints what changed", async () => {
    const first = await cli("sync");
    expect(first).toMatchObject({ code: 0, stderr: "" });
    expect(first.stdout).toBe(
      "+ kst-0000: expires 2026-01-20T12:00:00+00:00, auto-renewal off\n" +
        "+ kst-0001: expires 2026-01-21T12:00:00+00:00, auto-renewal off\n" +
        "Synced with the Alibaba Cloud account: 2 added, 0 updated, 0 released, 0 unchanged.\n",
    );
    fake.renewInConsole("kst-0001", 1);
    expect((await cli("sync")).stdout).toBe(
      "~ kst-0001: expiry 2026-01-21T12:00:00+00:00 -> 2026-02-21T12:00:00+00:00\n" +
        "Synced with the Alibaba Cloud account: 0 added, 1 updated, 0 released, 1 unchanged.\n",
    );
  });

  it("import: an empty expires_at takes the account's date; an instance not on the account is refused by line", async () => {
    const csv = join(dir, "fleet.csv");
    writeFileSync(
      csv,
      "instance_id,name,site,expires_at,channel,owner\nkst-0000,payments,international,,C0PAY,U0OWNER1\n",
    );
    expect(await cli("import", csv)).toMatchObject({ code: 0 });
    expect(await getInstance({ tx: t.db }, "kst-0000")).toMatchObject({
      name: "payments",
      channel: "C0PAY",
      owner: "U0OWNER1",
      expires_at: fake.state.instances.get("kst-0000")?.endTime,
    });
    writeFileSync(
      csv,
      "instance_id,name,site,expires_at,channel,owner\nkst-0001,a,international,,,\nkst-9999,b,international,,,\n",
    );
    const refused = await cli("import", csv);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      "kms-bot: Invalid CSV line 3: expires_at is empty and kst-9999 is not on the Alibaba Cloud account\n",
    );
    expect((await getInstance({ tx: t.db }, "kst-0001"))?.name).toBe("kst-0001");
  });

  it("topup refers to the console and changes nothing", async () => {
    const result = await cli("topup", "100");
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/topup is not available with KMS_PROVIDER=alibaba.*console/);
    expect(fake.state.balanceCents).toBe(1_000_000);
  });

  it("renew from the shell, then bills from the account", async () => {
    await cli("sync");
    const renewed = await cli("renew", "kst-0000", "2", "--key", "shell-1");
    expect(renewed.stdout).toMatch(
      /^Renewed kst-0000 for 2 months: ORD-000001 \(Alibaba Cloud order \d+\), USD 3,598.00\. Expires 2026-03-20T12:00:00\+00:00\. Balance: USD 6,402\.00\.\n$/,
    );
    expect((await cli("renew", "kst-0000", "2", "--key", "shell-1")).stdout).toMatch(
      /^Already renewed/,
    );
    expect(fake.state.orders).toHaveLength(1);
    const bills = await cli("bills", "--month", "2026-01");
    expect(bills.stdout.split("\r\n").slice(0, 2)).toEqual([
      "billing_cycle,date,order_id,account_order_id,item,instance_id,months,amount_usd,source",
      `2026-01,2026-01-10,ORD-000001,${fake.state.orders[0].OrderId},SubscriptionOrder,kst-0000,2,3598.00,both`,
    ]);
  });

  it("sync in local mode says it needs alibaba", async () => {
    let stderr = "";
    const code = await runCli(["sync"], {
      env: { DATABASE_URL: t.processUrl },
      stdout: () => {},
      stderr: (s) => {
        stderr += s;
      },
      clock,
    });
    expect(code).toBe(1);
    expect(stderr).toBe(
      "kms-bot: sync works with KMS_PROVIDER=alibaba; this bot keeps its own ledger (local).\n",
    );
  });
});
