import { z } from "zod";
import { CsvError, decodeUtf8, parseCsv } from "../lib/csv.js";
import { SITES } from "../store/rows.js";
import { echoInput } from "./echo.js";
import { BillingError } from "./errors.js";
import { instanceName } from "./names.js";
import { parseIsoInstant } from "./time.js";

export const IMPORT_COLUMNS = [
  "instance_id",
  "name",
  "site",
  "expires_at",
  "channel",
  "owner",
] as const;

const optional = (pattern: RegExp, what: string) =>
  z
    .string()
    .trim()
    .transform((s) => (s === "" ? null : s))
    .refine((s) => s === null || pattern.test(s), `is not a Slack ${what} id`);

const importRow = (zone: string, emptyExpiry: boolean) =>
  z.object({
    instance_id: z
      .string()
      .trim()
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
        "must be 1-64 letters, digits, dots, dashes or underscores",
      ),
    name: instanceName(),
    site: z
      .string()
      .trim()
      .toLowerCase()
      .pipe(z.enum(SITES, { error: () => `must be ${SITES.join(" or ")}` })),
    expires_at: z.string().transform((s, ctx) => {
      if (emptyExpiry && s.trim() === "") return null;
      const at = parseIsoInstant(s, zone);
      if (at === undefined) {
        ctx.addIssue({
          code: "custom",
          message: `"${echoInput(s)}" is not an ISO 8601 date such as 2026-12-01T00:00:00Z`,
        });
        return z.NEVER;
      }
      return at;
    }),
    channel: optional(/^[CGD][A-Z0-9]{2,}$/, "channel"),
    owner: optional(/^[UW][A-Z0-9]{2,}$/, "user"),
  });

/** A validated row and its line; `expires_at` is null only where the account's date is taken. */
export type ImportRow = z.output<ReturnType<typeof importRow>> & { line: number };

export interface ParseOptions {
  /**
   * KMS_PROVIDER=alibaba: an empty `expires_at` takes the date the account has for the
   * instance (which must then be on the account, i.e. synced).
   */
  emptyExpiry?: boolean;
}

/** A refusal of a whole file, naming the line of the first problem found. */
function bad(line: number, problem: string): BillingError {
  return new BillingError({ code: "INVALID_INPUT", field: `CSV line ${line}`, problem });
}

/**
 * Validates a CSV of instances (header `instance_id,name,site,expires_at,channel,owner`, in
 * any order). Throws on the first bad row with its line number; returns every row otherwise.
 */
export function parseInstanceCsv(
  file: string | Uint8Array,
  zone: string,
  options: ParseOptions = {},
): ImportRow[] {
  let records: ReturnType<typeof parseCsv>;
  try {
    records = parseCsv(typeof file === "string" ? file : decodeUtf8(file));
  } catch (error) {
    if (error instanceof CsvError) throw bad(error.line, error.problem);
    throw error;
  }
  const [header, ...body] = records;
  if (!header) throw bad(1, `the file is empty; the header must be ${IMPORT_COLUMNS.join(",")}`);
  const names = header.fields.map((f) => f.trim().toLowerCase());
  const missing = IMPORT_COLUMNS.filter((c) => !names.includes(c));
  const unknown = names.filter((n) => !(IMPORT_COLUMNS as readonly string[]).includes(n));
  if (missing.length > 0 || unknown.length > 0 || new Set(names).size !== names.length) {
    const parts = [
      missing.length > 0 ? `missing column(s) ${missing.join(", ")}` : "",
      unknown.length > 0 ? `unknown column(s) ${unknown.join(", ")}` : "",
      new Set(names).size !== names.length ? "a column appears twice" : "",
    ].filter(Boolean);
    throw bad(header.line, `${parts.join("; ")}; the header must be ${IMPORT_COLUMNS.join(",")}`);
  }
  const schema = importRow(zone, options.emptyExpiry === true);
  const seen = new Map<string, number>();
  return body.map(({ line, fields }) => {
    if (fields.length !== names.length) {
      throw bad(line, `has ${fields.length} field(s), the header has ${names.length}`);
    }
    const parsed = schema.safeParse(Object.fromEntries(names.map((n, i) => [n, fields[i]])));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw bad(line, `${issue?.path.join(".")} ${issue?.message}`);
    }
    const first = seen.get(parsed.data.instance_id);
    if (first !== undefined)
      throw bad(line, `instance_id ${parsed.data.instance_id} already appears on line ${first}`);
    seen.set(parsed.data.instance_id, line);
    return { ...parsed.data, line };
  });
}
