import { disableInstance, enableInstance } from "../../../billing/instances.js";
import { type Invocation, type Reply, text } from "../../kit/command.js";

/** `/kms disable <instance>`: out of service ahead of unsubscription (admins). */
export async function disable(
  { billing, actor }: Invocation,
  { instanceId }: { instanceId: string },
): Promise<Reply> {
  const view = await disableInstance(billing, actor, instanceId);
  return text(
    `${view.instance.id} is disabled and no longer provides service. \`/kms enable ${view.instance.id}\` undoes it.`,
  );
}

/** `/kms enable <instance>`: back in service (admins). */
export async function enable(
  { billing, actor }: Invocation,
  { instanceId }: { instanceId: string },
): Promise<Reply> {
  const view = await enableInstance(billing, actor, instanceId);
  return text(`${view.instance.id} is ${view.lifecycle.state} again.`);
}
