import { isUniqueViolation } from "../store/db.js";

/**
 * Runs a money operation at most once per idempotency key. `replay` looks up what an earlier
 * request with the key produced (and throws IDEMPOTENCY_CONFLICT if it asked for something
 * else); `run` performs the operation in one transaction and stores the key under a unique
 * constraint. When two requests with one key race, the loser's transaction fails on that
 * constraint and rolls back, and it reports the winner's result instead. With
 * `lookupFirst: false`, `run` looks the key up itself (in the read it makes anyway).
 */
export async function oncePerKey<T>(
  key: string | null,
  replay: () => Promise<T | undefined>,
  run: () => Promise<T>,
  { lookupFirst = true }: { lookupFirst?: boolean } = {},
): Promise<T> {
  if (key !== null && lookupFirst) {
    const earlier = await replay();
    if (earlier !== undefined) return earlier;
  }
  try {
    return await run();
  } catch (error) {
    if (key !== null && isUniqueViolation(error)) {
      const winner = await replay();
      if (winner !== undefined) return winner;
    }
    throw error;
  }
}
