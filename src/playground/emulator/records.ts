/** What the emulator records (calls, response_url posts, Block Kit violations) and waiting on it. */
import type { RecordedCall, RecordedResponse } from "./types.js";

export class Recorder {
  readonly calls: RecordedCall[] = [];
  readonly responses: RecordedResponse[] = [];
  readonly violations: string[] = [];
  private readonly waiters = new Set<() => void>();
  private readonly listeners: Array<() => void> = [];

  // --- records -------------------------------------------------------------------------------

  callsTo(method: string): RecordedCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  waitFor(
    method: string,
    predicate: (call: RecordedCall) => boolean = () => true,
    timeoutMs = 2000,
  ): Promise<RecordedCall> {
    return this.waitUntil(
      () => this.calls.find((call) => call.method === method && predicate(call)),
      timeoutMs,
      () =>
        `fake Slack: no ${method} call${predicate.length > 0 ? " matching the predicate" : ""} ` +
        `within ${timeoutMs} ms (${this.callsTo(method).length} ${method} call(s) in all); ` +
        `recorded calls: ${this.describeCalls()}`,
    );
  }

  waitForResponse(
    predicate: (response: RecordedResponse) => boolean = () => true,
    timeoutMs = 2000,
  ): Promise<RecordedResponse> {
    return this.waitUntil(
      () => this.responses.find(predicate),
      timeoutMs,
      () =>
        `fake Slack: no matching response_url POST within ${timeoutMs} ms ` +
        `(${this.responses.length} in all); recorded calls: ${this.describeCalls()}`,
    );
  }

  assertNoViolations(): void {
    if (this.violations.length === 0) return;
    throw new Error(
      `fake Slack recorded ${this.violations.length} violation(s):\n` +
        this.violations.map((violation) => `  - ${violation}`).join("\n"),
    );
  }

  private describeCalls(): string {
    if (this.calls.length === 0) return "(none)";
    const counts = new Map<string, number>();
    for (const call of this.calls) counts.set(call.method, (counts.get(call.method) ?? 0) + 1);
    return [...counts].map(([method, n]) => (n > 1 ? `${method} ×${n}` : method)).join(", ");
  }

  private waitUntil<T>(find: () => T | undefined, timeoutMs: number, describe: () => string) {
    const found = find();
    if (found !== undefined) return Promise.resolve(found);
    return new Promise<T>((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      const check = () => {
        const match = find();
        if (match !== undefined) {
          cleanup();
          resolve(match);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(describe()));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  protected notify(): void {
    for (const waiter of [...this.waiters]) waiter();
    for (const listener of this.listeners) listener();
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }
}
