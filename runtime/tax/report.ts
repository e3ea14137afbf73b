import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "csv-parse/sync";
import type pg from "pg";
import { isCountryCode } from "../../schemas/common.js";
import type { TaxReport, TaxTotals } from "../../schemas/tax.js";
import { ApiError } from "../http/errors.js";
import { PACKAGE_ROOT } from "../package-root.js";
import { taxContext } from "./context.js";
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
  pairs: "select distinct currency, tax_date::text as day from tax_ledger where country = $1 and tax_date between $2 and $3",
  /** Each line converted on its own (rounded half away from zero), then summed, by dimension. */
  sums: `
    with f as (select * from unnest($4::text[], $5::date[], $6::numeric[]) as f (currency, day, factor)),
    lines as (
      select t.kind, t.currency, t.rate, t.tax_type, to_char(t.tax_date, 'YYYY-MM') as month, t.campaign, t.prices_include_tax,
        t.net_minor, t.tax_minor, t.gross_minor, f.factor,
        round(t.net_minor * f.factor) as net_r, round(t.tax_minor * f.factor) as tax_r
      from tax_ledger t left join f on f.currency = t.currency and f.day = t.tax_date
      where t.country = $1 and t.tax_date between $2 and $3
    )
    select case when grouping(currency) = 0 then 'currency' when grouping(rate) = 0 then 'rate' when grouping(month) = 0 then 'month'
        when grouping(campaign) = 0 then 'campaign' else 'total' end as dimension,
      currency, rate::text as rate, tax_type, month, campaign,
      count(*) filter (where kind = 'sale')::int as sales, count(*) filter (where kind = 'refund')::int as refunds,
      coalesce(sum(net_minor), 0)::text as net, coalesce(sum(tax_minor), 0)::text as tax, coalesce(sum(gross_minor), 0)::text as gross,
      coalesce(sum(net_r), 0)::text as net_r, coalesce(sum(tax_r), 0)::text as tax_r,
      count(*) filter (where factor is null)::int as unconverted,
      bool_and(prices_include_tax) as all_inclusive, bool_or(prices_include_tax) as any_inclusive
    from lines
    group by grouping sets ((currency), (rate, tax_type), (month), (campaign), ())`,
  /** Net sales less refunds per day, converted per line: for the registration threshold. */
  daily: `
    with f as (select * from unnest($4::text[], $5::date[], $6::numeric[]) as f (currency, day, factor))
    select t.tax_date::text as day, coalesce(sum(round(t.net_minor * f.factor)), 0)::text as net_r
    from tax_ledger t join f on f.currency = t.currency and f.day = t.tax_date
    where t.country = $1 and t.tax_date between $2 and $3
    group by t.tax_date order by t.tax_date`,
} as const;

interface SumRow {
  dimension: "currency" | "rate" | "month" | "campaign" | "total";
  currency: string | null;
  rate: string | null;
  tax_type: string | null;
  month: string | null;
  campaign: string | null;
  sales: number;
  refunds: number;
  net: string;
  tax: string;
  gross: string;
  net_r: string;
  tax_r: string;
  unconverted: number;
  all_inclusive: boolean | null;
  any_inclusive: boolean | null;
}

function totals(row: SumRow | undefined): TaxTotals {
  const net = Number(row?.net_r ?? 0);
  const tax = Number(row?.tax_r ?? 0);
  return { sales: row?.sales ?? 0, refunds: row?.refunds ?? 0, netMinor: net, taxMinor: tax, grossMinor: net + tax };
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

  // 1. The period's lines, converted and summed by dimension.
  const factors = await factorsFor(pool, country, period.from, period.to, reporting);
  const rows = (await pool.query<SumRow>(SQL.sums, [country, period.from, period.to, ...factorArrays(factors)])).rows;
  const of = (dimension: SumRow["dimension"]) => rows.filter((r) => r.dimension === dimension);
  const total = of("total")[0];

  // 2. The registration threshold: net sales from 1 January of the period's last year.
  let threshold: TaxReport["threshold"] = null;
  if (info?.threshold_minor) {
    const yearStart = `${period.to.slice(0, 4)}-01-01`;
    const yearFactors = await factorsFor(pool, country, yearStart, period.to, reporting);
    const days = (await pool.query<{ day: string; net_r: string }>(SQL.daily, [country, yearStart, period.to, ...factorArrays(yearFactors)])).rows;
    const amount = Number(info.threshold_minor);
    let running = 0;
    let crossedOn: string | null = null;
    for (const d of days) {
      running += Number(d.net_r);
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
    pricesIncludeTax: total?.all_inclusive === null || total === undefined ? context.pricesIncludeTax : total.all_inclusive ? true : total.any_inclusive ? "mixed" : false,
    generatedAt: now.toISOString(),
    totals: totals(total),
    byCurrency: of("currency")
      .map((r) => ({
        currency: r.currency!,
        ...totals(r),
        originalNetMinor: Number(r.net),
        originalTaxMinor: Number(r.tax),
        originalGrossMinor: Number(r.gross),
        unconverted: r.unconverted,
      }))
      .sort((a, b) => a.currency.localeCompare(b.currency)),
    byRate: of("rate")
      .map((r) => ({ rate: r.rate!.replace(/\.?0+$/, ""), taxType: r.tax_type!, ...totals(r) }))
      .sort((a, b) => Number(a.rate) - Number(b.rate) || a.taxType.localeCompare(b.taxType)),
    byMonth: of("month")
      .map((r) => ({ month: r.month!, ...totals(r) }))
      .sort((a, b) => a.month.localeCompare(b.month)),
    byCampaign: of("campaign")
      .map((r) => ({ campaign: r.campaign, ...totals(r) }))
      .sort((a, b) => (a.campaign ?? "\uffff").localeCompare(b.campaign ?? "\uffff")),
    ratesInForce: inPeriod,
    fx: used.sort((a, b) => a.currency.localeCompare(b.currency) || a.day.localeCompare(b.day)),
    fxMissing: [...factors.entries()].filter(([, f]) => f === undefined).map(([key]) => ({ currency: key.split("/")[0]!, day: key.split("/")[1]! })).sort((a, b) => a.currency.localeCompare(b.currency) || a.day.localeCompare(b.day)),
    threshold,
    note: context.rates.history(country).length === 0 ? `mk has no tax-rate data for ${country}: its sales are recorded at 0 % (UNLISTED). Add its rate in mk.yaml tax.rates.` : null,
  };
}
