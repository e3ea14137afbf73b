import type { IngestEvent } from "../../schemas/event.js";
import { taxLine } from "./compute.js";
import type { TaxContext } from "./context.js";
import type { LedgerEntry } from "./ledger.js";

/** Where a purchase or refund had no country, or a country the rate data does not cover: kept in the ledger at 0 %, named so. */
export const UNKNOWN_COUNTRY = "ZZ";

export interface TaxTag {
  rate: string;
  type: string;
}

export interface Taxable {
  event: IngestEvent;
  country: string | null;
  campaign: string | null;
  variant: string | null;
}

/**
 * The tax of each purchase and refund in a batch: the rate in force in its
 * country (and region) on the date it wrote (occurredAt in its own offset),
 * and its ledger entry. Other events get no tag. A sale whose country is
 * unknown, or has no rate data, is still recorded: at 0 % as UNKNOWN or UNLISTED.
 */
export function tagTaxes(items: readonly Taxable[], context: TaxContext): { tags: (TaxTag | null)[]; entries: LedgerEntry[] } {
  const entries: LedgerEntry[] = [];
  const tags = items.map(({ event, country, campaign, variant }): TaxTag | null => {
    if ((event.type !== "purchase" && event.type !== "refund") || !event.amount) return null;
    const taxDate = event.occurredAt.slice(0, 10);
    const applied = country ? context.rates.at(country, event.region, taxDate) : undefined;
    const tag = applied ? { rate: applied.rate, type: applied.type } : { rate: "0", type: country ? "UNLISTED" : "UNKNOWN" };
    const signed = event.type === "refund" ? -event.amount.value : event.amount.value;
    const line = taxLine(signed, tag.rate, context.pricesIncludeTax);
    entries.push({
      country: country ?? UNKNOWN_COUNTRY,
      region: event.region ?? null,
      kind: event.type === "refund" ? "refund" : "sale",
      eventKey: event.idempotencyKey,
      occurredAt: new Date(event.occurredAt),
      taxDate,
      currency: event.amount.currency,
      ...line,
      rate: tag.rate,
      taxType: tag.type,
      pricesIncludeTax: context.pricesIncludeTax,
      campaign,
      variant,
    });
    return tag;
  });
  return { tags, entries };
}
