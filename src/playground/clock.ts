/**
 * The playground's clock: the real time plus an offset, so "Run sweep at <date>" can move the
 * whole playground forward (like a test clock) and the bot, the timer and the page agree on "now".
 * The offset is kept in a file beside the database, so a restart keeps the playground's time.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { z } from "zod";
import type { Clock } from "../clock.js";

export interface PlaygroundClock extends Clock {
  readonly offsetMs: number;
  /** Moves the playground to `at` (forward only: the database already holds what happened). */
  moveTo(at: number): void;
}

const saved = z.object({ offsetMs: z.number().finite() });

function readOffset(file: string): number {
  if (!existsSync(file)) return 0;
  try {
    return saved.parse(JSON.parse(readFileSync(file, "utf8"))).offsetMs;
  } catch {
    return 0; // An unreadable file: start from the real time.
  }
}

export function playgroundClock(file: string, wall: Clock = Date.now): PlaygroundClock {
  let offsetMs = readOffset(file);
  const clock = () => wall() + offsetMs;
  return Object.assign(clock, {
    get offsetMs() {
      return offsetMs;
    },
    moveTo(at: number) {
      const now = clock();
      if (at < now) {
        throw new Error(
          `the playground clock only moves forward; it is ${new Date(now).toISOString()} already.`,
        );
      }
      offsetMs = at - wall();
      writeFileSync(file, `${JSON.stringify({ offsetMs })}\n`);
    },
  });
}
