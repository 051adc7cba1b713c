import type { Knex } from "knex";

interface Shape {
  count: number;
  ms: number;
}

/**
 * Counts the statements a knex handle runs (transactions included) and the time from each
 * query being sent to its answer, by statement shape (literals and lists folded), so a
 * benchmark can say where its time goes: the database or JavaScript.
 */
export class QueryMeter {
  private started = new Map<string, { at: number; shape: string }>();
  private shapes = new Map<string, Shape>();
  statements = 0;
  dbMs = 0;
  private readonly onQuery = (q: { __knexQueryUid?: string; sql?: string }) => {
    this.statements++;
    const shape = shapeOf(q.sql ?? "");
    if (q.__knexQueryUid) this.started.set(q.__knexQueryUid, { at: performance.now(), shape });
    else this.add(shape, 0);
  };
  private readonly onAnswer = (_r: unknown, q: { __knexQueryUid?: string }) => {
    const uid = q?.__knexQueryUid;
    const start = uid ? this.started.get(uid) : undefined;
    if (!uid || !start) return;
    this.started.delete(uid);
    const ms = performance.now() - start.at;
    this.dbMs += ms;
    this.add(start.shape, ms);
  };
  private readonly onError = (_e: unknown, q: { __knexQueryUid?: string }) =>
    this.onAnswer(undefined, q);

  constructor(private readonly db: Knex) {
    db.on("query", this.onQuery);
    db.on("query-response", this.onAnswer);
    db.on("query-error", this.onError);
  }

  private add(shape: string, ms: number) {
    const s = this.shapes.get(shape) ?? { count: 0, ms: 0 };
    s.count++;
    s.ms += ms;
    this.shapes.set(shape, s);
  }

  reset(): void {
    this.started.clear();
    this.shapes.clear();
    this.statements = 0;
    this.dbMs = 0;
  }

  /** The statement shapes that took the most time. */
  top(n: number): Array<{ shape: string; count: number; ms: number }> {
    return [...this.shapes]
      .map(([shape, s]) => ({ shape, ...s }))
      .sort((a, b) => b.ms - a.ms || b.count - a.count)
      .slice(0, n);
  }

  detach(): void {
    this.db.off("query", this.onQuery);
    this.db.off("query-response", this.onAnswer);
    this.db.off("query-error", this.onError);
  }
}

function shapeOf(sql: string): string {
  return sql
    .replace(/\s+/g, " ")
    .replace(/\((?:\s*(?:\?|\$\d+)\s*,?)+\)/g, "(…)")
    .replace(
      /(\(?(?:"|`)?instance_id(?:"|`)? = (?:\?|\$\d+) and (?:"|`)?expires_at(?:"|`)? = (?:\?|\$\d+)\)? or )+/g,
      "… or ",
    )
    .slice(0, 110);
}
