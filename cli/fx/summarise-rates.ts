import type { FxRate } from "../../schemas/tax.js";

export interface FxRatesSummary {
  rates: number;
  /** "EUR/USD" …, sorted. */
  pairs: string[];
  days: number;
  /** First and last day; null when there are no rates. */
  from: string | null;
  to: string | null;
}

/** What `mk fx import` reports about the rates it imported. */
export function summariseFxRates(rates: readonly FxRate[]): FxRatesSummary {
  const days = [...new Set(rates.map((r) => r.day))].sort();
  const pairs = [...new Set(rates.map((r) => `${r.base}/${r.quote}`))].sort();
  return { rates: rates.length, pairs, days: days.length, from: days[0] ?? null, to: days.at(-1) ?? null };
}
