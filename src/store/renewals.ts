import type { Knex } from "knex";
import { type Db, dialectOf, isTransientConflict } from "./db.js";
import { fleetWritten } from "./fleet-cache.js";
import { ACCOUNT_ID } from "./ledger.js";
import type { NewOrder } from "./orders.js";
import { type InstanceRow, instanceRow, type OrderRow, orderRow } from "./rows.js";
import { isSqliteHandle, sqliteStatement, sqliteTransaction } from "./sqlite-fast.js";

/** What a renewal decides from, read in one statement. */
export interface RenewalRead {
  instance: InstanceRow;
  /** The price in force for the instance's site at the time asked; undefined if none. */
  unitCents: number | undefined;
  balanceCents: number;
  /** The order the idempotency key already produced, if any. */
  keyedOrderId: number | null;
}

/** The order a renewal writes (with its ledger line, audit entry and the new expiry): paid. */
export type RenewalOrder = NewOrder;

/** The billing core's verdict on a read: write this order, or report the keyed one. */
export type RenewalDecision =
  | {
      write: RenewalOrder;
      /** The instance's new anniversary (the instant its months are counted from). */
      anniversary: number;
      audit: Record<string, unknown>;
    }
  | { replayOf: number };

export type RenewalOutcome =
  | { kind: "renewed"; order: OrderRow; balanceAfterCents: number; before: InstanceRow }
  | { kind: "replay"; orderId: number }
  /** The conditional debit found the balance short (a concurrent charge came first). */
  | { kind: "short" };

export interface RenewalRef {
  instanceId: string;
  at: number;
  key: string | null;
}

/** Throws to refuse (unknown instance, released, price changed...); the store writes nothing. */
export type Decide = (read: RenewalRead | undefined) => RenewalDecision;

/**
 * Columns named, not `*`: on PostgreSQL these run as named prepared statements, and a plan
 * whose result type changed (a migration adding a column, run by another replica while this
 * one holds its connections) is refused until the connection is recycled.
 */
const INSTANCE_COLUMNS = Object.keys(instanceRow.shape)
  .map((c) => `i.${c}`)
  .join(", ");
const ORDER_RETURNING = Object.keys(orderRow.shape).join(", ");

const READ_SQL = `select ${INSTANCE_COLUMNS},
  (select p.unit_cents from prices p where p.site = i.site and p.effective_from <= ?
    order by p.effective_from desc, p.id desc limit 1) as price_unit_cents,
  (select a.balance_cents from accounts a where a.id = ?) as account_balance_cents,
  (select o.id from orders o where o.idempotency_key = ?) as keyed_order_id
from instances i where i.id = ?`;

const readBindings = (ref: RenewalRef) => [ref.at, ACCOUNT_ID, ref.key, ref.instanceId];

function parseRead(row: Record<string, unknown> | undefined): RenewalRead | undefined {
  if (!row) return undefined;
  return {
    instance: instanceRow.parse(row),
    unitCents: row.price_unit_cents == null ? undefined : Number(row.price_unit_cents),
    balanceCents: Number(row.account_balance_cents),
    keyedOrderId: row.keyed_order_id == null ? null : Number(row.keyed_order_id),
  };
}

const ORDER_COLUMNS = [
  "kind",
  "instance_id",
  "site",
  "months",
  "unit_cents",
  "amount_cents",
  "period_start",
  "period_end",
  "idempotency_key",
  "created_by",
  "created_at",
] as const;
const orderValues = (o: RenewalOrder) => ORDER_COLUMNS.map((c) => o[c]);
const LEDGER_INSERT = `insert into ledger (account_id, kind, amount_cents, balance_after_cents, order_id, instance_id, actor, idempotency_key, created_at)`;
const AUDIT_INSERT = "insert into audit_log (at, actor, action, subject, inputs)";
export const RENEW_AUDIT_ACTION = "instance.renew";

/** The audit inputs as JSON text, up to where the order id (known after the insert) goes. */
function auditHead(inputs: Record<string, unknown>): string {
  const json = JSON.stringify(inputs);
  return json === "{}" ? '{"orderId":' : `${json.slice(0, -1)},"orderId":`;
}

/**
 * Renews an instance in as few round trips as each database allows, with the same effects
 * as the general path: the conditional debit (never below zero), the order, its ledger line
 * (balance after), the new expiry (snooze cleared) and the audit entry, all or nothing.
 *
 * - SQLite: one transaction on the connection's prepared statements, begun IMMEDIATE (the
 *   write lock first, so the read is current): 8 statements, begin and commit included.
 * - PostgreSQL: one read, then one statement whose CTEs lock the instance row as read
 *   (compare-and-set on its expiry), debit, move the expiry and insert the order, ledger line
 *   and audit entry. If the instance changed in between, it reads and decides again.
 */
export async function renewInstance(
  db: Knex,
  ref: RenewalRef,
  decide: Decide,
): Promise<RenewalOutcome> {
  return dialectOf(db) === "sqlite"
    ? renewOnSqlite(db, ref, decide)
    : renewOnPostgres(db, ref, decide);
}

function renewOnSqlite(db: Knex, ref: RenewalRef, decide: Decide): Promise<RenewalOutcome> {
  return sqliteTransaction(db, async (q) => {
    const read = parseRead((await q.all(READ_SQL, readBindings(ref)))[0]);
    const decision = decide(read);
    if ("replayOf" in decision) return { kind: "replay", orderId: decision.replayOf };
    if (!read) throw new Error("a renewal was decided without its instance");
    const o = decision.write;
    const [debited] = await q.all(
      "update accounts set balance_cents = balance_cents - ?, updated_at = ? where id = ? and balance_cents >= ? returning balance_cents",
      [o.amount_cents, o.created_at, ACCOUNT_ID, o.amount_cents],
    );
    if (!debited) return { kind: "short" };
    const balanceAfterCents = Number(debited.balance_cents);
    await q.run(
      "update instances set expires_at = ?, anniversary_at = ?, snoozed_until = null, updated_at = ? where id = ?",
      [o.period_end, decision.anniversary, o.created_at, o.instance_id],
    );
    const [inserted] = await q.all(
      `insert into orders (${ORDER_COLUMNS.join(", ")}) values (${ORDER_COLUMNS.map(() => "?").join(", ")}) returning *`,
      orderValues(o),
    );
    const order = orderRow.parse(inserted);
    await q.run(`${LEDGER_INSERT} values (?, 'renewal', ?, ?, ?, ?, ?, null, ?)`, [
      ACCOUNT_ID,
      -o.amount_cents,
      balanceAfterCents,
      order.id,
      o.instance_id,
      o.created_by,
      o.created_at,
    ]);
    await q.run(`${AUDIT_INSERT} values (?, ?, ?, ?, ?)`, [
      o.created_at,
      o.created_by,
      RENEW_AUDIT_ACTION,
      o.instance_id,
      `${auditHead(decision.audit)}${order.id}}`,
    ]);
    return { kind: "renewed", order, balanceAfterCents, before: read.instance };
  });
}

const PG_RENEW_SQL = `with inst as (
  select id from instances
  where id = ? and expires_at = ? and released_at is not distinct from ?
  for update
), acct as (
  update accounts set balance_cents = balance_cents - ?, updated_at = ?
  where id = ? and balance_cents >= ? and exists (select 1 from inst)
  returning balance_cents
), moved as (
  update instances set expires_at = ?, anniversary_at = ?, snoozed_until = null, updated_at = ?
  where id in (select id from inst) and exists (select 1 from acct)
  returning id
), ord as (
  insert into orders (${ORDER_COLUMNS.join(", ")})
  select ${ORDER_COLUMNS.map(() => "?").join(", ")} from acct
  returning ${ORDER_RETURNING}
), led as (
  ${LEDGER_INSERT}
  select ?, 'renewal', ?, acct.balance_cents, ord.id, ?, ?, null, ? from acct, ord
  returning id
), aud as (
  ${AUDIT_INSERT}
  select ?, ?, ?, ?, cast(? as text) || cast(ord.id as text) || '}' from ord
  returning id
)
select (select count(*) from inst) as found, acct.balance_cents as balance_after, ord.*
from (select 1) as one left join acct on true left join ord on true`;

/** The parts of a node-postgres client used here. */
interface PgClient {
  query(q: {
    name: string;
    text: string;
    values: unknown[];
  }): Promise<{ rows: Record<string, unknown>[] }>;
}

/** Each statement's text with PostgreSQL's `$n` placeholders, as knex would send it. */
const nativeText = new Map<string, string>();

/**
 * Runs `sql` as a named prepared statement on a pooled connection: PostgreSQL parses and plans
 * it once per connection instead of on every renewal.
 */
async function pgPrepared(
  db: Knex,
  name: string,
  sql: string,
  values: unknown[],
): Promise<Record<string, unknown>[]> {
  let text = nativeText.get(sql);
  if (text === undefined) {
    text = db
      .raw(
        sql,
        values.map(() => null),
      )
      .toSQL()
      .toNative().sql;
    nativeText.set(sql, text);
  }
  const client: PgClient = await db.client.acquireConnection();
  try {
    return (await client.query({ name, text, values })).rows;
  } finally {
    await db.client.releaseConnection(client);
  }
}

/**
 * What a quote needs (the instance, the price in force at `at`, the balance) in the one
 * statement a renewal reads with, outside a transaction: a renew modal reads it on every open.
 */
export async function readRenewal(
  db: Db,
  instanceId: string,
  at: number,
): Promise<RenewalRead | undefined> {
  const bindings = readBindings({ instanceId, at, key: null });
  if (isSqliteHandle(db))
    return parseRead((await sqliteStatement(db as Knex, (q) => q.all(READ_SQL, bindings)))[0]);
  if ((db as Knex.Transaction).isTransaction) {
    const result = await db.raw(READ_SQL, bindings);
    return parseRead((dialectOf(db) === "postgres" ? result.rows : result)[0]);
  }
  return parseRead((await pgPrepared(db as Knex, "kms_renewal_read", READ_SQL, bindings))[0]);
}

/** Transient errors (deadlock, serialization) retried; a lost compare-and-set is not counted. */
const MAX_ATTEMPTS = 8;

async function renewOnPostgres(db: Knex, ref: RenewalRef, decide: Decide): Promise<RenewalOutcome> {
  // Each lost compare-and-set means another renewal of the instance committed: progress.
  for (let attempt = 1; ; ) {
    try {
      const read = parseRead(
        (await pgPrepared(db, "kms_renewal_read", READ_SQL, readBindings(ref)))[0],
      );
      const decision = decide(read);
      if ("replayOf" in decision) return { kind: "replay", orderId: decision.replayOf };
      if (!read) throw new Error("a renewal was decided without its instance");
      const o = decision.write;
      const i = read.instance;
      const rows = await pgPrepared(db, "kms_renewal_write", PG_RENEW_SQL, [
        ...[i.id, i.expires_at, i.released_at],
        ...[o.amount_cents, o.created_at, ACCOUNT_ID, o.amount_cents],
        ...[o.period_end, decision.anniversary, o.created_at],
        ...orderValues(o),
        ...[ACCOUNT_ID, -o.amount_cents, o.instance_id, o.created_by, o.created_at],
        ...[
          o.created_at,
          o.created_by,
          RENEW_AUDIT_ACTION,
          o.instance_id,
          auditHead(decision.audit),
        ],
      ]);
      fleetWritten(db);
      const row = rows[0] ?? {};
      // The instance changed since it was read (renewed, released): read and decide again.
      if (Number(row.found) === 0) continue;
      if (row.balance_after == null) return { kind: "short" };
      return {
        kind: "renewed",
        order: orderRow.parse(row),
        balanceAfterCents: Number(row.balance_after),
        before: i,
      };
    } catch (error) {
      if (attempt++ >= MAX_ATTEMPTS || !isTransientConflict(error)) throw error;
    }
  }
}
