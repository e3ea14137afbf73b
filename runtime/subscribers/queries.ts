/** Named SQL for one subscriber and pages of them (runtime/subscribers/records.ts); parameters only. */
export const SUBSCRIBER_SQL = {
  /** A subscriber by email, with the topics it chose (consent_state, migration 000014). */
  byEmail: `
    select s.id, s.email, s.first_name, s.last_name, s.country, s.timezone, s.locale, s.tags, s.consent, s.attributes,
           s.created_at, s.updated_at,
           coalesce((select jsonb_object_agg(c.topic, c.granted) from consent_state c where c.subscriber_id = s.id and c.topic <> ''), '{}') as topics
    from subscribers s where s.email = $1`,
  /** Its consent history, oldest first. */
  history: `
    select topic, action, source, source_detail, occurred_at, host(ip) as ip, user_agent, text_hash, evidence
    from consent_events where subscriber_id = $1 order by id`,
} as const;

/**
 * A page of subscribers after id `$1` (keyset), at most `$2`, matching
 * `filter` (a compiled audience condition and tag test over `s`, parameters
 * from $3 on).
 */
export function subscriberPageSql(filter: string): string {
  return `
    select s.id, s.email, s.first_name, s.last_name, s.country, s.timezone, s.locale, s.tags, s.consent, s.attributes,
           s.created_at, s.updated_at,
           coalesce((select jsonb_object_agg(c.topic, c.granted) from consent_state c where c.subscriber_id = s.id and c.topic <> ''), '{}') as topics
    from subscribers s
    where s.id > $1::bigint and ${filter}
    order by s.id
    limit $2`;
}
