import type { Knex } from "knex";

// Unsubscribe tickets. `open_instance_id` equals `instance_id` while the ticket is open and is
// NULL once it is decided or withdrawn; its unique constraint allows one open ticket per
// instance on both databases (NULLs never collide).

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("tickets", (t) => {
    t.increments("id").primary();
    t.string("instance_id", 64).notNullable().references("id").inTable("instances");
    t.string("open_instance_id", 64).nullable().unique();
    t.string("requester", 32).notNullable();
    t.text("reason").notNullable();
    // open, approved, rejected, withdrawn
    t.string("status", 16).notNullable().defaultTo("open");
    t.bigInteger("estimate_cents").notNullable();
    t.bigInteger("refunded_cents").nullable();
    t.string("decided_by", 32).nullable();
    t.bigInteger("decided_at").nullable();
    t.text("decision_note").nullable();
    t.string("support_channel", 32).nullable();
    t.string("support_ts", 32).nullable();
    t.string("idempotency_key", 200).nullable().unique();
    t.bigInteger("created_at").notNullable();
    t.bigInteger("updated_at").notNullable();
    t.check("?? in ('open', 'approved', 'rejected', 'withdrawn')", ["status"], "tickets_status");
    t.index(["status", "requester"]);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable("tickets");
}
