/** Named SQL for signups through forms (migration 000016); parameters only. */
export const FORM_SQL = {
  /** What a form's snapshot depends on besides the project and the form: the applied catalogs' versions. */
  catalogHashes: "select name, spec_hash from resources where kind = 'Catalog' order by name",
  project: "select spec from resources where kind = 'Project'",
  template: "select spec->>'html' as hash from resources where kind = 'Template' and name = $1",
  /** Pending signups whose link ran out, and confirmed ones as old: the consent events keep their proof. */
  purgeExpired: "delete from signups where expires_at < $1",
  /** Whether `$1` consents to marketing mail and to each of the topics $2 already (an earlier signup confirmed). */
  alreadyConfirmed: `
    select coalesce(bool_and(c.granted), false) and count(c.topic) = cardinality($2::text[]) + 1 as confirmed
    from subscribers s join consent_state c on c.subscriber_id = s.id and c.topic = any(array_append($2::text[], ''))
    where s.email = $1`,
  /** Confirmation emails for this address in the last day, any form. */
  recentSignups: "select count(*)::int as n from signups where email = $1 and requested_at > $2::timestamptz - interval '1 day'",
  insertSignup: `
    insert into signups (form, email, first_name, topics, requested_at, ip, user_agent, text_hash, token_digest, expires_at, resend_count)
    values ($1, $2, $3, $4, $5, $6::inet, $7, $8, $9, $10, $11)
    returning id`,
  setDigest: "update signups set token_digest = $2 where id = $1",
  /** A form version's snapshot, under its key, once. */
  recordSnapshot: `
    insert into campaign_sends (campaign, started_serial, snapshot, recipients, form)
    values ($1, $2, $3, 0, $4) on conflict (campaign) do nothing`,
  queueConfirmation: `
    insert into sends (campaign, signup_id, email, timezone, due_at)
    values ($1, $2, $3, $4, now())`,
  /** The signup of a token, locked while it is confirmed. */
  lockSignup: `
    select id, form, email, first_name, topics, requested_at, host(ip) as ip, user_agent, text_hash, expires_at, confirmed_at
    from signups where id = $1 and token_digest = $2 for update`,
  signupByToken: "select id, form, topics, expires_at, confirmed_at from signups where id = $1 and token_digest = $2",
  upsertSubscriber: `
    insert into subscribers (email, first_name) values ($1, $2)
    on conflict (email) do update set first_name = coalesce(subscribers.first_name, excluded.first_name), updated_at = now()
    returning id`,
  /** $1 subscriber, $2 topic, $3 form, $4 ip, $5 user agent, $6 text hash, $7 evidence, $8 time; unless granted already. */
  grant: `
    insert into consent_events (subscriber_id, topic, action, source, source_detail, occurred_at, ip, user_agent, text_hash, evidence)
    select $1, $2, 'granted', 'form', $3, $8, $4::inet, $5, $6, $7
    where not exists (select 1 from consent_state c where c.subscriber_id = $1 and c.topic = $2 and c.granted)`,
  markConfirmed: "update signups set confirmed_at = $2 where id = $1",
  /** An unsubscribe is undone by signing up again; a bounce or a complaint is not. */
  clearUnsubscribe: "delete from suppressions where email = $1 and reason = 'unsubscribe'",
} as const;
