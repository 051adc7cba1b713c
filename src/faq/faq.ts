import { balance } from "../billing/account.js";
import { audit, requireAdmin } from "../billing/admins.js";
import type { Actor, BillingContext } from "../billing/context.js";
import { BillingError } from "../billing/errors.js";
import { formatUsd } from "../billing/money.js";
import { currentPrices } from "../billing/prices.js";
import { transaction } from "../store/db.js";
import {
  deleteFaq,
  type FaqFields,
  getFaq,
  insertFaq,
  listFaq,
  markEventProcessed,
  updateFaq,
} from "../store/faq.js";
import type { FaqRow } from "../store/rows.js";
import { answers, faqQuestion, rankFaq } from "./match.js";

export type FaqAnswer =
  | { kind: "answer"; entry: FaqRow; text: string }
  | { kind: "unknown"; closest: FaqRow[] }
  /** Nothing was asked once mentions and special tokens are gone: every question. */
  | { kind: "list"; entries: FaqRow[] };

/**
 * Fills an answer's live figures from the database: `{{price:international}}`,
 * `{{price:china}}` (the price catalogue now) and `{{balance}}` (the prepaid balance now).
 */
export async function renderAnswer(
  ctx: BillingContext,
  answer: string,
  readBalance: (ctx: BillingContext) => Promise<number> = balance,
): Promise<string> {
  if (!answer.includes("{{")) return answer;
  const [prices, cents] = await Promise.all([currentPrices(ctx), readBalance(ctx)]);
  return answer
    .replaceAll("{{price:international}}", formatUsd(prices.international.unit_cents))
    .replaceAll("{{price:china}}", formatUsd(prices.china.unit_cents))
    .replaceAll("{{balance}}", formatUsd(cents));
}

/** The best answer to a question in plain words, or the two closest questions when none fits. */
export async function askFaq(
  ctx: BillingContext,
  question: string,
  /** The balance `{{balance}}` shows (the local ledger's, or the Alibaba Cloud account's). */
  readBalance: (ctx: BillingContext) => Promise<number> = balance,
): Promise<FaqAnswer> {
  const entries = await listFaq({ tx: ctx.db });
  const asked = faqQuestion(question);
  if (asked === "") return { kind: "list", entries };
  const ranked = rankFaq(entries, asked.slice(0, 500));
  const best = ranked[0];
  if (answers(best))
    return {
      kind: "answer",
      entry: best.entry,
      text: await renderAnswer(ctx, best.entry.answer, readBalance),
    };
  // The two closest questions; with fewer words in common, the first ones of the list fill in.
  const ids = new Set(ranked.map((m) => m.entry.id));
  const closest = [...ranked.map((m) => m.entry), ...entries.filter((e) => !ids.has(e.id))].slice(
    0,
    2,
  );
  return { kind: "unknown", closest };
}

export async function faqEntries(ctx: BillingContext): Promise<FaqRow[]> {
  return listFaq({ tx: ctx.db });
}

export interface FaqInput {
  question: string;
  phrasings: string;
  answer: string;
  source: string;
}

function checkInput(input: FaqInput): FaqInput {
  const field = (name: keyof FaqInput, max: number, required = true) => {
    const v = input[name].trim();
    if (required && v.length === 0)
      throw new BillingError({ code: "INVALID_INPUT", field: name, problem: "is required" });
    if (v.length > max)
      throw new BillingError({
        code: "INVALID_INPUT",
        field: name,
        problem: `is longer than ${max} characters`,
      });
    return v;
  };
  return {
    question: field("question", 300),
    phrasings: field("phrasings", 3000, false)
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean)
      .join("\n"),
    answer: field("answer", 2500),
    source: field("source", 300),
  };
}

function fields(ctx: BillingContext, actor: Actor, input: FaqInput): FaqFields {
  const now = ctx.clock();
  return {
    ...input,
    reviewed_on: new Date(now).toISOString().slice(0, 10),
    updated_by: actor.type === "user" ? actor.userId : actor.name,
    updated_at: now,
  };
}

/** Adds an entry (admins); it answers from the next question on. */
export async function addFaq(ctx: BillingContext, actor: Actor, raw: FaqInput): Promise<FaqRow> {
  const input = checkInput(raw);
  return transaction(ctx.db, async (tx) => {
    await requireAdmin(ctx, tx, actor, "change the FAQ");
    const slug = `custom-${ctx.clock().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
    const row = await insertFaq({ tx }, slug, fields(ctx, actor, input));
    await audit(ctx, tx, actor, "faq.add", String(row.id), { ...input });
    return row;
  });
}

export async function editFaq(
  ctx: BillingContext,
  actor: Actor,
  id: number,
  raw: FaqInput,
): Promise<void> {
  const input = checkInput(raw);
  await transaction(ctx.db, async (tx) => {
    await requireAdmin(ctx, tx, actor, "change the FAQ");
    if (!(await updateFaq({ tx }, id, fields(ctx, actor, input)))) {
      throw new BillingError({ code: "NOT_FOUND", entity: "faq", id: String(id) });
    }
    await audit(ctx, tx, actor, "faq.edit", String(id), { ...input });
  });
}

export async function removeFaq(ctx: BillingContext, actor: Actor, id: number): Promise<FaqRow> {
  return transaction(ctx.db, async (tx) => {
    await requireAdmin(ctx, tx, actor, "change the FAQ");
    const row = await getFaq({ tx }, id);
    if (!row || !(await deleteFaq({ tx }, id)))
      throw new BillingError({ code: "NOT_FOUND", entity: "faq", id: String(id) });
    await audit(ctx, tx, actor, "faq.remove", String(id), { question: row.question });
    return row;
  });
}

export async function faqEntry(ctx: BillingContext, id: number): Promise<FaqRow> {
  const row = await getFaq({ tx: ctx.db }, id);
  if (!row) throw new BillingError({ code: "NOT_FOUND", entity: "faq", id: String(id) });
  return row;
}

/** Records that an event (a question) is being answered; false when it already was (a retry). */
export async function firstDelivery(ctx: BillingContext, eventId: string): Promise<boolean> {
  return markEventProcessed({ tx: ctx.db }, eventId, ctx.clock());
}
