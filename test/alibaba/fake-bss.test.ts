// The fake BSS OpenAPI refuses what Alibaba Cloud's gateway refuses, so the tests over it
// can't pass with an unsigned or mis-versioned client.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FakeBss, startFakeBss } from "../helpers/fake-bss.js";

describe("fake BSS OpenAPI gateway checks", () => {
  let fake: FakeBss;
  beforeEach(async () => {
    fake = await startFakeBss();
  });
  afterEach(async () => {
    await fake.close();
  });

  const post = async (headers: Record<string, string>) => {
    const res = await fetch(`${fake.url}/?ProductCode=kms`, { method: "POST", headers });
    return { status: res.status, body: (await res.json()) as { Code: string } };
  };

  it("answers an unknown action, another API version and a missing or forged signature as the gateway does", async () => {
    expect(
      await post({ "x-acs-action": "DeleteEverything", "x-acs-version": "2017-12-14" }),
    ).toMatchObject({
      status: 404,
      body: { Code: "InvalidAction.NotFound" },
    });
    expect(
      await post({ "x-acs-action": "QueryAccountBalance", "x-acs-version": "2014-05-26" }),
    ).toMatchObject({
      status: 400,
      body: { Code: "InvalidVersion" },
    });
    expect(
      await post({ "x-acs-action": "QueryAccountBalance", "x-acs-version": "2017-12-14" }),
    ).toMatchObject({
      status: 400,
      body: { Code: "MissingAuthorization" },
    });
    const forged = {
      "x-acs-action": "QueryAccountBalance",
      "x-acs-version": "2017-12-14",
      "x-acs-date": "2026-01-10T12:00:00Z",
      "x-acs-content-sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      authorization: `ACS3-HMAC-SHA256 Credential=LTAI5tFakeKmsBotKeyId,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-version,Signature=${"0".repeat(64)}`,
    };
    expect(await post(forged)).toMatchObject({
      status: 400,
      body: { Code: "SignatureDoesNotMatch" },
    });
    expect(fake.calls).toHaveLength(0);
  });
});
