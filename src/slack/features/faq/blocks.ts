import type { ModalView } from "@slack/types";
import { z } from "zod";
import type { FaqRow } from "../../../billing/types.js";
import type { FaqAnswer } from "../../../faq/faq.js";
import { escapeText, LIMITS, plain, section } from "../../kit/blocks.js";
import { inputValue, read, stateOf } from "../../kit/form.js";

export const FAQ_VIEW = "faq_modal";
export const FAQ_FIELDS = {
  question: { block: "faq_question", action: "faq_question_input" },
  phrasings: { block: "faq_phrasings", action: "faq_phrasings_input" },
  answer: { block: "faq_answer", action: "faq_answer_input" },
  source: { block: "faq_source", action: "faq_source_input" },
} as const;

/** An answer as people read it: the question, the answer, its source and review date. */
export function faqReply(answer: FaqAnswer): string {
  if (answer.kind === "list") return faqListText(answer.entries, false);
  if (answer.kind === "answer") {
    const e = answer.entry;
    return `*${escapeText(e.question)}*\n${answer.text}\n_Source: ${escapeText(e.source)} · reviewed ${e.reviewed_on}_`;
  }
  const closest = answer.closest.map((e) => `• ${escapeText(e.question)}`).join("\n");
  return `:thinking_face: I don't know that one.${closest ? ` The closest questions I can answer:\n${closest}\n` : " "}Try \`/kms faq\` for the list or \`/kms help\` for commands; for anything else, open a ticket with Alibaba Cloud support.`;
}

/** `/kms faq`: every question, with ids for admins to edit. */
export function faqListText(entries: FaqRow[], isAdmin: boolean): string {
  const lines = entries.map((e) => `${isAdmin ? `\`${e.id}\` ` : ""}${escapeText(e.question)}`);
  const admin = isAdmin
    ? "\nAdmins: `/kms faq add`, `/kms faq edit <id>`, `/kms faq remove <id>`."
    : "";
  return `*What I can answer* (ask with \`/kms faq <question>\`, mention me, or DM me):\n${lines.map((l) => `• ${l}`).join("\n")}${admin}`;
}

/** Add or edit an entry; `private_metadata` carries the entry id (or `new`), re-checked on submit. */
export function faqModal(entry?: FaqRow): ModalView {
  const input = (
    key: keyof typeof FAQ_FIELDS,
    label: string,
    value: string | undefined,
    opts: { multiline?: boolean; optional?: boolean; max: number; hint?: string },
  ) => ({
    type: "input" as const,
    block_id: FAQ_FIELDS[key].block,
    optional: opts.optional ?? false,
    label: plain(label, 2000),
    ...(opts.hint ? { hint: plain(opts.hint, 2000) } : {}),
    element: {
      type: "plain_text_input" as const,
      action_id: FAQ_FIELDS[key].action,
      multiline: opts.multiline ?? false,
      max_length: opts.max,
      ...(value ? { initial_value: value.slice(0, 3000) } : {}),
    },
  });
  return {
    type: "modal",
    callback_id: FAQ_VIEW,
    private_metadata: entry ? String(entry.id) : "new",
    title: plain(entry ? "Edit FAQ entry" : "Add FAQ entry", LIMITS.viewTitle),
    submit: plain("Save", LIMITS.viewTitle),
    close: plain("Cancel", LIMITS.viewTitle),
    blocks: [
      section(
        "Answers take effect at once. `{{price:international}}`, `{{price:china}}` and `{{balance}}` are filled with live figures.",
      ),
      input("question", "Question", entry?.question, { max: 300 }),
      input("phrasings", "Other ways people ask it (one per line)", entry?.phrasings, {
        multiline: true,
        optional: true,
        max: 3000,
      }),
      input("answer", "Answer", entry?.answer, {
        multiline: true,
        max: 2500,
        hint: "Point to the /kms command that does the thing.",
      }),
      input("source", "Source", entry?.source, {
        max: 300,
        hint: "Where the answer comes from, e.g. the billing page and its date.",
      }),
    ],
  };
}

export interface FaqState {
  question: string;
  phrasings: string;
  answer: string;
  source: string;
}

export function readFaqState(values: unknown): FaqState {
  const v = stateOf(values);
  const field = (k: keyof typeof FAQ_FIELDS) => read(v, FAQ_FIELDS[k], inputValue) ?? "";
  return {
    question: field("question"),
    phrasings: field("phrasings"),
    answer: field("answer"),
    source: field("source"),
  };
}

const target = z.union([
  z.literal("new"),
  z
    .string()
    .regex(/^\d{1,9}$/)
    .transform(Number),
]);

/** What an FAQ modal edits, from its private_metadata: `new` or an entry id; undefined if not ours. */
export function faqTarget(metadata: string): "new" | number | undefined {
  const parsed = target.safeParse(metadata);
  return parsed.success ? parsed.data : undefined;
}
