import { BillingError } from "../../../billing/errors.js";
import { assignInstance } from "../../../billing/instances.js";
import type { BillingProvider } from "../../../billing/provider.js";
import { clip, escapeText } from "../../kit/blocks.js";
import { type Invocation, type Reply, text } from "../../kit/command.js";

/** Most change lines shown in one `/kms sync` answer (the rest are counted). */
const MAX_CHANGE_LINES = 40;

/**
 * Refuses what only the local ledger does (`/kms topup`, `/kms buy`) when the Alibaba Cloud
 * account is the source of truth: nothing changes, the person is sent to the console.
 */
export function localOnly(provider: BillingProvider, action: string): void {
  if (provider.kind !== "local")
    throw new BillingError({ code: "WRONG_PROVIDER", action, needs: "local" });
}

/** `/kms sync` (admins): pulls the account's instances now and says what changed. */
export async function syncNow({ billing, provider, actor }: Invocation): Promise<Reply> {
  const r = await provider.sync(billing, actor);
  const head = `Synced with the Alibaba Cloud account: ${r.added.length} added, ${r.updated.length} updated, ${r.released.length} released, ${r.unchanged} unchanged.`;
  if (r.changes.length === 0) return text(head);
  const shownLines = r.changes.slice(0, MAX_CHANGE_LINES).map((l) => escapeText(clip(l, 200)));
  const more = r.changes.length - shownLines.length;
  return text(
    [head, "```", ...shownLines, "```", ...(more > 0 ? [`…and ${more} more.`] : [])].join("\n"),
  );
}

/** `/kms assign <instance> #channel @owner [name]` (admins): the bot's own metadata. */
export async function assign(
  { billing, actor }: Invocation,
  a: { instanceId: string; channel: string; owner: string; name?: string },
): Promise<Reply> {
  const view = await assignInstance(billing, actor, a.instanceId, {
    channel: a.channel,
    owner: a.owner,
    name: a.name,
  });
  const i = view.instance;
  return text(
    `:white_check_mark: ${i.id} (${escapeText(i.name)}) now belongs to <@${i.owner}>; its warnings go to <#${i.channel}>.`,
  );
}
