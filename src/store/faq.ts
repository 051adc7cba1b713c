import type { StoreCtx } from "./db.js";
import { type FaqRow, faqRow } from "./rows.js";

export async function listFaq({ tx }: StoreCtx): Promise<FaqRow[]> {
  const rows = await tx("faq_entries").orderBy("id");
  return rows.map((r) => faqRow.parse(r));
}

export async function getFaq({ tx }: StoreCtx, id: number): Promise<FaqRow | undefined> {
  const row = await tx("faq_entries").where({ id }).first();
  return row ? faqRow.parse(row) : undefined;
}

export type FaqFields = Pick<
  FaqRow,
  "question" | "phrasings" | "answer" | "source" | "reviewed_on" | "updated_by" | "updated_at"
>;

export async function insertFaq(
  { tx }: StoreCtx,
  slug: string,
  fields: FaqFields,
): Promise<FaqRow> {
  const [row] = await tx("faq_entries")
    .insert({ slug, ...fields })
    .returning("*");
  return faqRow.parse(row);
}

export async function updateFaq({ tx }: StoreCtx, id: number, fields: FaqFields): Promise<boolean> {
  return (await tx("faq_entries").where({ id }).update(fields)) === 1;
}

export async function deleteFaq({ tx }: StoreCtx, id: number): Promise<boolean> {
  return (await tx("faq_entries").where({ id }).delete()) === 1;
}

/** Records an event as answered; false when it already was (a retry or a duplicate delivery). */
export async function markEventProcessed(
  { tx }: StoreCtx,
  eventId: string,
  at: number,
): Promise<boolean> {
  const rows = await tx("processed_events")
    .insert({ event_id: eventId, received_at: at })
    .onConflict("event_id")
    .ignore()
    .returning("event_id");
  return rows.length > 0;
}

/** Forgets events answered before `before` (Slack retries an event within minutes, not days). */
export async function pruneProcessedEvents({ tx }: StoreCtx, before: number): Promise<number> {
  return tx("processed_events").where("received_at", "<", before).delete();
}
