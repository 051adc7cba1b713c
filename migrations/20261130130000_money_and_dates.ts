import type { Knex } from "knex";

// Issue 11: the anniversary a subscription's months are counted from, imports written in
// short batches under an id (resumable, reversible), and pruning of answered events.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("instances", (t) => {
    // The instant whose day of month and time of day (in KMS_TIMEZONE) each period ends on.
    t.bigInteger("anniversary_at").nullable();
  });
  await knex.schema.createTable("imports", (t) => {
    t.string("id", 40).primary();
    t.string("file_sha256", 64).notNullable();
    t.integer("rows").notNullable();
    t.boolean("force_dates").notNullable();
    // applying -> done | rolled_back
    t.string("status", 20).notNullable();
    t.string("actor", 100).notNullable();
    t.bigInteger("created_at").notNullable();
    t.bigInteger("updated_at").notNullable();
  });
  await knex.schema.createTable("import_changes", (t) => {
    t.string("import_id", 40).notNullable().references("id").inTable("imports");
    t.string("instance_id", 64).notNullable();
    t.integer("line").notNullable();
    // The instance row before this import touched it (JSON); null when the import created it.
    t.text("before").nullable();
    // The fields this import wrote (JSON): a rollback restores a field only while it still holds them.
    t.text("after").notNullable();
    // What the report says about the row (JSON: outcome, changed and refused fields).
    t.text("outcome").notNullable();
    t.primary(["import_id", "instance_id"]);
  });
  await knex.schema.alterTable("processed_events", (t) => {
    t.index(["received_at"]);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable("processed_events", (t) => {
    t.dropIndex(["received_at"]);
  });
  await knex.schema.dropTable("import_changes");
  await knex.schema.dropTable("imports");
  await knex.schema.alterTable("instances", (t) => {
    t.dropColumn("anniversary_at");
  });
}
