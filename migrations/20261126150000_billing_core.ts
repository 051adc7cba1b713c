import type { Knex } from "knex";

// Times are epoch milliseconds and money is integer cents, both in BIGINT columns, so SQLite
// and PostgreSQL store and compare them identically.

export async function up(knex: Knex): Promise<void> {
  // A one-row table that a SQLite write transaction touches first to take the write lock.
  await knex.schema.createTable("kms_write_lock", (t) => {
    t.integer("id").primary();
  });
  await knex("kms_write_lock").insert({ id: 1 });

  await knex.schema.createTable("accounts", (t) => {
    t.string("id", 64).primary();
    t.bigInteger("balance_cents").notNullable().defaultTo(0);
    t.bigInteger("updated_at").notNullable();
    t.check("?? >= 0", ["balance_cents"], "accounts_balance_non_negative");
  });
  await knex("accounts").insert({ id: "default", balance_cents: 0, updated_at: 0 });

  await knex.schema.createTable("prices", (t) => {
    t.increments("id").primary();
    t.string("site", 32).notNullable();
    t.bigInteger("unit_cents").notNullable();
    t.bigInteger("effective_from").notNullable();
    t.string("created_by", 64).notNullable();
    t.bigInteger("created_at").notNullable();
    t.check("?? in ('international', 'china')", ["site"], "prices_site");
    t.check("?? > 0", ["unit_cents"], "prices_unit_positive");
    t.index(["site", "effective_from"]);
  });
  await knex("prices").insert([
    {
      site: "international",
      unit_cents: 179_900,
      effective_from: 0,
      created_by: "migration",
      created_at: 0,
    },
    {
      site: "china",
      unit_cents: 239_900,
      effective_from: 0,
      created_by: "migration",
      created_at: 0,
    },
  ]);

  await knex.schema.createTable("instances", (t) => {
    t.string("id", 64).primary();
    t.string("name", 200).notNullable();
    t.string("site", 32).notNullable();
    t.bigInteger("expires_at").notNullable();
    t.bigInteger("admin_disabled_at").nullable();
    t.bigInteger("released_at").nullable();
    t.string("channel", 32).nullable();
    t.string("owner", 32).nullable();
    t.integer("auto_renew_months").nullable();
    t.bigInteger("created_at").notNullable();
    t.bigInteger("updated_at").notNullable();
    t.check("?? in ('international', 'china')", ["site"], "instances_site");
    t.index(["expires_at"]);
  });

  await knex.schema.createTable("orders", (t) => {
    t.increments("id").primary();
    t.string("kind", 16).notNullable();
    t.string("instance_id", 64).notNullable().references("id").inTable("instances");
    t.string("site", 32).notNullable();
    t.integer("months").notNullable();
    t.bigInteger("unit_cents").notNullable();
    t.bigInteger("amount_cents").notNullable();
    t.bigInteger("refunded_cents").notNullable().defaultTo(0);
    t.bigInteger("period_start").notNullable();
    t.bigInteger("period_end").notNullable();
    t.string("idempotency_key", 200).nullable().unique();
    t.string("created_by", 64).notNullable();
    t.bigInteger("created_at").notNullable();
    t.check("?? in ('purchase', 'renewal')", ["kind"], "orders_kind");
    t.check("?? > 0", ["amount_cents"], "orders_amount_positive");
    t.check(
      "?? >= 0 and ?? <= ??",
      ["refunded_cents", "refunded_cents", "amount_cents"],
      "orders_refund_within_amount",
    );
    t.check("?? > ??", ["period_end", "period_start"], "orders_period_order");
    t.index(["instance_id", "period_start"]);
  });

  await knex.schema.createTable("ledger", (t) => {
    t.increments("id").primary();
    t.string("account_id", 64).notNullable().references("id").inTable("accounts");
    t.string("kind", 16).notNullable();
    t.bigInteger("amount_cents").notNullable();
    t.bigInteger("balance_after_cents").notNullable();
    t.integer("order_id").nullable().references("id").inTable("orders");
    t.string("instance_id", 64).nullable().references("id").inTable("instances");
    t.string("actor", 64).notNullable();
    t.string("idempotency_key", 200).nullable().unique();
    t.bigInteger("created_at").notNullable();
    t.check("?? in ('recharge', 'purchase', 'renewal', 'refund')", ["kind"], "ledger_kind");
    t.check("?? <> 0", ["amount_cents"], "ledger_amount_non_zero");
    t.check("?? >= 0", ["balance_after_cents"], "ledger_balance_non_negative");
    t.index(["created_at"]);
  });

  await knex.schema.createTable("admins", (t) => {
    t.string("user_id", 32).primary();
    t.string("added_by", 64).notNullable();
    t.bigInteger("added_at").notNullable();
  });

  await knex.schema.createTable("audit_log", (t) => {
    t.increments("id").primary();
    t.bigInteger("at").notNullable();
    t.string("actor", 64).notNullable();
    t.string("action", 64).notNullable();
    t.string("subject", 200).nullable();
    t.text("inputs").notNullable();
    t.index(["at"]);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [
    "audit_log",
    "admins",
    "ledger",
    "orders",
    "instances",
    "prices",
    "accounts",
    "kms_write_lock",
  ]) {
    await knex.schema.dropTable(table);
  }
}
