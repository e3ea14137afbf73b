import { z } from "zod";
import { countryCode } from "./common.js";

/** A percentage as written in data files and mk.yaml: "7", "25.5", "9.975" (at most 5 decimals, below 100). */
export const taxRatePercent = z
  .union([z.number(), z.string()])
  .transform((value) => String(value).trim())
  .pipe(z.string().regex(/^(0|[1-9]\d?)(\.\d{1,5})?$/, { error: "must be a percentage from 0 to 99.99999, e.g. 7 or 9.975" }));

const isoDay = z.iso.date({ error: "must be a date, YYYY-MM-DD" });

/** A Canadian province (ON, QC …) or another first-level subdivision: the part after the country in ISO 3166-2. */
export const regionCode = z.string().regex(/^[A-Z0-9]{1,3}$/, { error: "must be the subdivision part of an ISO 3166-2 code, e.g. ON for CA-ON" });

export const TAX_TYPES = ["VAT", "GST", "HST", "QST", "PST", "RST", "CT", "SST", "NONE"] as const;

/** One row of runtime/tax/rates.csv: a rate and the dates it was in force, with its source. */
export const taxRateRow = z.strictObject({
  country: countryCode,
  region: z.union([z.literal(""), regionCode]),
  tax_type: z.enum(TAX_TYPES),
  rate: taxRatePercent,
  category: z.enum(["standard", "reduced"]),
  effective_from: isoDay,
  effective_to: z.union([z.literal(""), isoDay]),
  reviewed: z.enum(["yes", "no"]),
  source: z.url({ protocol: /^https?$/, error: "must be the URL of the source" }),
  note: z.string(),
});
export type TaxRateRow = z.infer<typeof taxRateRow>;

/**
 * `tax.rates` in mk.yaml: a rate the business applies instead of (or beside)
 * the shipped data, e.g. a reduced rate it qualifies for. It wins over the
 * shipped rows of the same country (and region) for its dates.
 */
export const taxRateOverride = z.strictObject({
  country: countryCode,
  region: regionCode.optional(),
  type: z.enum(TAX_TYPES).default("VAT"),
  rate: taxRatePercent,
  from: isoDay,
  to: isoDay.optional(),
  reason: z.string().min(1, { error: "say why this rate applies (it is printed in reports)" }),
});
export type TaxRateOverride = z.infer<typeof taxRateOverride>;

/** A rate in force, as the runtime answers it. */
export interface TaxRateInForce {
  country: string;
  region: string | null;
  type: string;
  /** Percent as a decimal string. */
  rate: string;
  category: string;
  from: string;
  to: string | null;
  source: string;
  /** "data" (shipped, reviewed or not) or "mk.yaml" (an override). */
  origin: "data" | "mk.yaml";
  reviewed: boolean;
  note: string;
}

/** One daily exchange rate: 1 base = rate quote, on a day. */
export const fxRate = z.strictObject({
  day: isoDay,
  base: z.string().regex(/^[A-Z]{3}$/, { error: "must be an ISO 4217 currency code" }),
  quote: z.string().regex(/^[A-Z]{3}$/, { error: "must be an ISO 4217 currency code" }),
  rate: z.string().regex(/^\d{1,10}(\.\d{1,10})?$/, { error: "must be a positive decimal number, e.g. 1.0512" }).refine((r) => Number(r) > 0, { error: "must be above 0" }),
});
export type FxRate = z.infer<typeof fxRate>;

export const fxImportRequest = z.strictObject({
  source: z.string().min(1).max(200),
  rates: z.array(fxRate).min(1).max(20_000),
});
export type FxImportRequest = z.infer<typeof fxImportRequest>;

export interface FxImportResponse {
  imported: number;
  days: number;
  from: string;
  to: string;
}

/** A chain's last entry: its position and hash, and the key id it was hashed with (null: plain SHA-256). */
export interface LedgerHead {
  country: string;
  seq: number;
  hash: string;
  keyId: string | null;
}

/** A head recorded earlier that the chain no longer holds: cut off its end (or the whole chain), or a different entry at that position. */
export interface LostLedgerHead {
  country: string;
  seq: number;
  hash: string;
  /** The chain's head now; 0 when the country has no chain. */
  headSeq: number;
  reason: "truncated" | "replaced";
}

/** The tax ledger's hash chains walked (GET /v1/tax/verify). */
export interface LedgerVerification {
  ok: boolean;
  /** Entries checked (all of them when ok). */
  checked: number;
  countries: string[];
  /** The head of each chain walked to its end without a problem, by country. */
  heads: LedgerHead[];
  /** The first entry whose hash, link, position or key is wrong, in chain order. */
  firstBad?: { id: number; country: string; seq: number; eventKey: string; reason: string };
  /** With expected heads (GET /v1/tax/verify?expect=): those the chains no longer hold. */
  lostHeads?: LostLedgerHead[];
}

/** One expected head: `TH:202:<64 hex>`. */
export const LEDGER_HEAD_PATTERN = /^([A-Z]{2}):([1-9][0-9]{0,14}):([0-9a-f]{64})$/;

/**
 * Heads recorded earlier, for `mk tax verify --expect-head FILE`: what
 * `mk tax verify --json` printed (only `heads` is read; `keyId` optional).
 */
export const ledgerHeadsFile = z.object({
  heads: z.array(
    z.object({
      country: z.string().regex(/^[A-Z]{2}$/, { error: "must be a two-letter country code, as mk tax verify --json prints it" }),
      seq: z.number().int().min(1, { error: "must be an entry number, 1 or more" }),
      hash: z.string().regex(/^[0-9a-f]{64}$/, { error: "must be 64 lowercase hex digits" }),
    }),
    { error: "must be the list of heads mk tax verify --json prints" },
  ).refine((heads) => new Set(heads.map((h) => h.country)).size === heads.length, { error: "name each country once" }),
});
export type LedgerHeadsFile = z.infer<typeof ledgerHeadsFile>;

/** Sums of ledger lines; `*Minor` in the reporting currency unless the line says otherwise. */
export interface TaxTotals {
  sales: number;
  refunds: number;
  netMinor: number;
  taxMinor: number;
  grossMinor: number;
}

/** One transaction currency: its own amounts, and converted. */
export interface TaxCurrencyLine extends TaxTotals {
  currency: string;
  /** In the transaction currency. */
  originalNetMinor: number;
  originalTaxMinor: number;
  originalGrossMinor: number;
  /** Lines without an exchange rate on or before their date (left out of the converted sums). */
  unconverted: number;
}

export interface TaxFxUse {
  currency: string;
  /** The transaction date. */
  day: string;
  /** The date of the rate used: the same day, or the latest earlier one (stale). */
  rateDay: string;
  /** 1 unit of currency = rate units of the reporting currency. */
  rate: string;
  stale: boolean;
  via: "direct" | "inverse" | "EUR";
}

export interface TaxReport {
  country: string;
  period: { label: string; from: string; to: string };
  reportingCurrency: string;
  pricesIncludeTax: boolean | "mixed";
  generatedAt: string;
  totals: TaxTotals;
  byCurrency: TaxCurrencyLine[];
  byRate: (TaxTotals & { rate: string; taxType: string })[];
  byMonth: (TaxTotals & { month: string })[];
  byCampaign: (TaxTotals & { campaign: string | null })[];
  /** Tax rates in force in the country at any time in the period (data and mk.yaml). */
  ratesInForce: TaxRateInForce[];
  fx: TaxFxUse[];
  /** (currency, day) pairs with no rate on or before the day. */
  fxMissing: { currency: string; day: string }[];
  threshold: null | {
    amountMinor: number;
    currency: string;
    note: string;
    source: string;
    /** Net sales less refunds from 1 January of the period's last year to its end, in the reporting currency. */
    yearToDateMinor: number;
    crossed: boolean;
    crossedOn: string | null;
  };
  /** A note when the country has no rate data: its sales were recorded at 0 %. */
  note: string | null;
}
