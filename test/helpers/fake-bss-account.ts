/**
 * The account behind the fake BSS OpenAPI (test/helpers/fake-bss.ts): balance, subscription
 * instances with their renewal settings, orders, and the six operations kms-bot calls, with
 * the request parameters, response fields and error codes Alibaba Cloud documents for
 * Expenses and Costs (BSS OpenAPI 2017-12-14).
 */
import { randomBytes } from "node:crypto";

export type Params = Record<string, string>;
export type JsonObject = Record<string, unknown>;

/** An answer of the API: HTTP status and JSON body. */
export interface Answer {
  status: number;
  body: JsonObject;
}

export interface FakeInstance {
  InstanceID: string;
  /** Epoch ms; sent as `EndTime` in ISO 8601 (`2026-02-09T16:00:00Z`). */
  endTime: number;
  RenewStatus: "AutoRenewal" | "ManualRenewal" | "NotRenewal";
  RenewalDuration?: number;
  RenewalDurationUnit?: "M" | "Y";
  Region?: string;
  createTime?: number;
}

export interface FakeOrder {
  OrderId: string;
  InstanceID: string;
  months: number;
  amountCents: number;
  /** Epoch ms of the payment. */
  at: number;
  /** Who renewed: the bot (RenewInstance), the console, or the account's own auto-renewal. */
  via: "api" | "console" | "auto";
}

export interface AccountState {
  productCode: string;
  /** Prepaid balance: `AvailableAmount`. */
  balanceCents: number;
  /** Monthly list price of one instance; `TradePrice` is this times the months. */
  monthlyCents: number;
  instances: Map<string, FakeInstance>;
  orders: FakeOrder[];
  /** ClientToken -> the first answer given for it. */
  tokens: Map<string, Answer>;
  now: () => number;
}

const RENEW_PERIODS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 24, 36];
const RELEASE_AFTER_MS = 15 * 86_400_000;

export function ok(data?: unknown): Answer {
  const body: JsonObject = {
    RequestId: randomBytes(8).toString("hex").toUpperCase(),
    Success: true,
    Code: "Success",
    Message: "Successful!",
  };
  if (data !== undefined) body.Data = data;
  return { status: 200, body };
}

export function refuse(status: number, code: string, message: string): Answer {
  return {
    status,
    body: {
      RequestId: randomBytes(8).toString("hex").toUpperCase(),
      Success: false,
      Code: code,
      Message: message,
    },
  };
}

/** Decimal text of cents, as the account's string amounts read: `10000.00`. */
export function decimal(cents: number): string {
  return `${Math.trunc(cents / 100)}.${String(Math.abs(cents) % 100).padStart(2, "0")}`;
}

function iso(at: number): string {
  return new Date(at).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function addMonths(at: number, months: number): number {
  const d = new Date(at);
  const day = d.getUTCDate();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() + months);
  const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  d.setUTCDate(Math.min(day, last));
  return d.getTime();
}

function paging(params: Params): { pageNum: number; pageSize: number } | Answer {
  const pageNum = Number(params.PageNum ?? "1");
  const pageSize = Number(params.PageSize ?? "20");
  if (!Number.isInteger(pageNum) || pageNum < 1)
    return refuse(400, "InvalidParameter", "PageNum is invalid.");
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 300)
    return refuse(400, "InvalidParameter", "PageSize must be between 1 and 300.");
  return { pageNum, pageSize };
}

function instanceJson(state: AccountState, i: FakeInstance): JsonObject {
  return {
    InstanceID: i.InstanceID,
    ProductCode: state.productCode,
    ProductType: "",
    SubscriptionType: "Subscription",
    RenewStatus: i.RenewStatus,
    RenewalDuration: i.RenewalDuration ?? 0,
    RenewalDurationUnit: i.RenewalDurationUnit ?? "M",
    Status: i.endTime > state.now() ? "Normal" : "Expired",
    SubStatus: "Normal",
    Region: i.Region ?? "ap-southeast-1",
    CreateTime: iso(i.createTime ?? i.endTime - 365 * 86_400_000),
    EndTime: iso(i.endTime),
    ExpectedReleaseTime: iso(i.endTime + RELEASE_AFTER_MS),
    Seller: "26842",
    SellerId: 26842,
    OwnerId: 1234567890123456,
  };
}

/** Instances still on the account: released on the 16th day after expiry, as the seed says. */
function listed(state: AccountState): FakeInstance[] {
  return [...state.instances.values()]
    .filter((i) => i.endTime + RELEASE_AFTER_MS > state.now())
    .sort((a, b) => a.InstanceID.localeCompare(b.InstanceID));
}

export function queryAvailableInstances(state: AccountState, params: Params): Answer {
  const page = paging(params);
  if ("status" in page) return page;
  const ids = params.InstanceIDs?.split(",").filter(Boolean);
  const all =
    params.ProductCode !== undefined && params.ProductCode !== state.productCode
      ? []
      : listed(state).filter(
          (i) =>
            (!ids || ids.includes(i.InstanceID)) &&
            (!params.RenewStatus || params.RenewStatus === i.RenewStatus) &&
            (!params.SubscriptionType || params.SubscriptionType === "Subscription"),
        );
  const slice = all.slice((page.pageNum - 1) * page.pageSize, page.pageNum * page.pageSize);
  return ok({
    PageNum: page.pageNum,
    PageSize: page.pageSize,
    TotalCount: all.length,
    InstanceList: slice.map((i) => instanceJson(state, i)),
  });
}

export function queryAccountBalance(state: AccountState): Answer {
  return ok({
    AvailableAmount: decimal(state.balanceCents),
    AvailableCashAmount: decimal(state.balanceCents),
    CreditAmount: "0.00",
    MybankCreditAmount: "0.00",
    QuotaLimit: "0.00",
    Currency: "USD",
  });
}

function months(quantity: string | undefined, unit: string | undefined): number | undefined {
  const n = Number(quantity);
  if (!Number.isInteger(n) || n < 1) return undefined;
  if (unit === "Year") return n * 12;
  if (unit === "Month" || unit === undefined) return n;
  return undefined;
}

export function getSubscriptionPrice(state: AccountState, params: Params): Answer {
  if (params.SubscriptionType !== "Subscription")
    return refuse(400, "InvalidParameter", "SubscriptionType is mandatory: Subscription.");
  const n = months(params.ServicePeriodQuantity, params.ServicePeriodUnit);
  if (n === undefined)
    return refuse(400, "InvalidParameter", "ServicePeriodQuantity/ServicePeriodUnit is invalid.");
  if (params.OrderType === "Renewal") {
    const instance = params.InstanceId ? state.instances.get(params.InstanceId) : undefined;
    if (!instance) return refuse(400, "InvalidInstance.NotFound", "The instance does not exist.");
  } else if (params.OrderType !== "NewOrder") {
    return refuse(400, "InvalidParameter", "OrderType is invalid.");
  }
  const quantity = Number(params.Quantity ?? "1");
  const cents = state.monthlyCents * n * quantity;
  // The API's amounts are JSON numbers (e.g. 5397.3).
  return ok({
    OriginalPrice: cents / 100,
    DiscountPrice: 0,
    TradePrice: cents / 100,
    Currency: "USD",
    Quantity: quantity,
    ModuleDetails: { ModuleDetail: [] },
    PromotionDetails: { PromotionDetail: [] },
  });
}

/** Renews an instance and pays for it from the balance: what RenewInstance and the console do. */
export function applyRenewal(
  state: AccountState,
  instanceId: string,
  n: number,
  via: FakeOrder["via"],
): Answer {
  const instance = state.instances.get(instanceId);
  if (!instance || instance.endTime + RELEASE_AFTER_MS <= state.now())
    return refuse(400, "InvalidInstance.NotFound", `The instance ${instanceId} does not exist.`);
  const amount = state.monthlyCents * n;
  if (amount > state.balanceCents)
    return refuse(400, "PAY.INSUFFICIENT_BALANCE", "Your account does not have enough balance.");
  state.balanceCents -= amount;
  instance.endTime = addMonths(Math.max(instance.endTime, state.now()), n);
  const OrderId = String(21_000_000_000_000 + state.orders.length + 1);
  state.orders.push({
    OrderId,
    InstanceID: instanceId,
    months: n,
    amountCents: amount,
    at: state.now(),
    via,
  });
  return ok({ OrderId });
}

export function renewInstance(state: AccountState, params: Params): Answer {
  const token = params.ClientToken;
  if (token !== undefined) {
    if (!/^[\x20-\x7e]{1,64}$/.test(token))
      return refuse(400, "InvalidParameter", "ClientToken is at most 64 ASCII characters.");
    const first = state.tokens.get(token);
    if (first) return first;
  }
  const n = Number(params.RenewPeriod);
  if (params.ProductCode !== state.productCode)
    return refuse(400, "InvalidParameter", "ProductCode is invalid.");
  const answer = RENEW_PERIODS.includes(n)
    ? applyRenewal(state, params.InstanceId ?? "", n, "api")
    : refuse(400, "InvalidParameter", "RenewPeriod must be 1-9, 12, 24 or 36.");
  if (token !== undefined) state.tokens.set(token, answer);
  return answer;
}

export function setRenewal(state: AccountState, params: Params): Answer {
  const status = params.RenewalStatus;
  if (status !== "AutoRenewal" && status !== "ManualRenewal" && status !== "NotRenewal")
    return refuse(400, "InvalidParameter", "RenewalStatus is invalid.");
  const ids = (params.InstanceIDs ?? "").split(",").filter(Boolean);
  const unit = params.RenewalPeriodUnit;
  const period = Number(params.RenewalPeriod);
  if (status === "AutoRenewal" && ((unit !== "M" && unit !== "Y") || !(period >= 1)))
    return refuse(
      400,
      "InvalidParameter",
      "RenewalPeriod and RenewalPeriodUnit (M or Y) are required.",
    );
  const found = ids.map((id) => state.instances.get(id));
  if (ids.length === 0 || found.some((i) => !i))
    return refuse(400, "InvalidInstance.NotFound", "The instance does not exist.");
  for (const instance of found as FakeInstance[]) {
    instance.RenewStatus = status;
    instance.RenewalDuration = status === "AutoRenewal" ? period : undefined;
    instance.RenewalDurationUnit = status === "AutoRenewal" ? (unit as "M" | "Y") : undefined;
  }
  return ok();
}

export function queryInstanceBill(state: AccountState, params: Params): Answer {
  const cycle = params.BillingCycle ?? "";
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(cycle))
    return refuse(400, "InvalidParameter", "BillingCycle must be YYYY-MM.");
  const page = paging(params);
  if ("status" in page) return page;
  const lines =
    params.ProductCode !== undefined && params.ProductCode !== state.productCode
      ? []
      : state.orders.filter((o) => iso(o.at).startsWith(cycle));
  const slice = lines.slice((page.pageNum - 1) * page.pageSize, page.pageNum * page.pageSize);
  return ok({
    BillingCycle: cycle,
    AccountID: "1234567890123456",
    AccountName: "kms-team@example.com",
    PageNum: page.pageNum,
    PageSize: page.pageSize,
    TotalCount: lines.length,
    Items: {
      Item: slice.map((o) => ({
        BillingDate: iso(o.at).slice(0, 10),
        InstanceID: o.InstanceID,
        ProductCode: state.productCode,
        ProductName: "Key Management Service",
        SubscriptionType: "Subscription",
        Item: "SubscriptionOrder",
        Currency: "USD",
        PretaxGrossAmount: o.amountCents / 100,
        PretaxAmount: o.amountCents / 100,
        PaymentAmount: o.amountCents / 100,
        ServicePeriod: String(o.months),
        ServicePeriodUnit: "Month",
        Region: state.instances.get(o.InstanceID)?.Region ?? "ap-southeast-1",
      })),
    },
  });
}
