import { audit, requireAdmin } from "../billing/admins.js";
import type { Actor, BillingContext } from "../billing/context.js";
import { lifecycleOf } from "../billing/lifecycle.js";
import { periodLabel } from "../billing/periods.js";
import type { SyncResult } from "../billing/provider.js";
import { isoInZone } from "../billing/time.js";
import { transaction } from "../store/db.js";
import { insertInstance, listInstances, updateInstance } from "../store/instances.js";
import type { InstanceRow } from "../store/rows.js";
import type { AccountDeps } from "./account.js";
import { accountFailure } from "./account.js";
import type { AccountInstance } from "./client.js";

/** The largest page QueryAvailableInstances serves. */
export const PAGE_SIZE = 300;

/** Every subscription instance of the product on the account, page by page until TotalCount. */
export async function accountInstances(deps: AccountDeps): Promise<AccountInstance[]> {
  const all: AccountInstance[] = [];
  for (let page = 1; ; page++) {
    const { total, rows } = await deps.bss.queryInstances(page, PAGE_SIZE);
    all.push(...rows);
    if (rows.length === 0 || all.length >= total) return all;
  }
}

const autoLabel = (months: number | null) => (months === null ? "off" : periodLabel(months));

/** The changes an account instance brings to the bot's row, in words; empty when none. */
function differences(row: InstanceRow, seen: AccountInstance, zone: string): string[] {
  const changes: string[] = [];
  if (row.expires_at !== seen.endTime) {
    changes.push(`expiry ${isoInZone(row.expires_at, zone)} -> ${isoInZone(seen.endTime, zone)}`);
  }
  if (row.auto_renew_months !== seen.autoRenewMonths) {
    changes.push(
      `auto-renewal ${autoLabel(row.auto_renew_months)} -> ${autoLabel(seen.autoRenewMonths)}`,
    );
  }
  return changes;
}

/**
 * Upserts the account's instances by InstanceID (expiry from EndTime, auto-renewal from
 * RenewStatus / RenewalDuration / RenewalDurationUnit) and releases the bot's instances the
 * account no longer lists. Name, channel and owner are the bot's own metadata and are kept;
 * a new instance is named after its id until `kms-bot import` or `/kms assign` names it.
 * One transaction; admins, the CLI and the timer only.
 */
export async function syncFleet(
  ctx: BillingContext,
  deps: AccountDeps,
  actor: Actor,
): Promise<SyncResult> {
  await requireAdmin(ctx, ctx.db, actor, "sync the fleet with the Alibaba Cloud account");
  let seen: AccountInstance[];
  try {
    seen = await accountInstances(deps);
  } catch (error) {
    throw accountFailure(error);
  }
  const zone = ctx.timezone;
  return transaction(ctx.db, async (tx) => {
    const now = ctx.clock();
    const local = new Map((await listInstances({ tx })).map((r) => [r.id, r]));
    const result: SyncResult = { added: [], updated: [], released: [], unchanged: 0, changes: [] };
    for (const s of seen) {
      const row = local.get(s.instanceId);
      local.delete(s.instanceId);
      if (!row) {
        await insertInstance({ tx }, newRow(s, deps.settings.site, now));
        result.added.push(s.instanceId);
        result.changes.push(
          `+ ${s.instanceId}: expires ${isoInZone(s.endTime, zone)}, auto-renewal ${autoLabel(s.autoRenewMonths)}`,
        );
        continue;
      }
      const changes = differences(row, s, zone);
      if (changes.length === 0) {
        result.unchanged++;
        continue;
      }
      await updateInstance({ tx }, row.id, {
        expires_at: s.endTime,
        auto_renew_months: s.autoRenewMonths,
        // A new period (renewed in the console or by the account) starts with fresh reminders.
        ...(row.expires_at !== s.endTime ? { snoozed_until: null } : {}),
        updated_at: now,
      });
      result.updated.push(row.id);
      result.changes.push(`~ ${row.id}: ${changes.join(", ")}`);
    }
    for (const row of local.values()) {
      if (row.released_at !== null || lifecycleOf(row, now).state === "released") continue;
      await updateInstance({ tx }, row.id, { released_at: now, updated_at: now });
      result.released.push(row.id);
      result.changes.push(`- ${row.id}: released (no longer on the Alibaba Cloud account)`);
    }
    await audit(ctx, tx, actor, "fleet.sync", null, {
      added: result.added.length,
      updated: result.updated.length,
      released: result.released.length,
    });
    return result;
  });
}

function newRow(s: AccountInstance, site: InstanceRow["site"], now: number): InstanceRow {
  return {
    id: s.instanceId,
    name: s.instanceId,
    site,
    expires_at: s.endTime,
    admin_disabled_at: null,
    released_at: null,
    channel: null,
    owner: null,
    auto_renew_months: s.autoRenewMonths,
    snoozed_until: null,
    wont_renew_expires_at: null,
    created_at: now,
    updated_at: now,
  };
}
