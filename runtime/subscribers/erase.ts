import { createHmac, hkdfSync } from "node:crypto";
import type pg from "pg";
import type { ErasureResult } from "../../schemas/privacy.js";
import { withRetriedTransaction } from "../db/transaction.js";

/** The key erased addresses are hashed with: HKDF-SHA-256 of MK_SIGNING_SECRET, for this one use. */
export type ErasureKey = Buffer & { readonly erasureKey: unique symbol };

export function erasureKey(signingSecret: string): ErasureKey {
  return Buffer.from(hkdfSync("sha256", signingSecret, "mk", "mk erased-address hash v1", 32)) as ErasureKey;
}

/** HMAC-SHA-256 of an address, normalised as import normalises it (trimmed, lower-cased). */
export function addressHash(key: ErasureKey, email: string): Buffer {
  return createHmac("sha256", key).update(email.trim().toLowerCase()).digest();
}

const SQL = {
  anyErased: "select exists (select 1 from erased_addresses) as any",
  erasedAmong: "select address_hash from erased_addresses where address_hash = any($1::bytea[])",
  clear: "delete from erased_addresses where address_hash = $1",
  remember: "insert into erased_addresses (address_hash) values ($1) on conflict (address_hash) do nothing",
  record: "insert into erasures (address_hash, token_name, found) values ($1, $2, $3)",
  erasedAt: "select erased_at from erased_addresses where address_hash = $1",
} as const;

/**
 * SQL: `column` names the address $1 (normalised), in any case, as a whole
 * address: "ana@example.com" is not found inside "joana@example.com" or
 * "ana@example.com.br". Every character but letters and digits is escaped.
 */
export function namesAddress(column: string): string {
  return String.raw`lower(${column}) ~ ('(^|[^a-z0-9._%+-])' || regexp_replace($1, '([^a-z0-9])', '\\\1', 'g') || '($|[^a-z0-9.-])')`;
}

/**
 * Where personal data about one address is stored, and how erase removes it.
 * `sql` runs with $1 = the normalised address, in this order, in one
 * transaction; `cascadesFrom` names the table whose deleted rows take these
 * with them (ON DELETE CASCADE, which the catalog test checks). A new table
 * holding personal data is one more entry here, or one in NO_PERSONAL_DATA
 * with the reason: test/runtime/subscribers/privacy.test.ts reads every table
 * from the catalog and fails on one in neither.
 */
export interface PersonalDataLocation {
  table: string;
  /** The columns that identify or describe the person. */
  columns: readonly string[];
  erase: { sql: string } | { cascadesFrom: string };
}

export const PERSONAL_DATA: readonly PersonalDataLocation[] = [
  // Events that were refused name the address in what was sent, or in why (no subscriber with email …).
  {
    table: "event_dead_letters",
    columns: ["payload", "reason", "idempotency_key"],
    erase: { sql: `delete from event_dead_letters where ${namesAddress("payload")} or ${namesAddress("reason")}` },
  },
  // Replaced by the keyed hash in erased_addresses.
  { table: "suppressions", columns: ["email", "source"], erase: { sql: "delete from suppressions where email = $1" } },
  // Signups through forms, pending or confirmed; their confirmation emails (sends, outbox) go with them by the cascade.
  { table: "signups", columns: ["email", "first_name", "topics", "ip", "user_agent"], erase: { sql: "delete from signups where email = $1" } },
  // Transactional messages (messages/) to an address that is no subscriber: their ledger rows name it alone, and take
  // their requests (message_requests: the address, the data) and outbox messages with them. A subscriber's go below.
  { table: "sends", columns: ["email", "timezone", "provider_message_id"], erase: { sql: "delete from sends where email = $1 and subscriber_id is null and message_key is not null" } },
  { table: "message_requests", columns: ["email", "data", "request_hash", "idempotency_key"], erase: { cascadesFrom: "sends" } },
  { table: "subscribers", columns: ["email", "first_name", "last_name", "country", "timezone", "locale", "tags", "attributes"], erase: { sql: "delete from subscribers where email = $1" } },
  { table: "events", columns: ["subscriber_id", "data", "ip", "utm", "country", "region", "amount_minor"], erase: { cascadesFrom: "subscribers" } },
  { table: "sends", columns: ["subscriber_id", "email", "timezone", "provider_message_id"], erase: { cascadesFrom: "subscribers" } },
  { table: "outbox", columns: ["recipient", "html", "text", "headers"], erase: { cascadesFrom: "sends" } },
  // Proofs (mk send test) go to the team's addresses, but one personalised for a subscriber (--as) may show theirs.
  { table: "proof_outbox", columns: ["recipient", "html", "text", "headers"], erase: { sql: `delete from proof_outbox where ${namesAddress("recipient")} or ${namesAddress("html")} or ${namesAddress("text")}` } },
  { table: "click_throttle", columns: ["send_id"], erase: { cascadesFrom: "sends" } },
  { table: "open_throttle", columns: ["send_id"], erase: { cascadesFrom: "sends" } },
  { table: "enrollments", columns: ["subscriber_id", "trigger_key"], erase: { cascadesFrom: "subscribers" } },
  { table: "enrollment_history", columns: ["enrollment_id"], erase: { cascadesFrom: "enrollments" } },
  // Which subscribers were first to do what: the rollups already counted them, and keep their numbers.
  { table: "campaign_engagements", columns: ["subscriber_id"], erase: { cascadesFrom: "subscribers" } },
  { table: "campaign_link_clicks", columns: ["subscriber_id", "link"], erase: { cascadesFrom: "subscribers" } },
  // Append-only, except for this cascade (migration 000014's trigger lets rows go with their subscriber).
  { table: "consent_events", columns: ["subscriber_id", "source_detail", "ip", "user_agent", "evidence"], erase: { cascadesFrom: "subscribers" } },
  { table: "consent_state", columns: ["subscriber_id", "topic", "granted"], erase: { cascadesFrom: "subscribers" } },
];

/**
 * Tables that hold nothing about a subscriber, and why. `reviewed`: columns
 * whose names look personal (the catalog test's pattern) and were checked.
 */
export const NO_PERSONAL_DATA: Readonly<Record<string, { reason: string; reviewed?: readonly string[] }>> = {
  state: { reason: "the applied serial" },
  applies: { reason: "who on the team applied which commit, not subscribers", reviewed: ["author"] },
  resources: { reason: "the repository's campaigns, audiences, sequences and templates as applied" },
  compiled_templates: { reason: "template HTML before personalisation", reviewed: ["html"] },
  template_fingerprints: { reason: "what compiling each applied template gave: hashes and lint problems", reviewed: ["html_hash"] },
  campaign_sends: { reason: "each campaign's snapshot (content, sender, links) and its recipient count", reviewed: ["recipients"] },
  campaign_starts: { reason: "how each campaign's start chooses its recipients (audience conditions, budget, variants) and the subscriber id its ledger has reached" },
  event_keys: { reason: "idempotency keys as the sender chose them; a sender must not put addresses in keys (README, Privacy)" },
  sns_messages: { reason: "SNS message ids, topics and types only: the SES event itself is stored as an event of the subscriber" },
  campaign_rollups: { reason: "counts per campaign, variant, day and country" },
  campaign_revenue: { reason: "money per campaign, variant, day, country and currency" },
  campaign_machine_reasons: { reason: "machine opens and clicks per campaign and reason" },
  campaign_rollup_deltas: { reason: "counts not yet folded into the rollups, per campaign, variant, day and country" },
  tax_ledger: { reason: "tax records: country, region, amounts, rate and the event's idempotency key, never the buyer (kept: the law requires them)" },
  tax_daily: { reason: "the ledger summed per country, day and currency" },
  fx_rates: { reason: "exchange rates" },
  retention: { reason: "the retention period" },
  sequence_versions: { reason: "applied sequence specs" },
  api_tokens: { reason: "token names, scopes and digests" },
  erased_addresses: { reason: "keyed hashes of erased addresses: nothing to read an address from without MK_SIGNING_SECRET", reviewed: ["address_hash"] },
  erasures: { reason: "the erasure log: a keyed hash, a time and the token's name", reviewed: ["address_hash"] },
  mk_migrations: { reason: "which migrations ran" },
};

/**
 * The erased among `emails` (normalised), by their keyed hashes: a batch asks
 * once, and hashes nothing while no address was ever erased (an import's
 * batch of thousands would spend longer on the hashes than on its query).
 */
export async function erasedAmong(db: pg.Pool | pg.PoolClient, key: ErasureKey, emails: readonly string[]): Promise<Set<string>> {
  if (emails.length === 0 || !(await db.query<{ any: boolean }>(SQL.anyErased)).rows[0]?.any) return new Set();
  const hashes = emails.map((email) => addressHash(key, email));
  const byHash = new Map(hashes.map((hash, i) => [hash.toString("hex"), emails[i]!]));
  const { rows } = await db.query<{ address_hash: Buffer }>(SQL.erasedAmong, [hashes]);
  return new Set(rows.map((r) => byHash.get(r.address_hash.toString("hex"))!));
}

/** The person signed up again (a confirmed form signup): their address may be imported and mailed again. */
export async function clearErasure(db: pg.Pool | pg.PoolClient, key: ErasureKey, email: string): Promise<void> {
  await db.query(SQL.clear, [addressHash(key, email)]);
}

/** When an address was erased, if it was. */
export async function erasedAt(db: pg.Pool | pg.PoolClient, key: ErasureKey, email: string): Promise<Date | null> {
  return (await db.query<{ erased_at: Date }>(SQL.erasedAt, [addressHash(key, email)])).rows[0]?.erased_at ?? null;
}

/**
 * Erase everything held about `email` (normalised) in one transaction: every
 * PERSONAL_DATA location, then its keyed hash kept among the erased addresses
 * and the erasure recorded with `tokenName`. Rollups and the tax ledger are
 * not touched. An unknown or already erased address answers the same way,
 * with erased: false, and is recorded too.
 */
export async function eraseSubscriber(pool: pg.Pool, key: ErasureKey, email: string, tokenName: string): Promise<ErasureResult> {
  const hash = addressHash(key, email);
  // Its cascades lock a subscriber's rows table by table, in an order a sequence step or a send in flight may
  // not share; when PostgreSQL breaks such a deadlock by rolling the erasure back, it runs again whole.
  return withRetriedTransaction(pool, async (client) => {
    let found = false;
    for (const location of PERSONAL_DATA) {
      if ("sql" in location.erase) found = ((await client.query(location.erase.sql, [email])).rowCount ?? 0) > 0 || found;
    }
    await client.query(SQL.remember, [hash]);
    await client.query(SQL.record, [hash, tokenName, found]);
    return { erased: found };
  });
}

/** Why an import row of an erased address is refused. */
export const ERASED_REASON = "this address was erased at its owner's request (right to erasure): it is not imported again unless the person signs up again";

/**
 * Rows of a batch whose address was erased (refused: their index, and line
 * when the row gave one) and the rest (kept), in order. Without a key, all are kept.
 */
export async function refuseErased<T extends { email: string; line?: number | undefined }>(
  db: pg.Pool | pg.PoolClient,
  key: ErasureKey | undefined,
  rows: readonly T[],
): Promise<{ kept: T[]; refused: { index: number; line?: number; reason: string }[] }> {
  if (key === undefined) return { kept: [...rows], refused: [] };
  const erased = await erasedAmong(db, key, [...new Set(rows.map((r) => r.email))]);
  if (erased.size === 0) return { kept: [...rows], refused: [] };
  const kept: T[] = [];
  const refused: { index: number; line?: number; reason: string }[] = [];
  rows.forEach((row, index) => {
    if (!erased.has(row.email)) kept.push(row);
    else refused.push({ index, ...(row.line === undefined ? {} : { line: row.line }), reason: ERASED_REASON });
  });
  return { kept, refused };
}
