import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import { stringify } from "csv-stringify/sync";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import type { ImportedSubscriber, SubscriberImportResponse } from "../../schemas/api.js";
import { withTransaction } from "../db/transaction.js";

const SQL = {
  staging: `
    create temporary table import_staging (
      ord integer not null, email text not null, first_name text, last_name text, country text, timezone text,
      locale text, tags jsonb, consent text, has_consent boolean not null, attributes jsonb
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
} as const;

/**
 * Insert or update a batch of subscribers (emails already normalised): COPY
 * into a temporary staging table, then one UPDATE of the existing subscribers and one INSERT of the new ones. The
 * last row wins for an email given twice; rows that change nothing are not
 * rewritten, so a re-import is cheap and idempotent. (An email that another
 * import inserts at the same moment keeps that import's values.)
 */
export async function upsertSubscribers(pool: pg.Pool, subscribers: readonly ImportedSubscriber[]): Promise<SubscriberImportResponse> {
  if (subscribers.length === 0) return { inserted: 0, updated: 0, unchanged: 0 };
  return withTransaction(pool, async (client) => {
    await client.query(SQL.staging);
    const csv = stringify(
      subscribers.map((s, i) => [
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
      ]),
      { cast: { boolean: (b) => (b ? "t" : "f") }, quoted_string: true },
    );
    await pipeline(Readable.from([csv]), client.query(copyFrom(SQL.copy)));
    const total = Number((await client.query<{ total: string }>(SQL.total)).rows[0]?.total ?? 0);
    const updated = (await client.query(SQL.update)).rowCount ?? 0;
    const inserted = (await client.query(SQL.insert)).rowCount ?? 0;
    return { inserted, updated, unchanged: total - inserted - updated };
  });
}
