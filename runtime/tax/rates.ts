import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "csv-parse/sync";
import { groupBy } from "../group-by.js";
import { fieldPath } from "../http/errors.js";
import { Money } from "./compute.js";
import { PACKAGE_ROOT } from "../package-root.js";
import { taxRateRow, type TaxRateInForce, type TaxRateOverride, type TaxRateRow } from "../../schemas/tax.js";

/** The reviewed rate data shipped with the runtime: one row per rate and period, each with its source. */
export const RATES_FILE = path.join(PACKAGE_ROOT, "runtime", "tax", "rates.csv");

/** A rate that applies to a sale: the sum of its components (GST + QST in Quebec; one component almost everywhere). */
export interface AppliedRate {
  country: string;
  region: string | null;
  /** Percent as a decimal string, e.g. "7" or "14.975". */
  rate: string;
  /** "VAT", or "GST+QST" when components add up. */
  type: string;
  components: TaxRateInForce[];
}

/** Read and check the data file; a bad row stops the runtime at start with its line and field. */
export function readRateFile(file = RATES_FILE): TaxRateRow[] {
  const records = parse(readFileSync(file, "utf8"), { columns: true, skip_empty_lines: true }) as Record<string, string>[];
  return records.map((record, index) => {
    const parsed = taxRateRow.safeParse(record);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new Error(`${path.basename(file)}:${index + 2}: ${fieldPath(issue.path) || "(row)"} ${issue.message}`);
    }
    return parsed.data;
  });
}

function fromRow(row: TaxRateRow): TaxRateInForce {
  return {
    country: row.country,
    region: row.region || null,
    type: row.tax_type,
    rate: row.rate,
    category: row.category,
    from: row.effective_from,
    to: row.effective_to || null,
    source: row.source,
    origin: "data",
    reviewed: row.reviewed === "yes",
    note: row.note,
  };
}

function fromOverride(o: TaxRateOverride): TaxRateInForce {
  return { country: o.country, region: o.region ?? null, type: o.type, rate: o.rate, category: "override", from: o.from, to: o.to ?? null, source: "mk.yaml tax.rates", origin: "mk.yaml", reviewed: true, note: o.reason };
}

const inForceOn = (day: string) => (r: TaxRateInForce) => r.from <= day && (r.to === null || day <= r.to);

/**
 * The rates of every country by date. mk.yaml overrides replace the shipped
 * rows of the same country, region scope and tax type for their dates. A
 * regional HST replaces the national GST (it includes it); other regional
 * taxes (QST, PST, RST) come on top of it.
 */
export class TaxRates {
  private readonly byCountry: Map<string, TaxRateInForce[]>;

  constructor(rows: readonly TaxRateRow[], overrides: readonly TaxRateOverride[] = []) {
    this.byCountry = groupBy([...rows.map(fromRow), ...overrides.map(fromOverride)], (r) => r.country);
  }

  countries(): string[] {
    return [...this.byCountry.keys()].sort();
  }

  /** Every row of a country (or all), oldest first, overrides included. */
  history(country?: string): TaxRateInForce[] {
    const rows = country ? (this.byCountry.get(country) ?? []) : [...this.byCountry.values()].flat();
    return [...rows].sort((a, b) => a.country.localeCompare(b.country) || (a.region ?? "").localeCompare(b.region ?? "") || a.from.localeCompare(b.from));
  }

  /** The rows in force on a day (overrides having replaced what they cover). */
  inForce(day: string, country?: string): TaxRateInForce[] {
    const rows = this.history(country).filter(inForceOn(day));
    return rows.filter((r) => r.origin === "mk.yaml" || !rows.some((o) => o.origin === "mk.yaml" && o.country === r.country && o.region === r.region && o.type === r.type));
  }

  /** The rate for a sale in a country (and region) on a day; undefined when the data has none. */
  at(country: string, region: string | null | undefined, day: string): AppliedRate | undefined {
    const rows = this.inForce(day, country);
    const national = rows.filter((r) => r.region === null);
    const regional = region ? rows.filter((r) => r.region === region) : [];
    const components = regional.some((r) => r.type === "HST") ? regional : [...national, ...regional];
    if (components.length === 0) return undefined;
    return {
      country,
      region: region ?? null,
      rate: components.reduce((sum, c) => sum.plus(c.rate), new Money(0)).toString(),
      type: components.map((c) => c.type).join("+"),
      components,
    };
  }
}

let shipped: TaxRateRow[] | undefined;
/** The shipped data, read once per process. */
export function shippedRates(): TaxRateRow[] {
  shipped ??= readRateFile();
  return shipped;
}
