import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "csv-parse/sync";
import type pg from "pg";
import { isCountryCode } from "../../schemas/common.js";
import type { TaxReport, TaxTotals } from "../../schemas/tax.js";
import { ApiError } from "../http/errors.js";
import { PACKAGE_ROOT } from "../package-root.js";
import { taxContext } from "./context.js";
import { Money } from "./compute.js";
import { fxFactors, type FxFactor } from "./fx.js";
import type { Period } from "./period.js";

interface CountryInfo {
  country: string;
  reporting_currency: string;
  threshold_minor: string;
  threshold_note: string;
  threshold_source: string;
}

let countries: Map<string, CountryInfo> | undefined;
/** runtime/tax/countries.csv: each country's reporting currency and registration threshold, where one applies. */
function countryInfo(country: string): CountryInfo | undefined {
  countries ??= new Map(
    (parse(readFileSync(path.join(PACKAGE_ROOT, "runtime", "tax", "countries.csv"), "utf8"), { columns: true }) as CountryInfo[]).map((c) => [c.country, c]),
  );
  return countries.get(country);
}

const SQL = {
  pairs: "select currency, tax_date::text as day from tax_daily where country = $1 and tax_date between $2 and $3",
  /**
   * Each line converted on its own (rounded half away from zero), summed per
   * finest slice; the dimensions are summed from these slices (integers, exact).
   */
  slices: `
    with f as (select * from unnest($4::text[], $5::date[], $6::numeric[]) as f (currency, day, factor))
    select t.currency, t.rate::text as rate, t.tax_type, to_char(t.tax_date, 'YYYY-MM') as month, t.campaign, t.kind, t.prices_include_tax,
      count(*)::int as lines, sum(t.net_minor)::text as net, sum(t.tax_minor)::text as tax, sum(t.gross_minor)::text as gross,
      coalesce(sum(round(t.net_minor * f.factor)::bigint), 0)::text as net_r, coalesce(sum(round(t.tax_minor * f.factor)::bigint), 0)::text as tax_r,
      count(*) filter (where f.factor is null)::int as unconverted
    from tax_ledger t left join f on f.currency = t.currency and f.day = t.tax_date
    where t.country = $1 and t.tax_date between $2 and $3
    group by 1, 2, 3, 4, 5, 6, 7`,
  /** Net sales less refunds per day and currency, for the registration threshold. */
  daily: "select tax_date::text as day, currency, net_minor::text as net from tax_daily where country = $1 and tax_date between $2 and $3 order by tax_date, currency",
} as const;

interface SliceRow {
  currency: string;
  rate: string;
  tax_type: string;
  month: string;
  campaign: string | null;
  kind: "sale" | "refund";
  prices_include_tax: boolean;
  lines: number;
  net: string;
  tax: string;
  gross: string;
  net_r: string;
  tax_r: string;
  unconverted: number;
}

/** Slices summed by a key: counts and converted amounts, plus the originals for currency slices. */
function sumBy<K>(slices: readonly SliceRow[], key: (s: SliceRow) => K): Map<K, TaxTotals & { net: number; tax: number; gross: number; unconverted: number }> {
  const out = new Map<K, TaxTotals & { net: number; tax: number; gross: number; unconverted: number }>();
  for (const s of slices) {
    const k = key(s);
    const t = out.get(k) ?? { sales: 0, refunds: 0, netMinor: 0, taxMinor: 0, grossMinor: 0, net: 0, tax: 0, gross: 0, unconverted: 0 };
    if (s.kind === "sale") t.sales += s.lines;
    else t.refunds += s.lines;
    t.netMinor += Number(s.net_r);
    t.taxMinor += Number(s.tax_r);
    t.grossMinor = t.netMinor + t.taxMinor;
    t.net += Number(s.net);
    t.tax += Number(s.tax);
    t.gross += Number(s.gross);
    t.unconverted += s.unconverted;
    out.set(k, t);
  }
  return out;
}

function totals(t: TaxTotals | undefined): TaxTotals {
  return { sales: t?.sales ?? 0, refunds: t?.refunds ?? 0, netMinor: t?.netMinor ?? 0, taxMinor: t?.taxMinor ?? 0, grossMinor: t?.grossMinor ?? 0 };
}

/** The period cut at month ends: [from, to] pairs, inclusive. */
function monthsOf(period: Period): [string, string][] {
  const parts: [string, string][] = [];
  let from = period.from;
  while (from <= period.to) {
    const [y, m] = from.split("-").map(Number) as [number, number];
    const monthEnd = new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
    const to = monthEnd < period.to ? monthEnd : period.to;
    parts.push([from, to]);
    from = new Date(Date.UTC(y, m, 1)).toISOString().slice(0, 10);
  }
  return parts;
}

async function factorsFor(pool: pg.Pool, country: string, from: string, to: string, reporting: string): Promise<Map<string, FxFactor | undefined>> {
  const pairs = (await pool.query<{ currency: string; day: string }>(SQL.pairs, [country, from, to])).rows;
  return fxFactors(pool, pairs, reporting);
}

function factorArrays(factors: Map<string, FxFactor | undefined>): [string[], string[], string[]] {
  const known = [...factors.values()].filter((f): f is FxFactor => f !== undefined);
  return [known.map((f) => f.use.currency), known.map((f) => f.use.day), known.map((f) => f.factor)];
}

/**
 * What a country's tax return needs for a period, from the ledger: totals in
 * the reporting currency (each line converted at the rate of its date, or the
 * latest earlier one, flagged) and per transaction currency, per tax rate,
 * month and campaign, with the exchange rates and tax rates used and the
 * registration threshold where one applies. No sales: an empty report.
 */
export async function taxReport(pool: pg.Pool, country: string, period: Period, now = new Date()): Promise<TaxReport> {
  if (!isCountryCode(country)) throw new ApiError(400, "invalid_country", `"${country}" is not an ISO 3166-1 alpha-2 country code (for example TH, DE, US)`, [{ path: "country", message: "ISO 3166-1 alpha-2" }]);
  const info = countryInfo(country);
  const context = await taxContext(pool);
  const reporting = info?.reporting_currency ?? "USD";

  // 1. The period's lines, converted and summed by slice, then by dimension.
  const factors = await factorsFor(pool, country, period.from, period.to, reporting);
  // Month by month, concurrently: a quarter's three scans run side by side on the database's cores.
  const arrays = factorArrays(factors);
  const slices = (await Promise.all(monthsOf(period).map(([from, to]) => pool.query<SliceRow>(SQL.slices, [country, from, to, ...arrays])))).flatMap((r) => r.rows);
  const total = sumBy(slices, () => "all").get("all");
  const inclusive = new Set(slices.map((x) => x.prices_include_tax));

  // 2. The registration threshold: net sales less refunds from 1 January of the period's last year, each day's sum per currency converted.
  let threshold: TaxReport["threshold"] = null;
  if (info?.threshold_minor) {
    const yearStart = `${period.to.slice(0, 4)}-01-01`;
    const days = (await pool.query<{ day: string; currency: string; net: string }>(SQL.daily, [country, yearStart, period.to])).rows;
    const yearFactors = await fxFactors(pool, days, reporting);
    const amount = Number(info.threshold_minor);
    let running = 0;
    let crossedOn: string | null = null;
    for (const d of days) {
      const factor = yearFactors.get(`${d.currency}/${d.day}`)?.factor;
      if (factor === undefined) continue;
      running += new Money(d.net).times(factor).toDecimalPlaces(0).toNumber();
      if (crossedOn === null && running > amount) crossedOn = d.day;
    }
    threshold = { amountMinor: amount, currency: reporting, note: info.threshold_note, source: info.threshold_source, yearToDateMinor: running, crossed: running > amount, crossedOn: running > amount ? crossedOn : null };
  }

  const used = [...factors.values()].filter((f): f is FxFactor => f !== undefined && f.use.currency !== reporting).map((f) => f.use);
  const inPeriod = context.rates.history(country).filter((r) => r.from <= period.to && (r.to === null || r.to >= period.from));
  return {
    country,
    period: { label: period.label, from: period.from, to: period.to },
    reportingCurrency: reporting,
    pricesIncludeTax: inclusive.size === 0 ? context.pricesIncludeTax : inclusive.size === 2 ? "mixed" : inclusive.has(true),
    generatedAt: now.toISOString(),
    totals: totals(total),
    byCurrency: [...sumBy(slices, (x) => x.currency)]
      .map(([currency, t]) => ({ currency, ...totals(t), originalNetMinor: t.net, originalTaxMinor: t.tax, originalGrossMinor: t.gross, unconverted: t.unconverted }))
      .sort((a, b) => a.currency.localeCompare(b.currency)),
    byRate: [...sumBy(slices, (x) => `${x.rate}|${x.tax_type}`)]
      .map(([key, t]) => ({ rate: key.split("|")[0]!.replace(/\.?0+$/, ""), taxType: key.split("|")[1]!, ...totals(t) }))
      .sort((a, b) => Number(a.rate) - Number(b.rate) || a.taxType.localeCompare(b.taxType)),
    byMonth: [...sumBy(slices, (x) => x.month)].map(([month, t]) => ({ month, ...totals(t) })).sort((a, b) => a.month.localeCompare(b.month)),
    byCampaign: [...sumBy(slices, (x) => x.campaign)]
      .map(([campaign, t]) => ({ campaign, ...totals(t) }))
      .sort((a, b) => (a.campaign ?? "\uffff").localeCompare(b.campaign ?? "\uffff")),
    ratesInForce: inPeriod,
    fx: used.sort((a, b) => a.currency.localeCompare(b.currency) || a.day.localeCompare(b.day)),
    fxMissing: [...factors.entries()].filter(([, f]) => f === undefined).map(([key]) => ({ currency: key.split("/")[0]!, day: key.split("/")[1]! })).sort((a, b) => a.currency.localeCompare(b.currency) || a.day.localeCompare(b.day)),
    threshold,
    note: context.rates.history(country).length === 0 ? `mk has no tax-rate data for ${country}: its sales are recorded at 0 % (UNLISTED). Add its rate in mk.yaml tax.rates.` : null,
  };
}
