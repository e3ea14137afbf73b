/** Named SQL for transactional messages (migration 000024); parameters only. */
export const MESSAGE_SQL = {
  /** The applied project, the message $1, and the compiled HTML hash of its template: what a request needs, in one round trip. */
  applied: `
    select r.kind, r.spec, t.spec->>'html' as template_hash, (select serial from state)::text as serial
    from resources r
    left join resources t on r.kind = 'Message' and t.kind = 'Template' and t.name = r.spec->>'template'
    where r.kind = 'Project' or (r.kind = 'Message' and r.name = $1)`,
  /** A key older than 24 hours is free again, once its message is no longer on its way (its data is here). */
  expireKey: `
    delete from message_requests m
    where m.idempotency_key = $1 and m.created_at < now() - interval '24 hours'
      and not exists (select 1 from sends s where s.id = m.send_id and s.status in ('queued', 'claimed', 'sending'))`,
  purgeExpired: `
    delete from message_requests m
    where m.created_at < now() - interval '24 hours'
      and not exists (select 1 from sends s where s.id = m.send_id and s.status in ('queued', 'claimed', 'sending'))`,
  /** The key, claimed by the first request; a concurrent one waits here until the first commits, then gets nothing. */
  claimKey: `
    insert into message_requests (idempotency_key, message, email, request_hash, data, locale, response, send_id)
    values ($1, $2, $3, $4, $5, $6, $7, $8)
    on conflict (idempotency_key) do nothing
    returning idempotency_key`,
  firstAnswer: "select message, request_hash, response from message_requests where idempotency_key = $1",
  /**
   * Read before anything else, in one round trip: the answer to a key of the last 24 hours (given again whatever
   * was applied since), and the state's serial (whether the applied message as last read still stands).
   */
  recentAnswer: `
    select (select serial::text from state) as serial, m.request_hash, m.response
    from (select 1) one
    left join message_requests m on m.idempotency_key = $1 and m.created_at >= now() - interval '24 hours'`,
  /**
   * The address's subscriber, if it is one, and its suppression, if it keeps a transactional message from it: only
   * a hard bounce, or its owner calling mail from us spam. One round trip.
   */
  recipient: `
    select s.id, s.timezone, x.reason, x.created_at
    from (select 1) one
    left join subscribers s on s.email = $1
    left join suppressions x on x.email = $1 and x.reason in ('bounce', 'complaint')`,
  /** A message version's snapshot, under its key, once. */
  recordSnapshot: `
    insert into campaign_sends (campaign, started_serial, snapshot, recipients, message)
    values ($1, 0, $2, 0, $3) on conflict (campaign) do nothing`,
  queueSend: `
    insert into sends (id, campaign, subscriber_id, email, timezone, due_at, message_key)
    values ($1, $2, $3, $4, $5, now(), $6)`,
  /** What the send worker composes a claimed message send with. */
  requestsOfSends: "select send_id, data, locale from message_requests where send_id = any($1::uuid[])",
  /** A message's sends by status, over all its applied versions. */
  reportStatuses: `
    select s.status, count(*)::int as n from sends s join campaign_sends c on c.campaign = s.campaign
    where c.message = $1 group by s.status`,
  /** A message's engagement as the rollups count it (delivery, bounces, opens, clicks of recipients who are subscribers). */
  reportEngagement: `
    select coalesce(sum(n.delivered), 0)::bigint as delivered, coalesce(sum(n.bounced), 0)::bigint as bounced,
      coalesce(sum(n.complained), 0)::bigint as complained, coalesce(sum(n.opened), 0)::bigint as opened, coalesce(sum(n.clicked), 0)::bigint as clicked,
      coalesce(sum(n.human_opened), 0)::bigint as human_opened, coalesce(sum(n.human_clicked), 0)::bigint as human_clicked
    from campaign_sends c join campaign_counts n on n.campaign = c.campaign where c.message = $1`,
  /** Hard bounces of recipients who are no subscribers (they have no events): the suppression their send's SES bounce made. */
  reportAddressBounces: `
    select count(*)::int as n from sends s join campaign_sends c on c.campaign = s.campaign
    join suppressions x on x.email = s.email and x.reason = 'bounce' and x.source = 'ses:' || s.provider_message_id
    where c.message = $1 and s.subscriber_id is null`,
  reportVersions: "select count(*)::int as versions, min(started_at) as first_at from campaign_sends where message = $1",
  isApplied: "select 1 from resources where kind = 'Message' and name = $1",
} as const;
