import type { KnownBlock, Option, PlainTextOption } from "@slack/types";
import { z } from "zod";
import type { InstanceView } from "../../billing/instances.js";
import { PERIOD_MONTHS, periodLabel } from "../../billing/periods.js";
import { clip, LIMITS, mrkdwn, plain } from "./blocks.js";

// Pieces several modals share (period and instance selects, the Terms of Service), and the
// readers of view.state.values: anything missing or odd reads as "not chosen", and the
// submission handler says so on the right field.

export const TERMS = { block: "terms", action: "terms_accept", value: "accepted" } as const;
export const TERMS_URL = "https://www.alibabacloud.com/help/en/legal";

/** The Subscription Period options: 1-9 months, 1, 2 and 3 years. */
export function periodOptions(): PlainTextOption[] {
  return PERIOD_MONTHS.map(periodOption);
}

export function periodOption(months: number): PlainTextOption {
  return { text: plain(periodLabel(months), LIMITS.optionText), value: String(months) };
}

/** An instance as a select option: `id · name`, cut to Slack's 75 characters. */
export function instanceOption({ instance }: InstanceView): PlainTextOption {
  return {
    text: plain(clip(`${instance.id} · ${instance.name}`, LIMITS.optionText)),
    value: instance.id,
  };
}

/** A static select of instances: the first 100 (Slack's limit for a select). */
export function instanceSelectOptions(choices: InstanceView[]): { options: PlainTextOption[] } {
  return { options: choices.slice(0, LIMITS.selectOptions).map(instanceOption) };
}

/** The Terms of Service link and the required checkbox, shared by the renew and buy modals. */
export function termsBlocks(accepted = false): KnownBlock[] {
  const option: Option = {
    text: plain("I have read and agree to the Dedicated KMS Terms of Service", LIMITS.optionText),
    value: TERMS.value,
  };
  return [
    {
      type: "context",
      elements: [
        { type: "mrkdwn", text: `<${TERMS_URL}|Read the Dedicated KMS Terms of Service>` },
      ],
    },
    {
      type: "input",
      block_id: TERMS.block,
      label: plain("Terms of Service", 2000),
      element: {
        type: "checkboxes",
        action_id: TERMS.action,
        options: [option],
        ...(accepted ? { initial_options: [option] } : {}),
      },
    },
  ];
}

/** A refusal shown under a field of a re-drawn modal (where `errors` can't be used). */
export function fieldProblem(blockId: string, text: string): KnownBlock {
  return {
    type: "context",
    block_id: `${blockId}_problem`,
    elements: [mrkdwn(`:no_entry: ${text}`)],
  };
}

export const selectedValue = z
  .object({ selected_option: z.object({ value: z.string().max(150) }).nullish() })
  .transform((v) => v.selected_option?.value);
export const checkedValues = z
  .object({
    selected_options: z
      .array(z.object({ value: z.string().max(150) }))
      .max(10)
      .nullish(),
  })
  .transform((v) => (v.selected_options ?? []).map((o) => o.value));
export const inputValue = z
  .object({ value: z.string().max(3000).nullish() })
  .transform((v) => v.value ?? undefined);

const stateValues = z.record(z.string(), z.record(z.string(), z.unknown()));
export type StateValues = z.output<typeof stateValues>;

/** view.state.values parsed once; anything that is not Slack's shape reads as empty. */
export function stateOf(values: unknown): StateValues {
  const parsed = stateValues.safeParse(values);
  return parsed.success ? parsed.data : {};
}

/** The value of one element, parsed by `schema`; undefined when missing or malformed. */
export function read<T extends z.ZodType>(
  values: StateValues,
  at: { block: string; action: string },
  schema: T,
): z.output<T> | undefined {
  const parsed = schema.safeParse(values[at.block]?.[at.action]);
  return parsed.success ? parsed.data : undefined;
}

/** Whether the Terms of Service box is ticked. */
export function termsAccepted(values: StateValues): boolean {
  return (read(values, TERMS, checkedValues) ?? []).includes(TERMS.value);
}

/** A Subscription Period choice: whole months, or undefined. */
export function monthsFrom(v: string | undefined): number | undefined {
  return v !== undefined && /^\d{1,2}$/.test(v) ? Number(v) : undefined;
}

/**
 * An optional conversation or user picker: nothing chosen reads as undefined, but a value
 * that is there and is not a Slack id is reported, never silently dropped.
 */
export function optionalId(
  values: StateValues,
  at: { block: string; action: string },
  key: "selected_conversation" | "selected_user",
  schema: z.ZodType<string>,
): { value?: string; invalid: boolean } {
  const element = values[at.block]?.[at.action];
  if (element === undefined || element === null) return { invalid: false };
  const raw = typeof element === "object" ? (element as Record<string, unknown>)[key] : element;
  if (raw === undefined || raw === null) return { invalid: false };
  const parsed = schema.safeParse(raw);
  return parsed.success ? { value: parsed.data, invalid: false } : { invalid: true };
}
