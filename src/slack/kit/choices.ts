import type { BillingContext } from "../../billing/context.js";
import { BillingError } from "../../billing/errors.js";
import { type InstanceView, instanceView, soonestFleet } from "../../billing/instances.js";

/** How many instances a modal's select offers: Slack's limit for a static select. */
const MODAL_CHOICES = 100;

/**
 * The instances a modal offers: the 100 soonest to expire, not released (any other is chosen
 * with `/kms renew <instance>`), plus the preselected one. When opening a modal (`strict`),
 * a preselected instance that is unknown or released is refused.
 */
export async function modalChoices(
  billing: BillingContext,
  instanceId: string | undefined,
  strict: boolean,
): Promise<InstanceView[]> {
  const preselected =
    instanceId === undefined
      ? undefined
      : await instanceView(billing, instanceId).catch(() => undefined);
  if (strict && instanceId !== undefined) {
    if (!preselected)
      throw new BillingError({ code: "NOT_FOUND", entity: "instance", id: instanceId });
    if (preselected.lifecycle.state === "released") {
      throw new BillingError({ code: "INSTANCE_RELEASED", instanceId });
    }
  }
  const soonest = await soonestFleet(billing, MODAL_CHOICES);
  if (!preselected || preselected.lifecycle.state === "released") return soonest;
  if (soonest.some((v) => v.instance.id === preselected.instance.id)) return soonest;
  return [preselected, ...soonest.slice(0, MODAL_CHOICES - 1)];
}
