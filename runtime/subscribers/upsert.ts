import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import { stringify } from "csv-stringify/sync";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import type { ImportedSubscriber, SubscriberImportResponse } from "../../schemas/api.js";
import { withTransaction } from "../db/transaction.js";
import { refuseErased, type ErasureKey } from "./erase.js";

const SQL = {
  staging: `
    create temporary table import_staging (
      ord integer not null, email text not null, first_name text, last_name text, country text, timezone text,
      locale text, tags jsonb, consent text, has_consent boolean not null, attributes jsonb,
      consent_detail text, consent_at timestamptz, consent_ip inet, consent_evidence jsonb
    ) on commit drop`,
  copy: "copy import_staging from stdin with (format csv)",
  total: "select count(distinct email) as total from import_staging",
  /** Existing subscribers, merged with the incoming row; rewritten only when something changes. */
  update: `
    with incoming as (
      select distinct on (email) * from import_staging order by email, ord desc
    ), merged as (
      select s.id,
             coalesce(i.first_name, s.first_name) as first_name,
             coalesce(i.last_name, s.last_name) as last_name,
             coalesce(i.country, s.country) as country,
             coalesce(i.timezone, s.timezone) as timezone,
             coalesce(i.locale, s.locale) as locale,
             case when i.tags is null then s.tags else array(select jsonb_array_elements_text(i.tags)) end as tags,
             case when i.has_consent then i.consent else s.consent end as consent,
             s.attributes || coalesce(i.attributes, '{}') as attributes
      from incoming i join subscribers s on s.email = i.email
    )
    update subscribers s
    set first_name = m.first_name, last_name = m.last_name, country = m.country, timezone = m.timezone,
        locale = m.locale, tags = m.tags, consent = m.consent, attributes = m.attributes, updated_at = now()
    from merged m
    where s.id = m.id
      and (s.first_name, s.last_name, s.country, s.timezone, s.locale, s.tags, s.consent, s.attributes)
          is distinct from (m.first_name, m.last_name, m.country, m.timezone, m.locale, m.tags, m.consent, m.attributes)`,
  /** New subscribers. */
  insert: `
    insert into subscribers (email, first_name, last_name, country, timezone, locale, tags, consent, attributes)
    select email, first_name, last_name, country, timezone, locale,
           coalesce(array(select jsonb_array_elements_text(tags)), '{}'), consent, coalesce(attributes, '{}')
    from (select distinct on (email) * from import_staging order by email, ord desc) i
    where not exists (select 1 from subscribers s where s.email = i.email)
    on conflict (email) do nothing`,
  /**
   * The consent history (migration 000014): an event for each subscriber
   * whose marketing consent this batch changed ($1 the source). Runs after
   * the update and insert, which set subscribers.consent already.
   */
  consentEvents: `
    insert into consent_events (subscriber_id, topic, action, source, source_detail, occurred_at, ip, evidence)
    select s.id, '', case when i.consent = 'marketing' then 'granted' else 'withdrawn' end, $1,
           i.consent_detail, coalesce(i.consent_at, now()), i.consent_ip, i.consent_evidence
    from (select distinct on (email) * from import_staging order by email, ord desc) i
    join subscribers s on s.email = i.email
    left join consent_state c on c.subscriber_id = s.id and c.topic = ''
    where i.has_consent and (i.consent = 'marketing') is distinct from coalesce(c.granted, false)
    order by s.id`,
} as const;

/** Where a batch's consent changes come from: an import's file (source_detail "file:line"), or an API token's name. */
export type ConsentOrigin = { source: "import"; file?: string } | { source: "api"; token: string };

function consentDetail(origin: ConsentOrigin, subscriber: ImportedSubscriber): string | null {
  if (origin.source === "api") return origin.token;
  if (origin.file === undefined) return subscriber.line === undefined ? null : `line ${subscriber.line}`;
  return subscriber.line === undefined ? origin.file : `${origin.file}:${subscriber.line}`;
}

/**
 * Insert or update a batch of subscribers (emails already normalised): COPY
 * into a temporary staging table, then one UPDATE of the existing subscribers and one INSERT of the new ones. The
 * last row wins for an email given twice; rows that change nothing are not
 * rewritten, so a re-import is cheap and idempotent. (An email that another
 * import inserts at the same moment keeps that import's values.) Each change
 * of consent is recorded in the consent history with its origin and proof.
 * With `erasure`, addresses erased at their owner's request are refused row by
 * row (`refused`) and not stored.
 */
export async function upsertSubscribers(pool: pg.Pool, subscribers: readonly ImportedSubscriber[], origin: ConsentOrigin, erasure?: ErasureKey): Promise<SubscriberImportResponse> {
  if (subscribers.length === 0) return { inserted: 0, updated: 0, unchanged: 0 };
  return withTransaction(pool, async (client) => {
    const { kept, refused } = await refuseErased(client, erasure, subscribers);
    if (kept.length === 0) return { inserted: 0, updated: 0, unchanged: 0, refused };
    await client.query(SQL.staging);
    const csv = stringify(
      kept.map((s, i) => [
        i,
        s.email,
        s.firstName ?? null,
        s.lastName ?? null,
        s.country ?? null,
        s.timezone ?? null,
        s.locale ?? null,
        s.tags === undefined ? null : JSON.stringify(s.tags),
        s.consent ?? null,
        s.consent !== undefined,
        s.attributes === undefined ? null : JSON.stringify(s.attributes),
        consentDetail(origin, s),
        s.consentProof?.confirmedAt ?? s.consentProof?.grantedAt ?? null,
        s.consentProof?.confirmIp ?? s.consentProof?.ip ?? null,
        s.consentProof === undefined ? null : JSON.stringify(s.consentProof),
      ]),
      { cast: { boolean: (b) => (b ? "t" : "f") }, quoted_string: true },
    );
    await pipeline(Readable.from([csv]), client.query(copyFrom(SQL.copy)));
    const total = Number((await client.query<{ total: string }>(SQL.total)).rows[0]?.total ?? 0);
    const updated = (await client.query(SQL.update)).rowCount ?? 0;
    const inserted = (await client.query(SQL.insert)).rowCount ?? 0;
    await client.query(SQL.consentEvents, [origin.source]);
    return { inserted, updated, unchanged: total - inserted - updated, refused };
  });
}
