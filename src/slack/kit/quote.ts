import { z } from "zod";

// The price a modal showed travels in its private_metadata as `{ k, m, u }`: what it was for
// (an instance id, or a site when buying), the months, and the unit price in cents. Buy Now
// charges that price or nothing.

export interface ShownQuote {
  /** Instance id (renew) or site (buy). */
  key: string;
  months: number;
  unitCents: number;
}

const metadata = z.object({
  k: z.string().max(64),
  m: z.number().int(),
  u: z.number().int().positive(),
});

export function encodeQuote(q: ShownQuote): string {
  return JSON.stringify({ k: q.key, m: q.months, u: q.unitCents });
}

export function decodeQuote(raw: string): ShownQuote | undefined {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return undefined;
  }
  const q = metadata.safeParse(json);
  return q.success ? { key: q.data.k, months: q.data.m, unitCents: q.data.u } : undefined;
}

/**
 * The unit price a modal showed for this choice, or undefined when it showed none for it
 * (no price at all, a price for another choice whose refresh has not arrived, or metadata
 * that is not ours). The submission handler refuses to charge in that case.
 */
export function shownUnitCents(raw: string, key: string, months: number): number | undefined {
  const q = decodeQuote(raw);
  return q && q.key === key && q.months === months ? q.unitCents : undefined;
}
