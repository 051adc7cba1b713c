/**
 * A fake of Alibaba Cloud's Expenses and Costs API (BSS OpenAPI, version 2017-12-14) for tests:
 * a real node:http server on 127.0.0.1 that the official SDK reaches through
 * `KMS_ALIBABA_ENDPOINT=http://127.0.0.1:<port>`. It checks the `x-acs-action` and
 * `x-acs-version` headers and verifies the `ACS3-HMAC-SHA256` Authorization header as Alibaba
 * Cloud documents the V3 signature (canonical request of method, path, sorted query, the signed
 * headers and the hashed payload `x-acs-content-sha256`; string to sign
 * `ACS3-HMAC-SHA256\n<hex sha256 of it>`; hex HMAC-SHA256 with the AccessKey secret). The
 * account lives in test/helpers/fake-bss-account.ts. Faults can be injected per action.
 */
import { createHash, createHmac } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import {
  type AccountState,
  type Answer,
  applyRenewal,
  type FakeInstance,
  getSubscriptionPrice,
  type Params,
  queryAccountBalance,
  queryAvailableInstances,
  queryInstanceBill,
  refuse,
  renewInstance,
  setRenewal,
} from "./fake-bss-account.js";

export type { FakeInstance, FakeOrder } from "./fake-bss-account.js";

export const BSS_VERSION = "2017-12-14";
export const TEST_ACCESS_KEY_ID = "LTAI5tFakeKmsBotKeyId";
export const TEST_ACCESS_KEY_SECRET = "fake-secret-0123456789abcdefghij";

const OPERATIONS: Record<string, (state: AccountState, params: Params) => Answer> = {
  QueryAvailableInstances: queryAvailableInstances,
  QueryAccountBalance: (state) => queryAccountBalance(state),
  GetSubscriptionPrice: getSubscriptionPrice,
  RenewInstance: renewInstance,
  SetRenewal: setRenewal,
  QueryInstanceBill: queryInstanceBill,
};

/**
 * What to do instead of (or after) answering: `status` answers that HTTP status with `code`;
 * `hang` never answers (the caller's read timeout fires). With `apply: true` the operation
 * is carried out first (the account renewed, the answer was lost).
 */
export type BssFault =
  | { kind: "status"; status: number; code?: string; apply?: boolean }
  | { kind: "hang"; apply?: boolean };

export interface BssCall {
  action: string;
  params: Params;
  status?: number;
  body?: Record<string, unknown>;
}

export interface FakeBssOptions {
  instances?: FakeInstance[];
  balanceCents?: number;
  monthlyCents?: number;
  productCode?: string;
  /** The clock the account runs on (default Date.now). */
  now?: () => number;
  /** AccessKey id -> secret; default the one test key. */
  keys?: Record<string, string>;
  /** AccessKey ids that may only call these actions (others answer Forbidden.RAM). */
  allowedActions?: Record<string, string[]>;
}

export interface FakeBss {
  /** `http://127.0.0.1:<port>`: the value for KMS_ALIBABA_ENDPOINT. */
  url: string;
  state: AccountState;
  calls: BssCall[];
  /** Every call of `action` so far. */
  callsOf(action: string): BssCall[];
  /** Injects `fault` into the next `times` calls of `action`. */
  failNext(action: string, fault: BssFault, times?: number): void;
  /** Resolves when a call of `action` arrives (after any fault was applied). */
  waitFor(action: string): Promise<BssCall>;
  /** A renewal made in the Alibaba Cloud console (not through the API). */
  renewInConsole(instanceId: string, months: number): void;
  close(): Promise<void>;
}

function canonicalQuery(params: URLSearchParams): string {
  const encode = (s: string) =>
    encodeURIComponent(s).replace(
      /[!'()*]/g,
      (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
    );
  return [...params.keys()]
    .sort()
    .map((k) => `${encode(k)}=${encode(params.get(k) ?? "")}`)
    .join("&");
}

const AUTH = /^ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]{64})$/;
const REQUIRED_SIGNED = [
  "host",
  "x-acs-action",
  "x-acs-content-sha256",
  "x-acs-date",
  "x-acs-version",
];

/** Verifies the V3 signature; returns the refusal Alibaba Cloud would give, or the key id. */
export function verifySignature(
  req: IncomingMessage,
  body: Buffer,
  keys: Record<string, string>,
): Answer | string {
  const match = AUTH.exec(String(req.headers.authorization ?? ""));
  if (!match) return refuse(400, "MissingAuthorization", "The Authorization header is malformed.");
  const [, keyId, signedList, signature] = match;
  const secret = keys[keyId];
  if (secret === undefined)
    return refuse(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.");
  const signed = signedList.split(";");
  if (
    REQUIRED_SIGNED.some((h) => !signed.includes(h)) ||
    [...signed].sort().join(";") !== signedList
  )
    return refuse(
      400,
      "SignatureDoesNotMatch",
      "SignedHeaders must be sorted and cover host and x-acs-*.",
    );
  const payloadHash = createHash("sha256").update(body).digest("hex");
  if (req.headers["x-acs-content-sha256"] !== payloadHash)
    return refuse(400, "SignatureDoesNotMatch", "x-acs-content-sha256 does not match the body.");
  const url = new URL(req.url ?? "/", "http://fake");
  const headers = signed.map((h) => `${h}:${String(req.headers[h] ?? "").trim()}\n`).join("");
  const canonical = [
    req.method,
    url.pathname,
    canonicalQuery(url.searchParams),
    headers,
    signedList,
    payloadHash,
  ].join("\n");
  const toSign = `ACS3-HMAC-SHA256\n${createHash("sha256").update(canonical).digest("hex")}`;
  const expected = createHmac("sha256", secret).update(toSign).digest("hex");
  if (expected !== signature)
    return refuse(
      400,
      "SignatureDoesNotMatch",
      "The request signature does not conform to Aliyun standards.",
    );
  return keyId;
}

/** The account, the recorded calls and the injected faults behind one fake server. */
class FakeBssAccount {
  readonly calls: BssCall[] = [];
  readonly faults = new Map<string, BssFault[]>();
  readonly waiters: Array<{ action: string; resolve: (c: BssCall) => void }> = [];
  readonly state: AccountState;
  private readonly keys: Record<string, string>;

  constructor(private readonly options: FakeBssOptions) {
    this.state = {
      productCode: options.productCode ?? "kms",
      balanceCents: options.balanceCents ?? 0,
      monthlyCents: options.monthlyCents ?? 179_900,
      instances: new Map((options.instances ?? []).map((i) => [i.InstanceID, { ...i }])),
      orders: [],
      tokens: new Map(),
      now: options.now ?? Date.now,
    };
    this.keys = options.keys ?? { [TEST_ACCESS_KEY_ID]: TEST_ACCESS_KEY_SECRET };
  }

  /** The gateway's checks: action, version, signature, RAM; the refusal, if any. */
  private gate(req: IncomingMessage, body: Buffer, action: string): Answer | undefined {
    if (!OPERATIONS[action])
      return refuse(404, "InvalidAction.NotFound", `Action ${action} not found.`);
    const version = String(req.headers["x-acs-version"]);
    if (version !== BSS_VERSION)
      return refuse(400, "InvalidVersion", `Version ${version} is not supported.`);
    const key = verifySignature(req, body, this.keys);
    if (typeof key !== "string") return key;
    const allowed = this.options.allowedActions?.[key];
    if (allowed && !allowed.includes(action))
      return refuse(403, "Forbidden.RAM", `User not authorized to operate: ${action}.`);
    return undefined;
  }

  /** The answer to send, or undefined to leave the request hanging (a timeout). */
  answer(req: IncomingMessage, body: Buffer): Answer | undefined {
    const action = String(req.headers["x-acs-action"] ?? "");
    const refused = this.gate(req, body, action);
    if (refused) return refused;
    const operation = OPERATIONS[action];
    const params: Params = Object.fromEntries(new URL(req.url ?? "/", "http://fake").searchParams);
    if (String(req.headers["content-type"]).startsWith("application/x-www-form-urlencoded"))
      Object.assign(params, Object.fromEntries(new URLSearchParams(body.toString("utf8"))));
    const call: BssCall = { action, params };
    this.calls.push(call);
    const fault = this.faults.get(action)?.shift();
    if (fault?.apply) operation(this.state, params);
    let result: Answer | undefined;
    if (fault?.kind === "status") {
      result = refuse(
        fault.status,
        fault.code ?? "InternalError",
        "The request processing has failed.",
      );
    } else if (fault?.kind !== "hang") {
      result = operation(this.state, params);
    }
    if (result) Object.assign(call, { status: result.status, body: result.body });
    for (const w of this.waiters.filter((w) => w.action === action)) {
      this.waiters.splice(this.waiters.indexOf(w), 1);
      w.resolve(call);
    }
    return result;
  }
}

export async function startFakeBss(options: FakeBssOptions = {}): Promise<FakeBss> {
  const account = new FakeBssAccount(options);
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const result = account.answer(req, Buffer.concat(chunks));
      if (!result) return;
      res.writeHead(result.status, { "content-type": "application/json;charset=utf-8" });
      res.end(JSON.stringify(result.body));
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const { state, calls } = account;
  return {
    url: `http://127.0.0.1:${port}`,
    state,
    calls,
    callsOf: (action) => calls.filter((c) => c.action === action),
    failNext(action, fault, times = 1) {
      const list = account.faults.get(action) ?? [];
      for (let i = 0; i < times; i++) list.push(fault);
      account.faults.set(action, list);
    },
    waitFor: (action) => new Promise((resolve) => account.waiters.push({ action, resolve })),
    renewInConsole(instanceId, months) {
      const answer = applyRenewal(state, instanceId, months, "console");
      if (answer.status !== 200)
        throw new Error(`console renewal refused: ${String(answer.body.Code)}`);
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
