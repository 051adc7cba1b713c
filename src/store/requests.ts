import type { StoreCtx } from "./db.js";

/** Records a request signature; false when it was already recorded (a replay). */
export async function markRequestSeen(
  { tx }: StoreCtx,
  signature: string,
  at: number,
): Promise<boolean> {
  const rows = await tx("seen_requests")
    .insert({ signature: signature.slice(0, 100), seen_at: at })
    .onConflict("signature")
    .ignore()
    .returning("signature");
  return rows.length > 0;
}

/** Forgets signatures recorded before `before`. */
export async function forgetRequests({ tx }: StoreCtx, before: number): Promise<void> {
  await tx("seen_requests").where("seen_at", "<", before).delete();
}
