import type { Knex } from "knex";

// The FAQ knowledge base, seeded from Alibaba Cloud's "Billing of Dedicated KMS" page
// (last updated 2023-09-04), and the Slack events already answered (so a retried or
// duplicated delivery is answered once).

const PAGE = "Alibaba Cloud, Billing of Dedicated KMS (last updated 2023-09-04)";
const BOT = "kms-bot README";

const SEED = [
  {
    slug: "free-trial",
    question: "Does Dedicated KMS support free trials?",
    phrasings: [
      "is there a free trial",
      "can we try it for free",
      "trial period",
      "free tier",
      "test it without paying",
      "evaluation version demo",
    ],
    answer:
      "No. Dedicated KMS does not support free trials. To start, an admin buys an instance with `/kms buy` (list prices: `/kms price`).",
    source: PAGE,
  },
  {
    slug: "prices",
    question: "How much does a Dedicated KMS instance cost?",
    phrasings: [
      "price per month",
      "pricing",
      "how much is it in China",
      "monthly fee cost",
      "international site price",
      "how expensive",
    ],
    answer:
      "Per instance and month: {{price:international}} on the International site and {{price:china}} on the China site (current list prices). The actual prices on the buy page shall prevail. A subscription costs the monthly price times the months. `/kms price` shows them.",
    source: PAGE,
  },
  {
    slug: "overdue",
    question: "Can we have overdue payments?",
    phrasings: [
      "overdue payment",
      "pay later",
      "negative balance arrears",
      "what if the balance is not enough",
      "postpaid pay as you go",
      "debt owe money",
    ],
    answer:
      "No. Dedicated KMS uses subscription billing, so no overdue payments can occur: you can purchase, upgrade or renew an instance only if your account balance is sufficient. The balance is {{balance}} now (`/kms balance`); billing admins top it up with `/kms topup`.",
    source: PAGE,
  },
  {
    slug: "expiry",
    question: "What happens when an instance expires?",
    phrasings: [
      "what if we forget to renew",
      "expired instance",
      "it expired, what now",
      "expiration",
      "service stops",
      "when is it released deleted",
      "grace period",
    ],
    answer:
      "When a Dedicated KMS instance expires it is immediately disabled and no longer provides services. It is released on the 16th day after it expires, and a released instance can't be renewed. kms-bot warns the instance's channel before expiry and before release; renew in time with `/kms renew`.",
    source: PAGE,
  },
  {
    slug: "renew",
    question: "How do I renew an instance?",
    phrasings: [
      "renewal steps",
      "extend the subscription",
      "buy more time",
      "automatic renewal autorenew",
      "keep it running longer",
    ],
    answer:
      "In the KMS console: Dedicated KMS, Renew in the Actions column, choose the Subscription Period, read and select the Dedicated KMS Terms of Service, Buy Now and pay. In Slack, `/kms renew <instance>` does the same from your prepaid balance, and `/kms autorenew <instance> <period>` renews automatically.",
    source: PAGE,
  },
  {
    slug: "refunds",
    question: "How do I unsubscribe and get a refund?",
    phrasings: [
      "cancel subscription",
      "money back",
      "refund policy",
      "terminate instance",
      "stop paying",
      "unsubscription rules",
    ],
    answer:
      "Unsubscribe through a ticket: `/kms unsubscribe <instance>` shows the refund estimate and files it for a billing admin. Dedicated KMS refunds pending renewal orders in full and gives partial refunds for instances in the Disabled state (the unused part of the paid period). Refunds go back to the prepaid balance.",
    source: PAGE,
  },
  {
    slug: "bills",
    question: "How do I query and export bills?",
    phrasings: [
      "invoice",
      "billing statement",
      "export csv",
      "bill details",
      "spending this month",
    ],
    answer:
      "`/kms bills [YYYY-MM]` lists a month's bill lines with totals (every purchase, renewal, refund and recharge), and `/kms bills export [YYYY-MM]` sends the CSV to your DM. In Alibaba Cloud, bills and bill details are in User Center.",
    source: PAGE,
  },
  {
    slug: "remaining",
    question: "How do I see the remaining subscription period?",
    phrasings: [
      "how long is left",
      "when does it expire",
      "expiry date",
      "days remaining",
      "instance status",
    ],
    answer:
      "`/kms status` lists every instance with its expiry date and Remaining Subscription Period in days; `/kms status <instance>` shows one in detail (for a disabled one, the days until release). In the KMS console it is the Remaining Subscription Period column.",
    source: PAGE,
  },
  {
    slug: "balance",
    question: "How do I check or top up the balance?",
    phrasings: [
      "top up",
      "recharge account",
      "add funds",
      "prepaid balance",
      "how much money do we have",
    ],
    answer:
      "The prepaid balance is {{balance}} now (`/kms balance`). Billing admins add to it with `/kms topup <amount>`; every purchase, renewal and refund is taken from or returned to it.",
    source: BOT,
  },
];

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("faq_entries", (t) => {
    t.increments("id").primary();
    t.string("slug", 64).notNullable().unique();
    t.string("question", 300).notNullable();
    // One alternative phrasing per line.
    t.text("phrasings").notNullable();
    t.text("answer").notNullable();
    t.string("source", 300).notNullable();
    t.string("reviewed_on", 10).notNullable();
    t.string("updated_by", 32).notNullable();
    t.bigInteger("updated_at").notNullable();
  });
  await knex("faq_entries").insert(
    SEED.map((e) => ({
      ...e,
      phrasings: e.phrasings.join("\n"),
      reviewed_on: "2026-11-26",
      updated_by: "migration",
      updated_at: 0,
    })),
  );
  await knex.schema.createTable("processed_events", (t) => {
    t.string("event_id", 100).primary();
    t.bigInteger("received_at").notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable("processed_events");
  await knex.schema.dropTable("faq_entries");
}
