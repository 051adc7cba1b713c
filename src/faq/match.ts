import MiniSearch, { type SearchResult } from "minisearch";
import type { FaqRow } from "../store/rows.js";

// Words that say nothing about which question is meant: they appear in almost every
// question (or in none that matter), so they neither match nor count.
const STOP_WORDS = new Set(
  (
    "a an the is are was be been do does did doing done you your we our us i me my it its of to for in on at by " +
    "with and or if so as can could would should will shall may might there any some what which who whom how when " +
    "why where this that these those please pls hi hello hey thanks thank kms dedicated instance instances service " +
    "alibaba cloud key management get have has had am just about tell know want need let lets not no yes one " +
    "support supports supported offer offers"
  ).split(" "),
);

/**
 * The words of a question without Slack's special tokens: user, channel and group mentions
 * (`<@U1>`, `<#C1|general>`, `<!subteam^S1>`), broadcasts (`<!channel>`, `<!here>`), dates
 * and links, which would otherwise match as words ("channel" ~ "cancel").
 */
export function faqQuestion(text: string): string {
  return text
    .replace(/<[^<>]*>/g, " ")
    .replace(/&(lt|gt|amp);/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}

/** Lower case, stop words out, and a light stemmer so "trials", "renewing" and "renewed" match "trial", "renew". */
export function normalizeTerm(term: string): string | null {
  const t = term.toLowerCase().replace(/[^\p{L}\p{N}]/gu, "");
  if (t.length < 2 || STOP_WORDS.has(t)) return null;
  let stem = t;
  if (stem.length > 4 && stem.endsWith("ies")) stem = `${stem.slice(0, -3)}y`;
  else if (stem.length > 3 && stem.endsWith("s") && !stem.endsWith("ss")) stem = stem.slice(0, -1);
  if (stem.length > 5 && stem.endsWith("ing")) stem = stem.slice(0, -3);
  else if (stem.length > 4 && stem.endsWith("ed")) stem = stem.slice(0, -2);
  if (stem.length > 4 && stem.endsWith("e")) stem = stem.slice(0, -1);
  return stem;
}

/**
 * Swapped neighbouring letters ("renwe", "trail") are the most common typo and cost two
 * edits, more than the fuzzy match allows in short words: such a word is replaced by the
 * vocabulary word it becomes when two neighbours are swapped back.
 */
function unswap(term: string, vocabulary: ReadonlySet<string>): string {
  if (vocabulary.has(term)) return term;
  for (let i = 0; i < term.length - 1; i++) {
    const swapped = `${term.slice(0, i)}${term[i + 1]}${term[i]}${term.slice(i + 2)}`;
    const stem = normalizeTerm(swapped);
    if (stem && vocabulary.has(stem)) return swapped;
  }
  return term;
}

/** Typos allowed per word: none in short words, one in mid-length, two in long ones. */
function fuzziness(term: string): number {
  if (term.length >= 7) return 2;
  if (term.length >= 4) return 1;
  return 0;
}

/**
 * When the best match answers: its score reaches MIN_SCORE and it matched at least half of
 * the question's meaningful words (so one shared word, "time" in "what time is the meeting",
 * is not enough). Tuned on the phrasing table in test/faq.
 */
export const MIN_SCORE = 3;
export const MIN_COVERAGE = 0.5;

export interface FaqMatch {
  entry: FaqRow;
  score: number;
  /** Share of the question's meaningful words that matched this entry. */
  coverage: number;
}

export function answers(match: FaqMatch | undefined): match is FaqMatch {
  return match !== undefined && match.score >= MIN_SCORE && match.coverage >= MIN_COVERAGE;
}

/**
 * Ranks FAQ entries for a question with MiniSearch (BM25 over the question, its phrasings and,
 * weakly, the answer; typo-tolerant, prefix-aware). Returns the ranked entries; the caller
 * decides with {@link MATCH_THRESHOLD} whether the best one answers.
 */
export function rankFaq(entries: readonly FaqRow[], question: string): FaqMatch[] {
  const index = new MiniSearch<FaqRow & { alt: string }>({
    fields: ["question", "alt"],
    storeFields: [],
    processTerm: normalizeTerm,
    searchOptions: {
      boost: { question: 2, alt: 3 },
      fuzzy: (term) => fuzziness(term) / Math.max(1, term.length),
      prefix: (term) => term.length >= 4,
      combineWith: "OR",
      weights: { fuzzy: 0.6, prefix: 0.5 },
    },
  });
  index.addAll(entries.map((e) => ({ ...e, alt: e.phrasings })));
  const vocabulary = new Set(
    entries
      .flatMap((e) => `${e.question} ${e.phrasings}`.split(/\s+/))
      .map(normalizeTerm)
      .filter((t): t is string => t !== null),
  );
  question = question
    .split(/\s+/)
    .map((w) => unswap(w.toLowerCase().replace(/[^\p{L}\p{N}]/gu, ""), vocabulary))
    .join(" ");
  const byId = new Map(entries.map((e) => [e.id, e]));
  const words = new Set(
    question
      .split(/\s+/)
      .map(normalizeTerm)
      .filter((t): t is string => t !== null),
  );
  return index
    .search(question)
    .map((r: SearchResult) => ({
      entry: byId.get(Number(r.id)) as FaqRow,
      score: r.score,
      coverage: words.size === 0 ? 0 : new Set(r.queryTerms).size / words.size,
    }))
    .filter((m) => m.entry !== undefined);
}
