import type { BaseConfig } from "../config.js";
import type { Site } from "../store/rows.js";

/** How the bot reaches the Alibaba Cloud account (KMS_PROVIDER=alibaba). */
export interface AlibabaSettings {
  accessKeyId: string;
  accessKeySecret: string;
  site: Site;
  /** `host[:port]` as the SDK wants it. */
  endpoint: string;
  protocol: "https" | "http";
  productCode: string;
  /** How long one call may wait for an answer before it counts as a timeout. */
  readTimeoutMs: number;
  /** How long the balance read from the account is reused. */
  balanceTtlMs: number;
}

export const DEFAULT_ENDPOINTS: Record<Site, string> = {
  international: "business.ap-southeast-1.aliyuncs.com",
  china: "business.aliyuncs.com",
};

/** `business.aliyuncs.com` -> https; `http://127.0.0.1:8080` -> that host over http. */
export function resolveEndpoint(text: string): { endpoint: string; protocol: "https" | "http" } {
  const match = /^(?:(https?):\/\/)?([^/]+)\/?$/.exec(text.trim());
  if (!match) throw new Error(`not an endpoint: ${text}`);
  return { protocol: match[1] === "http" ? "http" : "https", endpoint: match[2] };
}

/** The settings of `alibaba` mode, or null with `KMS_PROVIDER=local`. */
export function alibabaSettings(config: BaseConfig): AlibabaSettings | null {
  if (config.KMS_PROVIDER !== "alibaba") return null;
  const site = config.KMS_ALIBABA_SITE;
  return {
    // The config loader refuses alibaba without both (providerProblems).
    accessKeyId: config.ALIBABA_CLOUD_ACCESS_KEY_ID ?? "",
    accessKeySecret: config.ALIBABA_CLOUD_ACCESS_KEY_SECRET ?? "",
    site,
    ...resolveEndpoint(config.KMS_ALIBABA_ENDPOINT ?? DEFAULT_ENDPOINTS[site]),
    productCode: config.KMS_ALIBABA_PRODUCT_CODE,
    readTimeoutMs: 10_000,
    balanceTtlMs: 30_000,
  };
}
