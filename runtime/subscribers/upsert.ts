import type pg from "pg";
import type { ImportedSubscriber, SubscriberImportResponse } from "../../schemas/api.js";
import { copyRows, copyText, type CopyValue } from "../db/copy-rows.js";
import { withRetriedTransaction } from "../db/transaction.js";
import { refuseErased, type ErasureKey } from "./erase.js";

export const UPSERT_SQL = {
  /**
   * Where a batch is copied first: one table per connection, kept for the
   * next batch and emptied at each commit. `consent` is "marketing", "none"
   * (withdrawn) or null (left as stored).
   */
  staging: `
    create temporary table if not exists import_staging (
      ord integer not null, email text not null, first_name text, last_name text, country text, timezone text,
      locale text, tags text[], consent text, attributes jsonb,
      consent_detail text, consent_at timestamptz, consent_ip inet, evidence jsonb
    ) on commit delete rows`,
  copy: "copy import_staging from stdin",
  /**
   * The staged batch in one statement ($1 the consent source). The last row
   * wins for an email given twice. Each row's email is looked up once;
   * known subscribers are updated only where the row changes something
   * (empty cells keep the stored value, attributes merge, tags and consent
   * replace), so a re-import writes nothing; the rest are inserted (an email
   * another import inserts at the same moment keeps that import's values).
   * Then an event in the consent history (migration 000014) for each
   * subscriber whose marketing consent the batch changes, read against the
   * state before it; the statement's trigger keeps consent_state (migration
   * 000017).
   */
  merge: `
    with incoming as (
      select distinct on (email) email, first_name, last_name, country, timezone, locale, tags,
             consent is not null as has_consent, nullif(consent, 'none') as consent,
             attributes, consent_detail, consent_at, consent_ip, evidence
      from import_staging order by email, ord desc
    ), known as (
      -- Who is already here, and whether they consent now: the one lookup by email of each row.
      select s.id, s.email, c.granted
      from incoming i join subscribers s on s.email = i.email
      left join consent_state c on c.subscriber_id = s.id and c.topic = ''
    ), updated as (
      update subscribers s
      set first_name = coalesce(i.first_name, s.first_name), last_name = coalesce(i.last_name, s.last_name),
          country = coalesce(i.country, s.country), timezone = coalesce(i.timezone, s.timezone), locale = coalesce(i.locale, s.locale),
          tags = coalesce(i.tags, s.tags), consent = case when i.has_consent then i.consent else s.consent end,
          attributes = s.attributes || coalesce(i.attributes, '{}'), updated_at = now()
      from incoming i join known k on k.email = i.email
      where s.id = k.id
        and (s.first_name, s.last_name, s.country, s.timezone, s.locale, s.tags, s.consent, s.attributes) is distinct from
            (coalesce(i.first_name, s.first_name), coalesce(i.last_name, s.last_name), coalesce(i.country, s.country),
             coalesce(i.timezone, s.timezone), coalesce(i.locale, s.locale), coalesce(i.tags, s.tags),
             case when i.has_consent then i.consent else s.consent end, s.attributes || coalesce(i.attributes, '{}'))
      returning s.id
    ), inserted as (
      insert into subscribers (email, first_name, last_name, country, timezone, locale, tags, consent, attributes)
      select email, first_name, last_name, country, timezone, locale, coalesce(tags, '{}'), consent, coalesce(attributes, '{}')
      from incoming i
      where not exists (select 1 from known k where k.email = i.email)
      order by email
      on conflict (email) do nothing
      returning id, email
    ), consent_changes as (
      insert into consent_events (subscriber_id, topic, action, source, source_detail, occurred_at, ip, evidence)
      select s.id, '', case when i.consent = 'marketing' then 'granted' else 'withdrawn' end, $1,
             i.consent_detail, coalesce(i.consent_at, now()), i.consent_ip, i.evidence
      from incoming i
      join (select id, email, granted from known union all select id, email, null from inserted) s on s.email = i.email
      where i.has_consent and coalesce(i.consent = 'marketing', false) <> coalesce(s.granted, false)
      order by s.id
    )
    select (select count(*) from incoming) as total, (select count(*) from inserted) as inserted, (select count(*) from updated) as updated`,
} as const;

/** Where a batch's consent changes come from: an import's file (source_detail "file:line"), or an API token's name. */
export type ConsentOrigin = { source: "import"; file?: string } | { source: "api"; token: string };

function consentDetail(origin: ConsentOrigin, subscriber: ImportedSubscriber): string | null {
  if (origin.source === "api") return origin.token;
  if (origin.file === undefined) return subscriber.line === undefined ? null : `line ${subscriber.line}`;
  return subscriber.line === undefined ? origin.file : `${origin.file}:${subscriber.line}`;
}

/** An array of text as PostgreSQL writes it, each element quoted. */
function textArray(items: readonly string[]): string {
  return `{${items.map((t) => `"${t.replace(/[\\"]/g, "\\$&")}"`).join(",")}}`;
}

/** The batch as rows of import_staging's columns, one per subscriber. */
function stagingRows(subscribers: readonly ImportedSubscriber[], origin: ConsentOrigin): CopyValue[][] {
  return subscribers.map((s, ord) => {
    const proof = s.consentProof;
    return [
      ord, s.email, s.firstName ?? null, s.lastName ?? null, s.country ?? null,
      s.timezone ?? null, s.locale ?? null, s.tags ? textArray(s.tags) : null,
      s.consent === undefined ? null : (s.consent ?? "none"), s.attributes ? JSON.stringify(s.attributes) : null,
      consentDetail(origin, s), proof?.confirmedAt ?? proof?.grantedAt ?? null,
      proof?.confirmIp ?? proof?.ip ?? null, proof ? JSON.stringify(proof) : null,
    ];
  });
}

/**
 * Insert or update a batch of subscribers (emails already normalised): COPY
 * into the staging table, then one statement (UPSERT_SQL.merge), in one
 * transaction. Rows that change nothing are not rewritten, so a re-import
 * is cheap and idempotent, and each change of consent is recorded in the
 * consent history with its origin and proof. With `erasure`, addresses
 * erased at their owner's request are refused row by row (`refused`) and
 * not stored.
 */
export async function upsertSubscribers(pool: pg.Pool, subscribers: readonly ImportedSubscriber[], origin: ConsentOrigin, erasure?: ErasureKey): Promise<SubscriberImportResponse> {
  if (subscribers.length === 0) return { inserted: 0, updated: 0, unchanged: 0 };
  const { kept, refused } = await refuseErased(pool, erasure, subscribers);
  if (kept.length === 0) return { inserted: 0, updated: 0, unchanged: 0, refused };
  const text = copyText(stagingRows(kept, origin));
  // Two imports of overlapping files at once can deadlock; the one PostgreSQL picks was rolled back whole and goes again.
  const row = await withRetriedTransaction(pool, async (client) => {
    await client.query(UPSERT_SQL.staging);
    await copyRows(client, UPSERT_SQL.copy, text);
    return (await client.query<{ total: string; inserted: string; updated: string }>(UPSERT_SQL.merge, [origin.source])).rows[0]!;
  });
  const [total, inserted, updated] = [Number(row.total), Number(row.inserted), Number(row.updated)];
  return { inserted, updated, unchanged: total - inserted - updated, refused };
}
