import { createHash } from "node:crypto";
import type pg from "pg";
import { groupBy } from "../group-by.js";
import { Money } from "./compute.js";

/** What one purchase or refund puts in the ledger. */
export interface LedgerEntry {
  country: string;
  region: string | null;
  kind: "sale" | "refund";
  eventKey: string;
  occurredAt: Date;
  /** YYYY-MM-DD as the event wrote it. */
  taxDate: string;
  currency: string;
  netMinor: number;
  taxMinor: number;
  grossMinor: number;
  /** Percent, decimal string. */
  rate: string;
  taxType: string;
  pricesIncludeTax: boolean;
  campaign: string | null;
  variant: string | null;
}

/** The first entry of each country's chain points at this. */
export const GENESIS_HASH = "0".repeat(64);

const SQL = {
  lock: "select pg_advisory_xact_lock(hashtext('mk_tax_ledger:' || $1))",
  last: "select seq, hash from tax_ledger where country = $1 order by seq desc limit 1",
  insert: `
    insert into tax_ledger (country, seq, region, kind, event_key, occurred_at, tax_date, currency, net_minor, tax_minor, gross_minor, rate, tax_type,
      prices_include_tax, campaign, variant, prev_hash, hash)
    select * from unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::date[], $8::text[], $9::bigint[], $10::bigint[],
      $11::bigint[], $12::numeric[], $13::text[], $14::boolean[], $15::text[], $16::text[], $17::text[], $18::text[])`,
  daily: `
    insert into tax_daily as d (country, tax_date, currency, lines, net_minor, tax_minor, gross_minor)
    select country, tax_date, currency, count(*), sum(net), sum(tax), sum(gross)
    from unnest($1::text[], $2::date[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[]) as e (country, tax_date, currency, net, tax, gross)
    group by 1, 2, 3 order by 1, 2, 3
    on conflict (country, tax_date, currency) do update set lines = d.lines + excluded.lines, net_minor = d.net_minor + excluded.net_minor,
      tax_minor = d.tax_minor + excluded.tax_minor, gross_minor = d.gross_minor + excluded.gross_minor`,
} as const;

/**
 * The hash of an entry: SHA-256 over its fields in a fixed order (JSON, rate
 * with five decimals, time in ISO milliseconds) and the previous entry's hash.
 * Verification recomputes it from the stored row.
 */
export function entryHash(entry: LedgerEntry, seq: number, prevHash: string): string {
  const fields = [
    entry.country,
    seq,
    entry.region,
    entry.kind,
    entry.eventKey,
    entry.occurredAt.toISOString(),
    entry.taxDate,
    entry.currency,
    entry.netMinor,
    entry.taxMinor,
    entry.grossMinor,
    new Money(entry.rate).toFixed(5),
    entry.taxType,
    entry.pricesIncludeTax,
    entry.campaign,
    entry.variant,
    prevHash,
  ];
  return createHash("sha256").update(JSON.stringify(fields)).digest("hex");
}

/**
 * Append entries to their countries' chains, inside the caller's transaction
 * (the one that stores the events). Each country's chain is locked for the
 * rest of the transaction, countries in a fixed order, so concurrent batches
 * extend a chain one after the other and never deadlock.
 */
export async function appendToLedger(client: pg.PoolClient, entries: readonly LedgerEntry[]): Promise<void> {
  const byCountry = groupBy(entries, (e) => e.country);
  const rows: { entry: LedgerEntry; seq: number; prev: string; hash: string }[] = [];
  for (const country of [...byCountry.keys()].sort()) {
    await client.query(SQL.lock, [country]);
    const last = (await client.query<{ seq: string; hash: string }>(SQL.last, [country])).rows[0];
    let seq = Number(last?.seq ?? 0);
    let prev = last?.hash ?? GENESIS_HASH;
    for (const entry of byCountry.get(country)!) {
      seq += 1;
      const hash = entryHash(entry, seq, prev);
      rows.push({ entry, seq, prev, hash });
      prev = hash;
    }
  }
  if (rows.length === 0) return;
  const e = rows.map((r) => r.entry);
  await client.query(SQL.insert, [
    e.map((x) => x.country),
    rows.map((r) => r.seq),
    e.map((x) => x.region),
    e.map((x) => x.kind),
    e.map((x) => x.eventKey),
    e.map((x) => x.occurredAt.toISOString()),
    e.map((x) => x.taxDate),
    e.map((x) => x.currency),
    e.map((x) => x.netMinor),
    e.map((x) => x.taxMinor),
    e.map((x) => x.grossMinor),
    e.map((x) => x.rate),
    e.map((x) => x.taxType),
    e.map((x) => x.pricesIncludeTax),
    e.map((x) => x.campaign),
    e.map((x) => x.variant),
    rows.map((r) => r.prev),
    rows.map((r) => r.hash),
  ]);
  await client.query(SQL.daily, [e.map((x) => x.country), e.map((x) => x.taxDate), e.map((x) => x.currency), e.map((x) => x.netMinor), e.map((x) => x.taxMinor), e.map((x) => x.grossMinor)]);
}
