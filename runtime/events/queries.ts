/** Named SQL for event ingestion; parameters only. */
export const EVENT_SQL = {
  subscribers: "select id, email, country from subscribers where email = any($1::text[]) or id = any($2::bigint[])",
  /** Keys in a fixed order, so concurrent overlapping batches wait for each other instead of deadlocking. */
  claimKeys: `
    insert into event_keys (idempotency_key)
    select key from unnest($1::text[]) as k (key) order by key
    on conflict (idempotency_key) do nothing
    returning idempotency_key`,
  /** The claimed events, through COPY (runtime/db/copy-rows.ts): PostgreSQL's bulk path, the same triggers as an INSERT. */
  copyEvents: `
    copy events (idempotency_key, subscriber_id, name, occurred_at, data, amount_minor, currency, country, ip, utm, send_id, campaign, variant, region, tax_rate, tax_type, actor, actor_reason)
    from stdin`,
  /** When each named send went out: how soon after it an ingested open or click came (runtime/engagement/classify.ts). */
  sentAt: "select id, sent_at from sends where id = any($1::uuid[]) and sent_at is not null",
  /**
   * Sends an event may belong to: named by its sendId, or the subscriber's sends of a campaign named by its utm_campaign;
   * with each one's last click (null when nobody clicked). The two kinds are looked up by their own index each, and the
   * last clicks of all of them in one index scan per events partition (not one per send and partition). A machine's click
   * (a link scanner's) is nobody's visit and opens no window; human, unknown and unclassified (older) clicks do.
   */
  candidateSends: `
    with candidates as (
      select s.id, s.campaign, s.variant, s.subscriber_id, s.sent_at, coalesce(c.snapshot->>'utmCampaign', c.campaign) as utm_campaign
      from sends s join campaign_sends c on c.campaign = s.campaign
      where s.sent_at is not null and s.id = any($1::uuid[])
      union
      select s.id, s.campaign, s.variant, s.subscriber_id, s.sent_at, coalesce(c.snapshot->>'utmCampaign', c.campaign)
      from sends s join campaign_sends c on c.campaign = s.campaign
      where s.sent_at is not null and s.subscriber_id = any($2::bigint[]) and coalesce(c.snapshot->>'utmCampaign', c.campaign) = any($3::text[])
    ),
    clicks as (
      select e.send_id, max(e.occurred_at) as clicked_at from events e
      where e.send_id = any(array(select id from candidates)) and e.name in ('click', 'ses.click') and e.actor is distinct from 'machine'
      group by e.send_id
    )
    select c.id, c.campaign, c.variant, c.subscriber_id, c.sent_at, c.utm_campaign, k.clicked_at
    from candidates c left join clicks k on k.send_id = c.id`,
  deadLetter: `
    insert into event_dead_letters (idempotency_key, reason, payload)
    select * from unnest($1::text[], $2::text[], $3::text[])`,
  deadLetters: `
    select id, idempotency_key, reason, payload, received_at from event_dead_letters
    where replayed_at is null and ($1::bigint[] is null or id = any($1::bigint[]))
    order by id limit $2`,
  markReplayed: "update event_dead_letters set replayed_at = now() where id = any($1::bigint[])",
  updateReasons: `
    update event_dead_letters d set reason = r.reason
    from unnest($1::bigint[], $2::text[]) as r (id, reason) where d.id = r.id`,
  deadLetterCount: "select count(*)::int as n from event_dead_letters where replayed_at is null",
} as const;
