import type { Db } from "../store/db.js";
import { transaction } from "../store/db.js";
import { insertPrice, priceAt } from "../store/prices.js";
import { type PriceRow, SITES, type Site, siteSchema } from "../store/rows.js";
import { audit, requireAdmin } from "./admins.js";
import { type Actor, actorId, type BillingContext } from "./context.js";
import { echoInput } from "./echo.js";
import { BillingError } from "./errors.js";
import { MAX_AMOUNT_CENTS } from "./money.js";

/** The monthly list price of each site in force now. */
export async function currentPrices(
  ctx: BillingContext,
  tx: Db = ctx.db,
): Promise<Record<Site, PriceRow>> {
  const now = ctx.clock();
  const [international, china] = await Promise.all(SITES.map((site) => priceAt({ tx }, site, now)));
  return { international, china };
}

export function parseSite(text: string): Site {
  const parsed = siteSchema.safeParse(text.trim().toLowerCase());
  if (!parsed.success) {
    throw new BillingError({
      code: "INVALID_INPUT",
      field: "site",
      problem: `"${echoInput(text.trim())}" is not a site; use ${SITES.join(" or ")}`,
    });
  }
  return parsed.data;
}

/** Changes a site's monthly price from now on; orders already paid keep their price. */
export async function setPrice(
  ctx: BillingContext,
  actor: Actor,
  site: Site,
  unitCents: number,
): Promise<PriceRow> {
  if (!Number.isSafeInteger(unitCents) || unitCents <= 0 || unitCents > MAX_AMOUNT_CENTS) {
    throw new BillingError({
      code: "INVALID_INPUT",
      field: "price",
      problem: "must be a positive amount",
    });
  }
  return transaction(ctx.db, async (tx) => {
    await requireAdmin(ctx, tx, actor, "change prices");
    const now = ctx.clock();
    const row = await insertPrice(
      { tx },
      {
        site,
        unit_cents: unitCents,
        effective_from: now,
        created_by: actorId(actor),
        created_at: now,
      },
    );
    await audit(ctx, tx, actor, "price.set", site, { site, unitCents });
    return row;
  });
}
