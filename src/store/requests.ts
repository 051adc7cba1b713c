import type { StoreCtx } from "./db.js";

/**
 * Records a request signature; false when it was already recorded (a replay). Signatures
 * older than `forgetBefore` are dropped on the way.
 */
export async function markRequestSeen(
  { tx }: StoreCtx,
  signature: string,
  at: number,
  forgetBefore: number,
): Promise<boolean> {
  await tx("seen_requests").where("seen_at", "<", forgetBefore).delete();
  const rows = await tx("seen_requests")
    .insert({ signature: signature.slice(0, 100), seen_at: at })
    .onConflict("signature")
    .ignore()
    .returning("signature");
  return rows.length > 0;
}
