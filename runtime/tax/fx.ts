import type pg from "pg";
import type { FxImportRequest, FxImportResponse } from "../../schemas/tax.js";

const SQL = {
  upsert: `
    insert into fx_rates (day, base, quote, rate, source)
    select * from unnest($1::date[], $2::text[], $3::text[], $4::numeric[], $5::text[])
    on conflict (base, quote, day) do update set rate = excluded.rate, source = excluded.source, imported_at = now()`,
} as const;

/** Store daily rates; a day already stored takes the newer import's rate (the ECB corrects rates rarely, but it does). */
export async function importFxRates(pool: pg.Pool, request: FxImportRequest): Promise<FxImportResponse> {
  const unique = new Map(request.rates.map((r) => [`${r.base}/${r.quote}/${r.day}`, r]));
  const rates = [...unique.values()];
  await pool.query(SQL.upsert, [rates.map((r) => r.day), rates.map((r) => r.base), rates.map((r) => r.quote), rates.map((r) => r.rate), rates.map(() => request.source)]);
  const days = [...new Set(rates.map((r) => r.day))].sort();
  return { imported: rates.length, days: days.length, from: days[0]!, to: days.at(-1)! };
}
