import { addAdmin, isAdmin, listAdmins, removeAdmin } from "../../../billing/admins.js";
import { type Invocation, type Reply, text } from "../../kit/command.js";

/** `/kms admins`: who the billing admins are. */
export async function showAdmins({ billing, actor }: Invocation): Promise<Reply> {
  const admins = await listAdmins(billing, billing.db);
  const you = (await isAdmin(billing, billing.db, actor)) ? " You are one." : "";
  return text(
    `Billing admins: ${admins.length > 0 ? admins.map((a) => `<@${a}>`).join(", ") : "none yet"}.${you}`,
  );
}

/** `/kms admins add @user` (admins). */
export async function addBillingAdmin(
  { billing, actor }: Invocation,
  { userId }: { userId: string },
): Promise<Reply> {
  const added = await addAdmin(billing, actor, userId);
  return text(
    added ? `<@${userId}> is now a billing admin.` : `<@${userId}> already is a billing admin.`,
  );
}

/** `/kms admins remove @user` (admins). */
export async function removeBillingAdmin(
  { billing, actor }: Invocation,
  { userId }: { userId: string },
): Promise<Reply> {
  await removeAdmin(billing, actor, userId);
  return text(`<@${userId}> is no longer a billing admin.`);
}
