import type { Knex } from "knex";

// Signatures of the Slack requests handled in the last minutes, so a replayed copy of one
// (same signature) is refused.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("seen_requests", (t) => {
    t.string("signature", 100).primary();
    t.bigInteger("seen_at").notNullable();
    t.index(["seen_at"]);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable("seen_requests");
}
