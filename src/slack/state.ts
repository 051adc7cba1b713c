import { z } from "zod";
import { BUY_CHANNEL, BUY_NAME, BUY_OWNER, BUY_PERIOD, BUY_SITE } from "../blocks/buy.js";
import { RENEW_INSTANCE, RENEW_PERIOD, TERMS } from "../blocks/renew.js";
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
const conversation = z
  .object({ selected_conversation: z.string().max(30).nullish() })
  .transform((v) => v.selected_conversation ?? undefined);
const user = z
  .object({ selected_user: z.string().max(30).nullish() })
  .transform((v) => v.selected_user ?? undefined);

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
  termsAccepted: boolean;
}

export function readBuyState(values: unknown): BuyState {
  const parsed = stateValues.safeParse(values);
  const v = parsed.success ? parsed.data : {};
  const site = field(BUY_SITE.block, BUY_SITE.action, selectedValue).safeParse(v).data;
  const terms = field(TERMS.block, TERMS.action, checkedValues).safeParse(v).data ?? [];
  return {
    name: field(BUY_NAME.block, BUY_NAME.action, inputValue).safeParse(v).data,
    site: (SITES as readonly string[]).includes(site ?? "") ? (site as Site) : undefined,
    months: monthsFrom(field(BUY_PERIOD.block, BUY_PERIOD.action, selectedValue).safeParse(v).data),
    channel: field(BUY_CHANNEL.block, BUY_CHANNEL.action, conversation).safeParse(v).data,
    owner: field(BUY_OWNER.block, BUY_OWNER.action, user).safeParse(v).data,
    termsAccepted: terms.includes(TERMS.value),
  };
}
