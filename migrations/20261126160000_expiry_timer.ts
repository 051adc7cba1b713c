import type { Knex } from "knex";

// The expiry timer's outbox and lease. A warning row is the promise to post one message: its
// key (instance, kind, slot, expires_at) is unique, so each warning is created once however
// many sweepers run, and it is marked sent only after Slack answered ok.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("warnings", (t) => {
    t.increments("id").primary();
    t.string("instance_id", 64).notNullable().references("id").inTable("instances");
    // pre_expiry, expired, pre_release, released, reminder, autorenew_ok, autorenew_failed
    t.string("kind", 32).notNullable();
    // Days before expiry or release for thresholds; the attempt for auto-renewals; 0 otherwise.
    t.bigInteger("slot").notNullable();
    t.bigInteger("expires_at").notNullable();
    t.bigInteger("due_at").notNullable();
    // pending, sent, superseded
    t.string("status", 16).notNullable().defaultTo("pending");
    t.text("detail").notNullable().defaultTo("{}");
    t.integer("attempts").notNullable().defaultTo(0);
    t.bigInteger("next_attempt_at").nullable();
    t.text("last_error").nullable();
    t.string("claimed_by", 100).nullable();
    t.bigInteger("claimed_until").nullable();
    t.string("posted_channel", 32).nullable();
    t.string("message_ts", 32).nullable();
    t.bigInteger("created_at").notNullable();
    t.bigInteger("sent_at").nullable();
    t.unique(["instance_id", "kind", "slot", "expires_at"]);
    t.index(["status", "due_at"]);
  });

  await knex.schema.createTable("leases", (t) => {
    t.string("name", 64).primary();
    t.string("holder", 100).nullable();
    t.bigInteger("expires_at").notNullable().defaultTo(0);
  });
  await knex("leases").insert({ name: "sweep", holder: null, expires_at: 0 });

  await knex.schema.alterTable("instances", (t) => {
    t.bigInteger("snoozed_until").nullable();
    t.bigInteger("wont_renew_expires_at").nullable();
    t.index(["released_at", "expires_at"]);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable("instances", (t) => {
    t.dropIndex(["released_at", "expires_at"]);
    t.dropColumn("snoozed_until");
    t.dropColumn("wont_renew_expires_at");
  });
  await knex.schema.dropTable("leases");
  await knex.schema.dropTable("warnings");
}
