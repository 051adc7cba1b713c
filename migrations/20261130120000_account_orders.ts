import type { Knex } from "knex";

// Orders placed on the Alibaba Cloud account (KMS_PROVIDER=alibaba) are written `submitted`
// before RenewInstance is called and become `paid` (with the account's OrderId) or `failed`
// once the account answers, so a crash in between can be finished with the same ClientToken.
// Local orders are paid when written: existing rows become `paid`.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("orders", (t) => {
    t.string("status", 16).notNullable().defaultTo("paid");
    t.string("account_order_id", 64).nullable();
    t.string("client_token", 64).nullable();
    t.string("last_error", 500).nullable();
    t.unique(["account_order_id"], { indexName: "orders_account_order_id_unique" });
    t.index(["status"], "orders_status_index");
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable("orders", (t) => {
    t.dropIndex(["status"], "orders_status_index");
    t.dropUnique(["account_order_id"], "orders_account_order_id_unique");
  });
  await knex.schema.alterTable("orders", (t) => {
    t.dropColumn("last_error");
    t.dropColumn("client_token");
    t.dropColumn("account_order_id");
    t.dropColumn("status");
  });
}
