import type { AllMiddlewareArgs, AnyMiddlewareArgs, Middleware } from "@slack/bolt";

/** What Bolt hands a global middleware. */
export type RequestArgs = AnyMiddlewareArgs & AllMiddlewareArgs;

/**
 * A step every request passes through before its listener: it may answer and stop, or call
 * `next` (the rest of the steps, then the listener) and wait for it.
 */
export type Stage = (args: RequestArgs, next: () => Promise<void>) => Promise<void>;

/**
 * `stages`, in order, as one Bolt middleware. Bolt copies a request's arguments for every
 * middleware it runs; the steps here share one copy, so each costs a function call.
 */
export function inOrder(...stages: Stage[]): Middleware<AnyMiddlewareArgs> {
  return (args) => {
    const run = (i: number): Promise<void> =>
      i < stages.length ? stages[i](args, () => run(i + 1)) : args.next();
    return run(0);
  };
}
