import { fleetCounts, instanceView, soonestFleet } from "../../../billing/instances.js";
import type { Invocation, Reply } from "../../kit/command.js";
import { fleetBlocks, instanceBlocks } from "./blocks.js";

/** How many instances `/kms status` reads: more than one message can show (the rest are counted). */
const STATUS_ROWS = 600;

/** `/kms status [<instance>]`: the fleet, or one instance in detail. */
export async function showStatus(
  { billing }: Invocation,
  { instanceId }: { instanceId?: string },
): Promise<Reply> {
  if (instanceId) {
    const view = await instanceView(billing, instanceId);
    return { text: `${view.instance.id}: ${view.lifecycle.state}`, blocks: instanceBlocks(view) };
  }
  const [soonest, counts] = await Promise.all([
    soonestFleet(billing, STATUS_ROWS),
    fleetCounts(billing),
  ]);
  return {
    text: `${counts.total} Dedicated KMS instance(s)`,
    blocks: fleetBlocks(soonest, counts),
  };
}
