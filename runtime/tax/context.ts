import type pg from "pg";
import { storedProject } from "../../schemas/api.js";
import { shippedRates, TaxRates } from "./rates.js";

export interface TaxContext {
  rates: TaxRates;
  pricesIncludeTax: boolean;
}

const SQL = { project: "select spec, spec_hash from resources where kind = 'Project'" } as const;

let cached: { hash: string; context: TaxContext } | undefined;

/**
 * The rates as the applied project sees them: the shipped data with mk.yaml's
 * tax.rates on top, and whether its prices include tax (true when nothing is
 * applied yet, mk.yaml's default). Rebuilt only when the project changes.
 */
export async function taxContext(db: pg.Pool | pg.PoolClient): Promise<TaxContext> {
  const row = (await db.query<{ spec: unknown; spec_hash: string }>(SQL.project)).rows[0];
  const hash = row?.spec_hash ?? "";
  if (cached?.hash !== hash) {
    const project = row ? storedProject.parse(row.spec) : undefined;
    cached = { hash, context: { rates: new TaxRates(shippedRates(), project?.tax.rates ?? []), pricesIncludeTax: project?.tax.pricesIncludeTax ?? true } };
  }
  return cached.context;
}
