import {
  deleteAdmin,
  insertAdmin,
  isAdminRow,
  listAdmins as listAdminRows,
} from "../store/admins.js";
import { insertAudit } from "../store/audit.js";
import type { Db } from "../store/db.js";
import { transaction } from "../store/db.js";
import { type Actor, actorId, type BillingContext } from "./context.js";
import { echoInput } from "./echo.js";
import { BillingError } from "./errors.js";
import { SLACK_USER_ID } from "./ids.js";

/** Every billing admin: those from `KMS_ADMIN_USERS` first, then those added in Slack. */
export async function listAdmins(ctx: BillingContext, tx: Db): Promise<string[]> {
  const added = (await listAdminRows({ tx })).map((r) => r.user_id);
  return [...new Set([...ctx.envAdmins, ...added])];
}

export async function isAdmin(ctx: BillingContext, tx: Db, actor: Actor): Promise<boolean> {
  if (actor.type === "system") return true;
  return ctx.envAdmins.includes(actor.userId) || isAdminRow({ tx }, actor.userId);
}

/** Throws FORBIDDEN (naming the admins) unless `actor` is a billing admin. */
export async function requireAdmin(
  ctx: BillingContext,
  tx: Db,
  actor: Actor,
  action: string,
): Promise<void> {
  if (!(await isAdmin(ctx, tx, actor))) {
    throw new BillingError({ code: "FORBIDDEN", action, admins: await listAdmins(ctx, tx) });
  }
}

/** Records who did what, with which inputs, inside the mutation's own transaction. */
export async function audit(
  ctx: BillingContext,
  tx: Db,
  actor: Actor,
  action: string,
  subject: string | null,
  inputs: Record<string, unknown>,
): Promise<void> {
  await insertAudit({ tx }, { at: ctx.clock(), actor: actorId(actor), action, subject, inputs });
}

function checkUserId(userId: string): void {
  if (!SLACK_USER_ID.test(userId)) {
    throw new BillingError({
      code: "INVALID_INPUT",
      field: "user",
      problem: `"${echoInput(userId)}" is not a Slack user id`,
    });
  }
}

/** Makes `userId` a billing admin; returns false when they already were one. */
export async function addAdmin(
  ctx: BillingContext,
  actor: Actor,
  userId: string,
): Promise<boolean> {
  checkUserId(userId);
  return transaction(ctx.db, async (tx) => {
    await requireAdmin(ctx, tx, actor, "add billing admins");
    if (ctx.envAdmins.includes(userId)) return false;
    const added = await insertAdmin(
      { tx },
      { user_id: userId, added_by: actorId(actor), added_at: ctx.clock() },
    );
    if (added) await audit(ctx, tx, actor, "admin.add", userId, { userId });
    return added;
  });
}

/** Removes a billing admin added in Slack. Admins from `KMS_ADMIN_USERS` stay. */
export async function removeAdmin(
  ctx: BillingContext,
  actor: Actor,
  userId: string,
): Promise<void> {
  checkUserId(userId);
  await transaction(ctx.db, async (tx) => {
    await requireAdmin(ctx, tx, actor, "remove billing admins");
    if (ctx.envAdmins.includes(userId)) {
      throw new BillingError({
        code: "INVALID_INPUT",
        field: "user",
        problem: `<@${userId}> is an admin through KMS_ADMIN_USERS; change that setting to remove them`,
      });
    }
    if (!(await deleteAdmin({ tx }, userId))) {
      throw new BillingError({ code: "NOT_FOUND", entity: "admin", id: userId });
    }
    const remaining = await listAdmins(ctx, tx);
    if (remaining.length === 0) {
      throw new BillingError({
        code: "INVALID_INPUT",
        field: "user",
        problem: "the last billing admin can't be removed",
      });
    }
    await audit(ctx, tx, actor, "admin.remove", userId, { userId });
  });
}
