import type { StoreCtx } from "./db.js";
import { type PriceRow, priceRow, type Site } from "./rows.js";

/** The price in force for `site` at `at`: the latest one whose effective-from has passed. */
export async function priceAt({ tx }: StoreCtx, site: Site, at: number): Promise<PriceRow> {
  const row = await tx("prices")
    .where({ site })
    .andWhere("effective_from", "<=", at)
    .orderBy([
      { column: "effective_from", order: "desc" },
      { column: "id", order: "desc" },
    ])
    .first();
  if (!row) throw new Error(`no price for site ${site} at ${at}`);
  return priceRow.parse(row);
}

export async function insertPrice(
  { tx }: StoreCtx,
  price: Omit<PriceRow, "id">,
): Promise<PriceRow> {
  const [row] = await tx("prices").insert(price).returning("*");
  return priceRow.parse(row);
}

export async function priceHistory({ tx }: StoreCtx, site: Site): Promise<PriceRow[]> {
  const rows = await tx("prices").where({ site }).orderBy("effective_from", "desc");
  return rows.map((r) => priceRow.parse(r));
}
