import Bss, * as $Bss from "@alicloud/bssopenapi20171214";
import { $OpenApiUtil } from "@alicloud/openapi-core";
import * as $dara from "@darabonba/typescript";
import {
  type AccountBillItem,
  type AccountInstance,
  type BssClient,
  BssError,
  classify,
  type Page,
} from "./client.js";
import { accountCents } from "./decimal.js";
import type { AlibabaSettings } from "./settings.js";

/** A body with `Success: false` is a refusal even under HTTP 200. */
function checkBody(
  operation: string,
  body: { success?: boolean; code?: string; message?: string } | undefined,
) {
  if (!body) throw new BssError(operation, "unavailable", "empty", "no body in the answer");
  if (body.success === false)
    throw classify(operation, {
      code: body.code ?? "Unknown",
      statusCode: 400,
      message: body.message,
    });
}

const THROTTLE_RETRIES = 4;

/** Runs one call, retrying `Throttling.*` with exponential backoff; other failures classified. */
async function withRetry<T>(
  operation: string,
  run: () => Promise<T>,
  sleep: (ms: number) => Promise<void>,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      const failure = classify(operation, error);
      if (failure.kind !== "throttled" || attempt >= THROTTLE_RETRIES) throw failure;
      await sleep(200 * 2 ** attempt + Math.floor(Math.random() * 100));
    }
  }
}

function endTime(text: string | undefined): number {
  const at =
    text && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?(\.\d+)?Z$/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(at))
    throw new BssError(
      "QueryAvailableInstances",
      "refused",
      "BadEndTime",
      `EndTime "${text}" is not ISO 8601 UTC`,
    );
  return at;
}

function renewalMonths(i: $Bss.QueryAvailableInstancesResponseBodyDataInstanceList): number | null {
  if (i.renewStatus !== "AutoRenewal" || !i.renewalDuration) return null;
  return i.renewalDurationUnit === "Y" ? i.renewalDuration * 12 : i.renewalDuration;
}

type SdkClass = typeof Bss.default;
// The SDK is CommonJS with `exports.default = Client`: Node's ESM import sees the class at
// `.default.default`, bundlers that apply interop (vitest) at `.default`.
const sdkModule: SdkClass | { default: SdkClass } = Bss;
const SdkClient: SdkClass = typeof sdkModule === "function" ? sdkModule : sdkModule.default;

/** The SDK client (`@alicloud/bssopenapi20171214`) behind the BssClient port. */
class SdkBssClient implements BssClient {
  private readonly sdk: InstanceType<SdkClass>;
  private readonly product: { productCode: string; subscriptionType: string };

  constructor(
    private readonly settings: AlibabaSettings,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {
    this.sdk = new SdkClient(
      new $OpenApiUtil.Config({
        accessKeyId: settings.accessKeyId,
        accessKeySecret: settings.accessKeySecret,
        endpoint: settings.endpoint,
        protocol: settings.protocol,
        readTimeout: settings.readTimeoutMs,
        connectTimeout: Math.min(5_000, settings.readTimeoutMs),
      }),
    );
    this.product = { productCode: settings.productCode, subscriptionType: "Subscription" };
  }

  /** No SDK-level retries: throttling is retried here, everything else is the caller's call. */
  private runtime() {
    return new $dara.RuntimeOptions({ autoretry: false });
  }

  private call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    return withRetry(operation, run, this.sleep);
  }

  queryInstances(page: number, size: number, ids?: string[]): Promise<Page<AccountInstance>> {
    return this.call("QueryAvailableInstances", async () => {
      const request = new $Bss.QueryAvailableInstancesRequest({
        ...this.product,
        pageNum: page,
        pageSize: size,
        instanceIDs: ids?.join(","),
      });
      const { body } = await this.sdk.queryAvailableInstancesWithOptions(request, this.runtime());
      checkBody("QueryAvailableInstances", body);
      const rows = (body?.data?.instanceList ?? []).map((i) => ({
        instanceId: String(i.instanceID),
        endTime: endTime(i.endTime),
        renewStatus: i.renewStatus ?? "ManualRenewal",
        autoRenewMonths: renewalMonths(i),
      }));
      return { total: body?.data?.totalCount ?? rows.length, rows };
    });
  }

  availableBalanceCents(): Promise<number> {
    return this.call("QueryAccountBalance", async () => {
      const { body } = await this.sdk.queryAccountBalanceWithOptions(this.runtime());
      checkBody("QueryAccountBalance", body);
      return accountCents(body?.data?.availableAmount ?? "");
    });
  }

  renewalPriceCents(instanceId: string, months: number): Promise<number> {
    return this.call("GetSubscriptionPrice", async () => {
      const request = new $Bss.GetSubscriptionPriceRequest({
        ...this.product,
        orderType: "Renewal",
        instanceId,
        servicePeriodQuantity: months,
        servicePeriodUnit: "Month",
        quantity: 1,
      });
      const { body } = await this.sdk.getSubscriptionPriceWithOptions(request, this.runtime());
      checkBody("GetSubscriptionPrice", body);
      const price = body?.data?.tradePrice;
      if (price === undefined)
        throw new BssError("GetSubscriptionPrice", "unavailable", "NoPrice", "no TradePrice");
      return accountCents(price);
    });
  }

  renewInstance(instanceId: string, months: number, clientToken: string): Promise<string> {
    return this.call("RenewInstance", async () => {
      const request = new $Bss.RenewInstanceRequest({
        productCode: this.settings.productCode,
        instanceId,
        renewPeriod: months,
        clientToken,
      });
      const { body } = await this.sdk.renewInstanceWithOptions(request, this.runtime());
      checkBody("RenewInstance", body);
      const orderId = body?.data?.orderId;
      if (orderId === undefined || orderId === null || String(orderId) === "")
        throw new BssError("RenewInstance", "unavailable", "NoOrderId", "no OrderId in the answer");
      return String(orderId);
    });
  }

  setRenewal(instanceId: string, setting: { months: number } | null): Promise<void> {
    return this.call("SetRenewal", async () => {
      const yearly = setting !== null && setting.months % 12 === 0;
      const request = new $Bss.SetRenewalRequest({
        ...this.product,
        instanceIDs: instanceId,
        renewalStatus: setting ? "AutoRenewal" : "ManualRenewal",
        renewalPeriod: setting ? (yearly ? setting.months / 12 : setting.months) : undefined,
        renewalPeriodUnit: setting ? (yearly ? "Y" : "M") : undefined,
      });
      const { body } = await this.sdk.setRenewalWithOptions(request, this.runtime());
      checkBody("SetRenewal", body);
    });
  }

  instanceBill(cycle: string, page: number, size: number): Promise<Page<AccountBillItem>> {
    return this.call("QueryInstanceBill", async () => {
      const request = new $Bss.QueryInstanceBillRequest({
        ...this.product,
        billingCycle: cycle,
        pageNum: page,
        pageSize: size,
      });
      const { body } = await this.sdk.queryInstanceBillWithOptions(request, this.runtime());
      checkBody("QueryInstanceBill", body);
      const rows = (body?.data?.items?.item ?? []).map((i) => ({
        instanceId: String(i.instanceID ?? ""),
        billingDate: String(i.billingDate ?? ""),
        item: String(i.item ?? ""),
        amountCents: accountCents(i.pretaxAmount ?? 0),
        months: i.servicePeriod && i.servicePeriodUnit === "Month" ? Number(i.servicePeriod) : null,
      }));
      return { total: body?.data?.totalCount ?? rows.length, rows };
    });
  }
}

/** The SDK client behind the BssClient port (loaded by `createBssClient` on first use). */
export function sdkBssClient(
  settings: AlibabaSettings,
  sleep: (ms: number) => Promise<void>,
): BssClient {
  return new SdkBssClient(settings, sleep);
}
