import { type AccountDeps, BalanceCache } from "../../src/alibaba/account.js";
import { createBssClient } from "../../src/alibaba/client.js";
import { type AlibabaSettings, resolveEndpoint } from "../../src/alibaba/settings.js";
import { DAY_MS } from "../../src/billing/lifecycle.js";
import {
  type FakeBss,
  type FakeInstance,
  TEST_ACCESS_KEY_ID,
  TEST_ACCESS_KEY_SECRET,
} from "./fake-bss.js";

/** The settings that point the real SDK at the fake account. */
export function fakeSettings(
  fake: FakeBss,
  overrides: Partial<AlibabaSettings> = {},
): AlibabaSettings {
  return {
    accessKeyId: TEST_ACCESS_KEY_ID,
    accessKeySecret: TEST_ACCESS_KEY_SECRET,
    site: "international",
    ...resolveEndpoint(fake.url),
    productCode: "kms",
    readTimeoutMs: 1_500,
    balanceTtlMs: 30_000,
    ...overrides,
  };
}

/** What src/alibaba's functions take, talking to `fake` over HTTP through the official SDK. */
export function fakeAccountDeps(
  fake: FakeBss,
  overrides: Partial<AlibabaSettings> = {},
): AccountDeps {
  const settings = fakeSettings(fake, overrides);
  // Throttling backoff in tests: real retries, short waits.
  return {
    bss: createBssClient(settings, (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 20)))),
    settings,
    balance: new BalanceCache(settings.balanceTtlMs),
  };
}

/** The environment that puts the bot or the CLI in alibaba mode against `fake`. */
export function alibabaEnv(fake: FakeBss, secret = TEST_ACCESS_KEY_SECRET): Record<string, string> {
  return {
    KMS_PROVIDER: "alibaba",
    ALIBABA_CLOUD_ACCESS_KEY_ID: TEST_ACCESS_KEY_ID,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: secret,
    KMS_ALIBABA_ENDPOINT: fake.url,
  };
}

/** `count` account instances `kst-0000`... expiring a day apart from `from + 10 days`. */
export function accountFleet(count: number, from: number): FakeInstance[] {
  return Array.from({ length: count }, (_, i) => ({
    InstanceID: `kst-${String(i).padStart(4, "0")}`,
    // Whole seconds: the API's EndTime has no milliseconds.
    endTime: Math.floor((from + (10 + i) * DAY_MS) / 1000) * 1000,
    RenewStatus: "ManualRenewal" as const,
  }));
}
