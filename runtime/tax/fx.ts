import type pg from "pg";
import type { Decimal } from "decimal.js";
import type { FxImportRequest, FxImportResponse, TaxFxUse } from "../../schemas/tax.js";
import { groupBy } from "../group-by.js";
import { currencyExponent } from "../money.js";
import { Money } from "./compute.js";

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

export interface FxFactor {
  use: TaxFxUse;
  /** Multiply minor units of the currency by this to get minor units of the reporting currency. */
  factor: string;
}

interface RateRow {
  day: string;
  base: string;
  quote: string;
  rate: string;
}

const RATES_SQL = `
  select day::text as day, base, quote, rate::text as rate from fx_rates
  where day <= $3::date and ((base = any($1::text[]) and quote = $2) or (base = $2 and quote = any($1::text[])) or (base = 'EUR' and (quote = any($1::text[]) or quote = $2)))
  order by day`;

/** The latest row on or before a day (rows sorted by day). */
function latest(rows: readonly RateRow[] | undefined, day: string): RateRow | undefined {
  if (!rows) return undefined;
  let lo = 0;
  let hi = rows.length - 1;
  let found: RateRow | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (rows[mid]!.day <= day) {
      found = rows[mid];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/**
 * The exchange rate for each (currency, day) into the reporting currency: the
 * rate of that day, else the latest earlier one (stale, and flagged). A direct
 * pair wins over its inverse, which wins over a cross through EUR (the ECB's
 * rates), unless another path has a later date. Undefined when no rate exists
 * on or before the day.
 */
export async function fxFactors(db: pg.Pool, pairs: readonly { currency: string; day: string }[], reporting: string): Promise<Map<string, FxFactor | undefined>> {
  const result = new Map<string, FxFactor | undefined>();
  const foreign = [...new Set(pairs.map((p) => p.currency).filter((c) => c !== reporting))];
  const lastDay = pairs.reduce((max, p) => (p.day > max ? p.day : max), "0000-00-00");
  const rows = foreign.length > 0 ? (await db.query<RateRow>(RATES_SQL, [foreign, reporting, lastDay])).rows : [];
  const series = groupBy(rows, (row) => `${row.base}/${row.quote}`);
  const scale = (currency: string) => new Money(10).pow(currencyExponent(reporting) - currencyExponent(currency));
  for (const { currency, day } of pairs) {
    const key = `${currency}/${day}`;
    if (result.has(key)) continue;
    if (currency === reporting) {
      result.set(key, { factor: "1", use: { currency, day, rateDay: day, rate: "1", stale: false, via: "direct" } });
      continue;
    }
    const direct = latest(series.get(`${currency}/${reporting}`), day);
    const inverse = latest(series.get(`${reporting}/${currency}`), day);
    const eurC = currency === "EUR" ? undefined : latest(series.get(`EUR/${currency}`), day);
    const eurR = reporting === "EUR" ? undefined : latest(series.get(`EUR/${reporting}`), day);
    const candidates: { via: TaxFxUse["via"]; rateDay: string; rate: Decimal }[] = [];
    if (direct) candidates.push({ via: "direct", rateDay: direct.day, rate: new Money(direct.rate) });
    if (inverse) candidates.push({ via: "inverse", rateDay: inverse.day, rate: new Money(1).dividedBy(inverse.rate) });
    // Through EUR: 1 C = (EUR→R) / (EUR→C) R; either side may be EUR itself.
    const cross = currency === "EUR" ? (eurR ? { day: eurR.day, rate: new Money(eurR.rate) } : undefined) : reporting === "EUR" ? (eurC ? { day: eurC.day, rate: new Money(1).dividedBy(eurC.rate) } : undefined) : eurC && eurR ? { day: eurC.day < eurR.day ? eurC.day : eurR.day, rate: new Money(eurR.rate).dividedBy(eurC.rate) } : undefined;
    if (cross) candidates.push({ via: "EUR", rateDay: cross.day, rate: cross.rate });
    const best = candidates.reduce<(typeof candidates)[number] | undefined>((b, c) => (!b || c.rateDay > b.rateDay ? c : b), undefined);
    if (!best) {
      result.set(key, undefined);
      continue;
    }
    const rate = best.rate.toSignificantDigits(12).toString();
    result.set(key, { factor: best.rate.times(scale(currency)).toSignificantDigits(24).toString(), use: { currency, day, rateDay: best.rateDay, rate, stale: best.rateDay < day, via: best.via } });
  }
  return result;
}
