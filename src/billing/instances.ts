import { transaction } from "../store/db.js";
import { cachedFleetRead } from "../store/fleet-cache.js";
import {
  countFleet,
  type FleetCounts,
  getInstance,
  listInstances,
  lockInstance,
  soonestInstances,
  updateInstance,
} from "../store/instances.js";
import type { InstanceRow } from "../store/rows.js";
import { audit, isAdmin, listAdmins } from "./admins.js";
import type { Actor, BillingContext } from "./context.js";
import { BillingError } from "./errors.js";
import { type Lifecycle, lifecycleOf, RELEASE_AFTER_MS } from "./lifecycle.js";
import { isPeriod } from "./periods.js";

export interface InstanceView {
  instance: InstanceRow;
  lifecycle: Lifecycle;
}

export type { FleetCounts };

/**
 * How many instances are active, disabled and released now. Like `soonestFleet`, reused for
 * up to a second by every surface that asks (src/store/fleet-cache.ts); writes clear it.
 */
export async function fleetCounts(ctx: BillingContext): Promise<FleetCounts> {
  const now = ctx.clock();
  return cachedFleetRead(ctx.db, "counts", now, () =>
    countFleet({ tx: ctx.db }, { now, releaseAfterMs: RELEASE_AFTER_MS }),
  );
}

/**
 * The `limit` instances not released that expire soonest, with their state now: what Slack
 * surfaces show, however large the fleet.
 */
export async function soonestFleet(ctx: BillingContext, limit: number): Promise<InstanceView[]> {
  const now = ctx.clock();
  const rows = await cachedFleetRead(ctx.db, `soonest:${limit}`, now, () =>
    soonestInstances({ tx: ctx.db }, { now, releaseAfterMs: RELEASE_AFTER_MS }, limit),
  );
  return rows.map((instance) => ({ instance, lifecycle: lifecycleOf(instance, now) }));
}

/**
 * What `render` makes of the soonest `limit` instances and the counts, made once and shared
 * for as long as those reads are (a second, or until a write): a burst of `/kms status`
 * renders the fleet once. `key` names the rendering; its result must not be changed.
 */
export function renderedFleet<T>(
  ctx: BillingContext,
  key: string,
  limit: number,
  render: (soonest: InstanceView[], counts: FleetCounts) => T,
): Promise<T> {
  const now = ctx.clock();
  return cachedFleetRead(ctx.db, `rendered:${key}:${limit}`, now, async () => {
    // Read afresh (not through the shared reads above): the rendering is what is reused.
    const fleet = { now, releaseAfterMs: RELEASE_AFTER_MS };
    const [rows, counts] = await Promise.all([
      soonestInstances({ tx: ctx.db }, fleet, limit),
      countFleet({ tx: ctx.db }, fleet),
    ]);
    const soonest = rows.map((instance) => ({ instance, lifecycle: lifecycleOf(instance, now) }));
    return render(soonest, counts);
  });
}

/** Every instance with its state now, soonest expiry first. */
export async function fleet(ctx: BillingContext): Promise<InstanceView[]> {
  const now = ctx.clock();
  return (await listInstances({ tx: ctx.db })).map((instance) => ({
    instance,
    lifecycle: lifecycleOf(instance, now),
  }));
}

export async function instanceView(ctx: BillingContext, id: string): Promise<InstanceView> {
  const instance = await getInstance({ tx: ctx.db }, id);
  if (!instance) throw new BillingError({ code: "NOT_FOUND", entity: "instance", id });
  return { instance, lifecycle: lifecycleOf(instance, ctx.clock()) };
}

type Change = (instance: InstanceRow, lifecycle: Lifecycle, now: number) => Partial<InstanceRow>;

/**
 * Locks an instance, checks `who` may change it, applies `change` and audits it: the shared
 * shape of every admin or owner action on one instance.
 */
async function changeInstance(
  ctx: BillingContext,
  actor: Actor,
  id: string,
  who: { action: string; ownerAllowed: boolean },
  auditAction: string,
  inputs: Record<string, unknown>,
  change: Change,
): Promise<InstanceView> {
  return transaction(ctx.db, async (tx) => {
    const instance = await lockInstance({ tx }, id);
    if (!instance) throw new BillingError({ code: "NOT_FOUND", entity: "instance", id });
    const isOwner = actor.type === "user" && instance.owner === actor.userId;
    if (!(await isAdmin(ctx, tx, actor)) && !(who.ownerAllowed && isOwner)) {
      throw new BillingError({
        code: "FORBIDDEN",
        action: who.action,
        admins: await listAdmins(ctx, tx),
        ownerAllowed: who.ownerAllowed,
      });
    }
    const now = ctx.clock();
    const lifecycle = lifecycleOf(instance, now);
    if (lifecycle.state === "released")
      throw new BillingError({ code: "INSTANCE_RELEASED", instanceId: id });
    const patch = change(instance, lifecycle, now);
    await updateInstance({ tx }, id, { ...patch, updated_at: now });
    await audit(ctx, tx, actor, auditAction, id, inputs);
    const updated = { ...instance, ...patch, updated_at: now };
    return { instance: updated, lifecycle: lifecycleOf(updated, now) };
  });
}

/** Takes an active instance out of service (as when it is cut off from its HSM cluster). */
export function disableInstance(
  ctx: BillingContext,
  actor: Actor,
  id: string,
): Promise<InstanceView> {
  return changeInstance(
    ctx,
    actor,
    id,
    { action: "disable instances", ownerAllowed: false },
    "instance.disable",
    {},
    (_i, life, now) => {
      if (life.state !== "active") {
        const why =
          life.state === "disabled" && life.reason === "expired"
            ? "it has expired"
            : "an admin already disabled it";
        throw new BillingError({
          code: "INVALID_STATE",
          instanceId: id,
          problem: `is already disabled (${why}).`,
        });
      }
      return { admin_disabled_at: now };
    },
  );
}

/** Puts an admin-disabled instance back in service; an expired one needs a renewal instead. */
export function enableInstance(
  ctx: BillingContext,
  actor: Actor,
  id: string,
): Promise<InstanceView> {
  return changeInstance(
    ctx,
    actor,
    id,
    { action: "enable instances", ownerAllowed: false },
    "instance.enable",
    {},
    (instance, life) => {
      if (instance.admin_disabled_at === null) {
        throw new BillingError({
          code: "INVALID_STATE",
          instanceId: id,
          problem: "was not disabled by an admin.",
        });
      }
      if (life.state === "disabled" && life.reason === "expired") {
        throw new BillingError({
          code: "INVALID_STATE",
          instanceId: id,
          problem: "has expired; renew it to bring it back.",
        });
      }
      return { admin_disabled_at: null };
    },
  );
}

/** Sets (months) or clears (null) auto-renewal; admins or the instance's owner. */
export async function setAutoRenew(
  ctx: BillingContext,
  actor: Actor,
  id: string,
  months: number | null,
): Promise<InstanceView> {
  if (months !== null && !isPeriod(months)) {
    throw new BillingError({
      code: "INVALID_INPUT",
      field: "period",
      problem: `${months} months is not on sale`,
    });
  }
  return changeInstance(
    ctx,
    actor,
    id,
    { action: "change auto-renewal", ownerAllowed: true },
    "instance.autorenew",
    { months },
    () => ({ auto_renew_months: months }),
  );
}

/** Refuses a reminder action about a period that a renewal has since replaced. */
function samePeriod(instance: InstanceRow, life: Lifecycle, expiresAt: number): void {
  if (instance.expires_at !== expiresAt) {
    throw new BillingError({
      code: "INVALID_STATE",
      instanceId: instance.id,
      problem: "has been renewed since this warning; its new period has reminders of its own.",
    });
  }
  if (life.state !== "active" && !(life.state === "disabled" && life.reason === "admin")) {
    throw new BillingError({
      code: "INVALID_STATE",
      instanceId: instance.id,
      problem: "has already expired.",
    });
  }
}

/**
 * Snoozes pre-expiry reminders of the period ending `expiresAt` until `until` (admins or
 * the owner). The expiry and release notices still come.
 */
export async function snoozeReminders(
  ctx: BillingContext,
  actor: Actor,
  id: string,
  expiresAt: number,
  until: number,
): Promise<InstanceView> {
  return changeInstance(
    ctx,
    actor,
    id,
    { action: "snooze expiry reminders", ownerAllowed: true },
    "instance.snooze",
    { expiresAt, until },
    (instance, life) => {
      samePeriod(instance, life, expiresAt);
      return { snoozed_until: until };
    },
  );
}

/**
 * Records that the period ending `expiresAt` won't be renewed: no more pre-expiry reminders
 * for it, and auto-renewal off (admins or the owner).
 */
export async function wontRenew(
  ctx: BillingContext,
  actor: Actor,
  id: string,
  expiresAt: number,
): Promise<InstanceView> {
  return changeInstance(
    ctx,
    actor,
    id,
    { action: "stop expiry reminders", ownerAllowed: true },
    "instance.wont_renew",
    { expiresAt },
    (instance, life) => {
      samePeriod(instance, life, expiresAt);
      return { wont_renew_expires_at: expiresAt, auto_renew_months: null };
    },
  );
}

export interface AssignInput {
  /** Channel id where the instance's warnings go (C...). */
  channel: string;
  /** Slack user id of its owner (U...). */
  owner: string;
  /** A new display name; unchanged when absent. */
  name?: string;
}

/**
 * Sets the bot's own metadata of an instance (admins only): where its warnings go, who owns
 * it and, optionally, its name. With KMS_PROVIDER=alibaba this is how an instance pulled from
 * the account gets a channel and an owner; syncs keep them.
 */
export function assignInstance(
  ctx: BillingContext,
  actor: Actor,
  id: string,
  input: AssignInput,
): Promise<InstanceView> {
  const invalid = (field: string, problem: string) =>
    new BillingError({ code: "INVALID_INPUT", field, problem });
  if (!/^[CG][A-Z0-9]{2,}$/.test(input.channel))
    throw invalid("channel", "is not a Slack channel id (C...)");
  if (!/^[UW][A-Z0-9]{2,}$/.test(input.owner))
    throw invalid("owner", "is not a Slack user id (U...)");
  const name = input.name?.trim();
  if (name !== undefined && (name === "" || name.length > 200 || /\p{Cc}/u.test(name)))
    throw invalid("name", "must be 1-200 characters without control characters");
  return changeInstance(
    ctx,
    actor,
    id,
    { action: "assign instances", ownerAllowed: false },
    "instance.assign",
    { ...input },
    () => ({ channel: input.channel, owner: input.owner, ...(name ? { name } : {}) }),
  );
}
