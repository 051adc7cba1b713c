import { z } from "zod";
import { BUY_CHANNEL, BUY_NAME, BUY_OWNER, BUY_PERIOD, BUY_SITE } from "../blocks/buy.js";
import { FAQ_FIELDS } from "../blocks/faq.js";
import { RENEW_INSTANCE, RENEW_PERIOD, TERMS } from "../blocks/renew.js";
import { REJECT_REASON, UNSUB_INSTANCE, UNSUB_REASON } from "../blocks/tickets.js";
import { SITES, type Site } from "../store/rows.js";

// view.state.values as Slack sends them, parsed once. Anything missing or odd reads as
// "not chosen", and the submission handler says so on the right field.

const selectedValue = z
  .object({ selected_option: z.object({ value: z.string().max(150) }).nullish() })
  .transform((v) => v.selected_option?.value);
const checkedValues = z
  .object({
    selected_options: z
      .array(z.object({ value: z.string().max(150) }))
      .max(10)
      .nullish(),
  })
  .transform((v) => (v.selected_options ?? []).map((o) => o.value));
const inputValue = z
  .object({ value: z.string().max(3000).nullish() })
  .transform((v) => v.value ?? undefined);

/**
 * An optional conversation or user picker: nothing chosen reads as undefined, but a value
 * that is there and is not a Slack id is reported, never silently dropped.
 */
function optionalId(
  values: Record<string, Record<string, unknown>>,
  block: string,
  action: string,
  key: "selected_conversation" | "selected_user",
  pattern: RegExp,
): { value?: string; invalid: boolean } {
  const element = values[block]?.[action];
  if (element === undefined || element === null) return { invalid: false };
  const raw = typeof element === "object" ? (element as Record<string, unknown>)[key] : element;
  if (raw === undefined || raw === null) return { invalid: false };
  return typeof raw === "string" && pattern.test(raw)
    ? { value: raw, invalid: false }
    : { invalid: true };
}

function field<T extends z.ZodType>(block: string, action: string, schema: T) {
  return z
    .object({ [block]: z.object({ [action]: schema.optional() }).optional() })
    .transform((v) => (v[block] as Record<string, z.output<T> | undefined> | undefined)?.[action]);
}

const stateValues = z.record(z.string(), z.record(z.string(), z.unknown()));

const monthsFrom = (v: string | undefined) =>
  v !== undefined && /^\d{1,2}$/.test(v) ? Number(v) : undefined;

export interface RenewState {
  instanceId?: string;
  months?: number;
  termsAccepted: boolean;
}

export function readRenewState(values: unknown): RenewState {
  const parsed = stateValues.safeParse(values);
  const v = parsed.success ? parsed.data : {};
  const instanceId = field(RENEW_INSTANCE.block, RENEW_INSTANCE.action, selectedValue).safeParse(
    v,
  ).data;
  const period = field(RENEW_PERIOD.block, RENEW_PERIOD.action, selectedValue).safeParse(v).data;
  const terms = field(TERMS.block, TERMS.action, checkedValues).safeParse(v).data ?? [];
  return { instanceId, months: monthsFrom(period), termsAccepted: terms.includes(TERMS.value) };
}

export interface BuyState {
  name?: string;
  site?: Site;
  months?: number;
  channel?: string;
  owner?: string;
  /** Blocks whose value is there but malformed. */
  invalid: string[];
  termsAccepted: boolean;
}

export function readBuyState(values: unknown): BuyState {
  const parsed = stateValues.safeParse(values);
  const v = parsed.success ? parsed.data : {};
  const site = field(BUY_SITE.block, BUY_SITE.action, selectedValue).safeParse(v).data;
  const terms = field(TERMS.block, TERMS.action, checkedValues).safeParse(v).data ?? [];
  const channel = optionalId(
    v,
    BUY_CHANNEL.block,
    BUY_CHANNEL.action,
    "selected_conversation",
    /^[CGD][A-Z0-9]{2,29}$/,
  );
  const owner = optionalId(
    v,
    BUY_OWNER.block,
    BUY_OWNER.action,
    "selected_user",
    /^[UW][A-Z0-9]{2,29}$/,
  );
  return {
    name: field(BUY_NAME.block, BUY_NAME.action, inputValue).safeParse(v).data,
    site: (SITES as readonly string[]).includes(site ?? "") ? (site as Site) : undefined,
    months: monthsFrom(field(BUY_PERIOD.block, BUY_PERIOD.action, selectedValue).safeParse(v).data),
    channel: channel.value,
    owner: owner.value,
    invalid: [
      ...(channel.invalid ? [BUY_CHANNEL.block] : []),
      ...(owner.invalid ? [BUY_OWNER.block] : []),
    ],
    termsAccepted: terms.includes(TERMS.value),
  };
}

export interface UnsubscribeState {
  instanceId?: string;
  reason?: string;
}

export function readUnsubscribeState(values: unknown): UnsubscribeState {
  const parsed = stateValues.safeParse(values);
  const v = parsed.success ? parsed.data : {};
  return {
    instanceId: field(UNSUB_INSTANCE.block, UNSUB_INSTANCE.action, selectedValue).safeParse(v).data,
    reason: field(UNSUB_REASON.block, UNSUB_REASON.action, inputValue).safeParse(v).data,
  };
}

export function readRejectReason(values: unknown): string | undefined {
  const parsed = stateValues.safeParse(values);
  return field(REJECT_REASON.block, REJECT_REASON.action, inputValue).safeParse(
    parsed.success ? parsed.data : {},
  ).data;
}

export interface FaqState {
  question: string;
  phrasings: string;
  answer: string;
  source: string;
}

export function readFaqState(values: unknown): FaqState {
  const parsed = stateValues.safeParse(values);
  const v = parsed.success ? parsed.data : {};
  const read = (k: keyof typeof FAQ_FIELDS) =>
    field(FAQ_FIELDS[k].block, FAQ_FIELDS[k].action, inputValue).safeParse(v).data ?? "";
  return {
    question: read("question"),
    phrasings: read("phrasings"),
    answer: read("answer"),
    source: read("source"),
  };
}

const quoted = z.object({
  k: z.string().max(64),
  m: z.number().int(),
  u: z.number().int().positive(),
});

/**
 * The unit price a modal showed for `key` (instance id or site) and `months`, from its
 * private_metadata. `undefined` when it showed none; `null` when it showed one for another
 * choice (its refresh has not arrived), which must not be charged blindly.
 */
export function quotedUnitCents(
  metadata: string,
  key: string,
  months: number,
): number | null | undefined {
  if (!metadata) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(metadata);
  } catch {
    return null;
  }
  const q = quoted.safeParse(raw);
  if (!q.success) return null;
  return q.data.k === key && q.data.m === months ? q.data.u : null;
}
