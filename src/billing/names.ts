import { z } from "zod";

/** The first invisible formatting character in `s` (bidi overrides, zero-width marks), if any. */
function formatCharacter(s: string): string | undefined {
  const hit = /\p{Cf}/u.exec(s);
  return hit
    ? `U+${(hit[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`
    : undefined;
}

/**
 * An instance name: 1-200 characters, no control characters, and no Unicode format
 * characters (U+202E and U+2066 reorder the text around them; zero-width ones hide or fake a
 * name), so what a person reads is what is stored.
 */
export const instanceName = (missing = "is empty") =>
  z
    .string()
    .trim()
    .min(1, missing)
    .max(200, "is longer than 200 characters")
    .refine((s) => !/\p{Cc}/u.test(s), "contains control characters")
    .superRefine((s, ctx) => {
      const c = formatCharacter(s);
      if (c)
        ctx.addIssue({
          code: "custom",
          message: `contains the invisible formatting character ${c}; type the name without it`,
        });
    });
