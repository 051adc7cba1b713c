import { instanceView, renderedFleet } from "../../../billing/instances.js";
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
  // The same reply for everyone: rendered once per fleet read, however many ask at once.
  return renderedFleet(billing, "status", STATUS_ROWS, (soonest, counts) => ({
    text: `${counts.total} Dedicated KMS instance(s)`,
    blocks: fleetBlocks(soonest, counts),
  }));
}
