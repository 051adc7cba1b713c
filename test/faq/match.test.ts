import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliActor } from "../../src/billing/context.js";
import { setPrice } from "../../src/billing/prices.js";
import { askFaq } from "../../src/faq/faq.js";
import { answers, normalizeTerm, rankFaq } from "../../src/faq/match.js";
import { listFaq } from "../../src/store/faq.js";
import type { FaqRow } from "../../src/store/rows.js";
import { billingContext } from "../helpers/billing.js";
import { createTestDatabase, type TestDatabase } from "../helpers/databases.js";
import { OFF_TOPIC, PHRASINGS } from "./phrasings.js";

describe("FAQ matching", () => {
  let t: TestDatabase;
  let entries: FaqRow[];
  beforeAll(async () => {
    t = await createTestDatabase("sqlite");
    entries = await listFaq({ tx: t.db });
  });
  afterAll(async () => {
    await t.destroy();
  });

  it("has a phrasing table of at least 40 questions and 10 off-topic ones, covering every seeded entry", () => {
    expect(PHRASINGS.length).toBeGreaterThanOrEqual(40);
    expect(OFF_TOPIC.length).toBeGreaterThanOrEqual(10);
    expect(new Set(PHRASINGS.map(([, slug]) => slug))).toEqual(new Set(entries.map((e) => e.slug)));
  });

  it.each(PHRASINGS)("answers %j with %s", (question, slug) => {
    const [best] = rankFaq(entries, question);
    expect(best?.entry.slug).toBe(slug);
    expect(answers(best), `score ${best?.score}, coverage ${best?.coverage}`).toBe(true);
  });

  it.each(OFF_TOPIC)("does not pretend to answer %j", (question) => {
    expect(answers(rankFaq(entries, question)[0])).toBe(false);
  });

  it("stems plurals and verb forms, and drops words that say nothing", () => {
    expect(normalizeTerm("Trials")).toBe(normalizeTerm("trial"));
    expect(normalizeTerm("renewing")).toBe(normalizeTerm("renew"));
    expect(normalizeTerm("expired")).toBe(normalizeTerm("expires"));
    expect(normalizeTerm("the")).toBeNull();
    expect(normalizeTerm("KMS")).toBeNull();
  });

  it("answers with live figures: prices from the catalogue after a change", async () => {
    const ctx = billingContext(t.db);
    const before = await askFaq(ctx, "how much is it in China?");
    expect(before.kind === "answer" && before.text).toContain("USD 2,399.00 on the China site");
    await setPrice(ctx, cliActor, "china", 250_000);
    const after = await askFaq(ctx, "how much is it in China?");
    expect(after.kind === "answer" && after.text).toContain("USD 2,500.00 on the China site");
    expect(after.kind === "answer" && after.text).not.toContain("{{");
  });

  it("offers the two closest questions when it does not know", async () => {
    const r = await askFaq(billingContext(t.db), "what time is the team meeting");
    expect(r.kind).toBe("unknown");
    expect(r.kind === "unknown" && r.closest).toHaveLength(2);
  });

  it("issue 11 item 14: mentions and special tokens are not words of the question", async () => {
    const ctx = billingContext(t.db);
    const only = await askFaq(ctx, "<!channel> <@U0ADMIN> <#C0GENERAL|general> <!subteam^S0TEAM>");
    expect(only.kind).toBe("list");
    if (only.kind === "list") expect(only.entries).toHaveLength(entries.length);
    const trial = await askFaq(ctx, "<!here> is there a free trial? <@U0ADMIN>");
    const plain = await askFaq(ctx, "is there a free trial?");
    expect(trial.kind).toBe("answer");
    if (trial.kind === "answer" && plain.kind === "answer")
      expect(trial.entry.slug).toBe(plain.entry.slug);
  });
});
