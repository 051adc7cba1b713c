import { afterEach, describe, expect, it } from "vitest";
import { startTestBot, type TestBot } from "../helpers/app.js";
import { DATABASES } from "../helpers/databases.js";

async function health(s: TestBot): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${s.url}/healthz`);
  return { status: res.status, body: await res.json() };
}

describe.each(DATABASES)("/healthz (%s)", (db) => {
  let s: TestBot | undefined;
  afterEach(async () => {
    await s?.close();
  });

  it("answers 200 with the database when it can write", async () => {
    s = await startTestBot({ db });
    expect(await health(s)).toEqual({ status: 200, body: { ok: true, database: db } });
  });
});

describe("/healthz while another process holds SQLite's write lock", () => {
  let s: TestBot | undefined;
  afterEach(async () => {
    await s?.close();
  });

  it("says the database is busy (503) after about a second, and 200 again once it is free", async () => {
    s = await startTestBot();
    // Another handle on the same file, as `kms-bot import` in another process would be.
    const other = s.t.another();
    await other.raw("BEGIN IMMEDIATE");
    try {
      expect(await health(s)).toEqual({ status: 503, body: { ok: false, database: "busy" } });
    } finally {
      await other.raw("ROLLBACK");
    }
    expect(await health(s)).toEqual({ status: 200, body: { ok: true, database: "sqlite" } });
  });
});
