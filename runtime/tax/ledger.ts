import { createHash, createHmac } from "node:crypto";
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
  /** Countries sorted by the caller: unnest hands them over in that order, so every batch locks in the same order. */
  lock: "select pg_advisory_xact_lock(hashtext('mk_tax_ledger:' || country)) from unnest($1::text[]) as c (country)",
  /** A statement of its own after the locks: its snapshot then sees every entry committed before them. */
  last: `
    select c.country, l.seq, l.hash, l.key_id from unnest($1::text[]) as c (country)
    cross join lateral (select seq, hash, key_id from tax_ledger t where t.country = c.country order by seq desc limit 1) l`,
  // tax_daily follows in the database (mk_add_to_tax_daily, a trigger on this insert).
  insert: `
    insert into tax_ledger (country, seq, region, kind, event_key, occurred_at, tax_date, currency, net_minor, tax_minor, gross_minor, rate, tax_type,
      prices_include_tax, campaign, variant, prev_hash, hash, key_id)
    select * from unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::date[], $8::text[], $9::bigint[], $10::bigint[],
      $11::bigint[], $12::numeric[], $13::text[], $14::boolean[], $15::text[], $16::text[], $17::text[], $18::text[], $19::text[])`,
} as const;

/** MK_LEDGER_KEY, and the id entries hashed with it record (key_id). */
export interface LedgerKey {
  secret: string;
  /** The first 16 hex digits of HMAC-SHA-256(secret, "mk-ledger-key-id"): names the key without revealing it. */
  id: string;
}

export function ledgerKey(secret: string): LedgerKey {
  return { secret, id: createHmac("sha256", secret).update("mk-ledger-key-id").digest("hex").slice(0, 16) };
}

/** A chain was keyed with a key this runtime does not have: appending would break it (verify would flag the switch). */
export class LedgerKeyMismatch extends Error {
  constructor(country: string, chainKeyId: string, key: LedgerKey | undefined) {
    super(
      `the tax ledger's ${country} chain is keyed with key id ${chainKeyId}, and the runtime has ${key ? `MK_LEDGER_KEY with key id ${key.id}` : "no MK_LEDGER_KEY"}: ` +
        "set MK_LEDGER_KEY to the key the chain was written with; purchases and refunds are refused until then",
    );
    this.name = "LedgerKeyMismatch";
  }
}

/**
 * The hash of an entry over its fields in a fixed order (JSON, rate with five
 * decimals, time in ISO milliseconds) and the previous entry's hash:
 * HMAC-SHA-256 with the ledger key, or plain SHA-256 for an entry written
 * without one. Verification recomputes it from the stored row.
 */
export function entryHash(entry: LedgerEntry, seq: number, prevHash: string, key?: LedgerKey): string {
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
  return (key ? createHmac("sha256", key.secret) : createHash("sha256")).update(JSON.stringify(fields)).digest("hex");
}

/**
 * Append entries to their countries' chains, inside the caller's transaction
 * (the one that stores the events), hashed with `key` when the runtime has
 * one. Each country's chain is locked for the rest of the transaction,
 * countries in a fixed order, so concurrent batches extend a chain one after
 * the other and never deadlock. A chain keyed with another key (or with one
 * while the runtime has none) is a LedgerKeyMismatch: it goes back to
 * unkeyed or to another key never.
 */
export async function appendToLedger(client: pg.PoolClient, entries: readonly LedgerEntry[], key?: LedgerKey): Promise<void> {
  const byCountry = groupBy(entries, (e) => e.country);
  const countries = [...byCountry.keys()].sort();
  if (countries.length === 0) return;
  const rows: { entry: LedgerEntry; seq: number; prev: string; hash: string }[] = [];
  await client.query(SQL.lock, [countries]);
  const heads = new Map(
    (await client.query<{ country: string; seq: string; hash: string; key_id: string | null }>(SQL.last, [countries])).rows.map((r) => [r.country, r]),
  );
  for (const country of countries) {
    const last = heads.get(country);
    if (last?.key_id && last.key_id !== key?.id) throw new LedgerKeyMismatch(country, last.key_id, key);
    let seq = Number(last?.seq ?? 0);
    let prev = last?.hash ?? GENESIS_HASH;
    for (const entry of byCountry.get(country)!) {
      seq += 1;
      const hash = entryHash(entry, seq, prev, key);
      rows.push({ entry, seq, prev, hash });
      prev = hash;
    }
  }
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
    rows.map(() => key?.id ?? null),
  ]);
}
