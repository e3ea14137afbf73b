import type pg from "pg";
import type { LedgerHead, LedgerVerification, LostLedgerHead } from "../../schemas/tax.js";
import { entryHash, GENESIS_HASH, type LedgerEntry, type LedgerKey } from "./ledger.js";

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
  key_id: string | null;
}

const PAGE = 10_000;
const SQL = {
  countries: "select distinct country from tax_ledger where $1::text is null or country = $1 order by country",
  page: `
    select id, country, seq, region, kind, event_key, occurred_at, tax_date::text as tax_date, currency, net_minor, tax_minor, gross_minor,
      rate::text as rate, tax_type, prices_include_tax, campaign, variant, prev_hash, hash, key_id
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

/** What an entry's hash must be: its scheme (keyed with which key, or plain) allowed where it stands; else why not. */
function expectedHash(row: LedgerRow, seq: number, prev: string, key: LedgerKey | undefined, keyedBefore: boolean): { hash: string } | { problem: string } {
  if (row.key_id === null) {
    return keyedBefore
      ? { problem: "it is unkeyed after keyed entries (a chain never goes back to plain SHA-256: it was rewritten without the key)" }
      : { hash: entryHash(entryOf(row), seq, prev) };
  }
  if (!key) return { problem: `it is keyed (key id ${row.key_id}) and the runtime has no MK_LEDGER_KEY to check it with` };
  if (row.key_id !== key.id) return { problem: `its key id ${row.key_id} is not MK_LEDGER_KEY's (${key.id}): an unknown key` };
  return { hash: entryHash(entryOf(row), seq, prev, key) };
}

/**
 * Walk each country's chain from its first entry: every entry must sit at the
 * next position, point at the previous entry's hash, carry a scheme allowed
 * where it stands (plain SHA-256 until the chain's first keyed entry, then
 * MK_LEDGER_KEY's HMAC), and hash to what it stores. The first that does not
 * is named: an edit, a deletion or an insertion made behind the database's
 * back (triggers disabled), or a chain recomputed without the key. Each
 * chain that holds gives its head. `expected` heads (recorded earlier) the
 * chains no longer hold are named too: entries cut from a chain's end leave
 * the rest of it valid, and only a head recorded before shows them gone.
 */
export async function verifyLedger(
  db: pg.Pool | pg.ClientBase,
  options: { key?: LedgerKey | undefined; country?: string | undefined; expected?: readonly Omit<LedgerHead, "keyId">[] | undefined } = {},
): Promise<LedgerVerification> {
  const countries = (await db.query<{ country: string }>(SQL.countries, [options.country ?? null])).rows.map((r) => r.country);
  const expected = new Map((options.expected ?? []).filter((h) => !options.country || h.country === options.country).map((h) => [h.country, h]));
  const heads: LedgerHead[] = [];
  const lostHeads: LostLedgerHead[] = [];
  const lost = (recorded: Omit<LedgerHead, "keyId">, headSeq: number) =>
    lostHeads.push({ country: recorded.country, seq: recorded.seq, hash: recorded.hash, headSeq, reason: recorded.seq > headSeq ? "truncated" : "replaced" });
  let checked = 0;
  for (const c of countries) {
    let prev = GENESIS_HASH;
    let expectedSeq = 1;
    let keyedBefore = false;
    let head: LedgerHead | undefined;
    const recorded = expected.get(c);
    let hashAtRecorded: string | undefined;
    for (;;) {
      const rows = (await db.query<LedgerRow>(SQL.page, [c, expectedSeq - 1, PAGE])).rows;
      for (const row of rows) {
        const seq = Number(row.seq);
        const bad = (reason: string): LedgerVerification => ({ ok: false, checked, countries, heads, firstBad: { id: Number(row.id), country: c, seq, eventKey: row.event_key, reason } });
        if (seq !== expectedSeq) return bad(`entry ${expectedSeq} of ${c} is missing (the next one is ${seq})`);
        if (row.prev_hash !== prev) return bad("its prev_hash is not the hash of the entry before it");
        const hash = expectedHash(row, seq, prev, options.key, keyedBefore);
        if ("problem" in hash) return bad(hash.problem);
        if (hash.hash !== row.hash) return bad("its fields do not match its hash (the entry was changed)");
        if (recorded?.seq === seq) hashAtRecorded = row.hash;
        keyedBefore ||= row.key_id !== null;
        prev = row.hash;
        head = { country: c, seq, hash: row.hash, keyId: row.key_id };
        expectedSeq += 1;
        checked += 1;
      }
      if (rows.length < PAGE) break;
    }
    if (head) heads.push(head);
    if (recorded && hashAtRecorded !== recorded.hash) lost(recorded, head?.seq ?? 0);
  }
  for (const recorded of expected.values()) if (!countries.includes(recorded.country)) lost(recorded, 0);
  return { ok: true, checked, countries, heads, ...(options.expected ? { lostHeads } : {}) };
}
