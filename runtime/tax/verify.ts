import type pg from "pg";
import type { LedgerVerification } from "../../schemas/tax.js";
import { entryHash, GENESIS_HASH, type LedgerEntry } from "./ledger.js";


interface LedgerRow {
  id: string;
  country: string;
  seq: string;
  region: string | null;
  kind: "sale" | "refund";
  event_key: string;
  occurred_at: Date;
  tax_date: string;
  currency: string;
  net_minor: string;
  tax_minor: string;
  gross_minor: string;
  rate: string;
  tax_type: string;
  prices_include_tax: boolean;
  campaign: string | null;
  variant: string | null;
  prev_hash: string;
  hash: string;
}

const PAGE = 10_000;
const SQL = {
  countries: "select distinct country from tax_ledger where $1::text is null or country = $1 order by country",
  page: `
    select id, country, seq, region, kind, event_key, occurred_at, tax_date::text as tax_date, currency, net_minor, tax_minor, gross_minor,
      rate::text as rate, tax_type, prices_include_tax, campaign, variant, prev_hash, hash
    from tax_ledger where country = $1 and seq > $2 order by seq limit $3`,
} as const;

function entryOf(row: LedgerRow): LedgerEntry {
  return {
    country: row.country,
    region: row.region,
    kind: row.kind,
    eventKey: row.event_key,
    occurredAt: row.occurred_at,
    taxDate: row.tax_date,
    currency: row.currency,
    netMinor: Number(row.net_minor),
    taxMinor: Number(row.tax_minor),
    grossMinor: Number(row.gross_minor),
    rate: row.rate,
    taxType: row.tax_type,
    pricesIncludeTax: row.prices_include_tax,
    campaign: row.campaign,
    variant: row.variant,
  };
}

/**
 * Walk each country's chain from its first entry: every entry must sit at the
 * next position, point at the previous entry's hash, and hash to what it
 * stores. The first that does not is named: an edit, a deletion or an
 * insertion made behind the database's back (triggers disabled).
 */
export async function verifyLedger(pool: pg.Pool, country?: string): Promise<LedgerVerification> {
  const countries = (await pool.query<{ country: string }>(SQL.countries, [country ?? null])).rows.map((r) => r.country);
  let checked = 0;
  for (const c of countries) {
    let prev = GENESIS_HASH;
    let expected = 1;
    for (;;) {
      const rows = (await pool.query<LedgerRow>(SQL.page, [c, expected - 1, PAGE])).rows;
      for (const row of rows) {
        const seq = Number(row.seq);
        const bad = (reason: string): LedgerVerification => ({ ok: false, checked, countries, firstBad: { id: Number(row.id), country: c, seq, eventKey: row.event_key, reason } });
        if (seq !== expected) return bad(`entry ${expected} of ${c} is missing (the next one is ${seq})`);
        if (row.prev_hash !== prev) return bad("its prev_hash is not the hash of the entry before it");
        if (entryHash(entryOf(row), seq, prev) !== row.hash) return bad("its fields do not match its hash (the entry was changed)");
        prev = row.hash;
        expected += 1;
        checked += 1;
      }
      if (rows.length < PAGE) break;
    }
  }
  return { ok: true, checked, countries };
}
