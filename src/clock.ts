/** The current time in epoch milliseconds. Injected everywhere so tests and `--at` control it. */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();

/** A clock fixed at `at` (for `kms-bot sweep --at` and tests); `set` moves it. */
export function fixedClock(
  at: number,
): Clock & { set(at: number): void; advance(ms: number): void } {
  let now = at;
  const clock = () => now;
  clock.set = (t: number) => {
    now = t;
  };
  clock.advance = (ms: number) => {
    now += ms;
  };
  return clock;
}
