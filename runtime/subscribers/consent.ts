/**
 * Named SQL that records consent changes (consent_events, migration 000014;
 * its trigger keeps consent_state and subscribers.consent). A withdrawal
 * already in force is not recorded again, so a repeated click or a
 * redelivered webhook adds nothing; a grant likewise.
 */
export const CONSENT_SQL = {
  /** $1 subscriber, $2 topic ('' = all marketing mail), $3 source, $4 detail, $5 ip, $6 user agent. */
  withdraw: `
    insert into consent_events (subscriber_id, topic, action, source, source_detail, ip, user_agent)
    select $1, $2, 'withdrawn', $3, $4, $5::inet, $6
    where not exists (select 1 from consent_state c where c.subscriber_id = $1 and c.topic = $2 and not c.granted)`,
  /** As withdraw; recorded unless already granted. */
  grant: `
    insert into consent_events (subscriber_id, topic, action, source, source_detail, ip, user_agent)
    select $1, $2, 'granted', $3, $4, $5::inet, $6
    where not exists (select 1 from consent_state c where c.subscriber_id = $1 and c.topic = $2 and c.granted)`,
  /** All marketing mail withdrawn from the subscribers of emails $1 (a bounce, a complaint): $2 source, $3 detail. */
  withdrawEmails: `
    insert into consent_events (subscriber_id, topic, action, source, source_detail)
    select s.id, '', 'withdrawn', $2, $3 from subscribers s
    where s.email = any($1::text[])
      and not exists (select 1 from consent_state c where c.subscriber_id = s.id and c.topic = '' and not c.granted)
    order by s.id`,
} as const;
