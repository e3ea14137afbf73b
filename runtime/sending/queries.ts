/** Named SQL for starting campaigns and working the send ledger; parameters only. */
export const SEND_SQL = {
  lockState: "select serial from state for update",
  project: "select spec from resources where kind = 'Project'",
  unstartedCampaigns: "select name, spec from resources where kind = 'Campaign' and started_at is null order by name",
  campaign: "select name, spec, started_at from resources where kind = 'Campaign' and name = $1",
  templates: `
    select r.name, t.hash, t.html from resources r
    join compiled_templates t on t.hash = r.spec->>'html'
    where r.kind = 'Template' and r.name = any($1::text[])`,
  storeTemplate: "insert into compiled_templates (hash, html) values ($1, $2) on conflict (hash) do nothing",
  recordStart: "insert into campaign_sends (campaign, started_serial, snapshot, recipients) values ($1, $2, $3, 0) returning started_at",
  markStarted: "update resources set started_at = now() where kind = 'Campaign' and name = $1",

  /** A start's ledger, written in chunks outside the state lock (ledger-fill.ts, migration 000018). */
  recordStartPlan: "insert into campaign_starts (campaign, plan, through_id) select $1, $2, coalesce(max(id), 0) from subscribers",
  unfinishedStarts: "select campaign from campaign_starts where finished_at is null order by campaign",
  /** One writer per start: a session lock, freed with the connection when its runtime dies. */
  waitStartLock: "select pg_advisory_lock(hashtext('mk_campaign_start'), hashtext($1))",
  tryStartLock: "select pg_try_advisory_lock(hashtext('mk_campaign_start'), hashtext($1)) as locked",
  unlockStart: "select pg_advisory_unlock(hashtext('mk_campaign_start'), hashtext($1))",
  lockStart: `
    select st.plan, st.after_id, st.through_id, c.recipients
    from campaign_starts st join campaign_sends c on c.campaign = st.campaign
    where st.campaign = $1 and st.finished_at is null
    for update of st`,
  /** The last id of the next $3 + 1 subscribers after $1 (none: fewer are left before $2). */
  chunkEnd: "select id from subscribers where id > $1 and id <= $2 order by id offset $3 limit 1",
  chunkZones: "select distinct coalesce(timezone, $1) as zone from subscribers where id > $2 and id <= $3",
  advanceStart: "update campaign_starts set after_id = $2, finished_at = case when $3 then now() end where campaign = $1",
  /** Fresh planner statistics for the ledger (a role that may not analyze it gets a warning, not an error). */
  analyzeLedger: "analyze sends",
  addRecipients: "update campaign_sends set recipients = recipients + $2 where campaign = $1",
  startRecipients: "select recipients from campaign_sends where campaign = $1",
  snapshots: "select campaign, snapshot from campaign_sends where campaign = any($1::text[])",
  compiledHtml: "select html from compiled_templates where hash = $1",

  /** Rows whose lease ran out: never handed over → queued again; handed over → ambiguous. */
  requeueExpired: `
    update sends set status = 'queued', lease_until = null, leased_by = null, updated_at = now()
    where status = 'claimed' and lease_until < now()`,
  expireSending: `
    update sends set status = 'ambiguous', lease_until = null,
      last_error = 'the lease ran out while the message was with the transport; not resent', updated_at = now()
    where status = 'sending' and lease_until < now()
    returning id`,
  /**
   * Claim due rows, each with what its message needs: its subscriber's fields (null for a signup's confirmation
   * or a subscriber gone since) and its address's suppression, if any. One round trip for the batch.
   */
  claim: `
    with due as (
      select id from sends
      where status = 'queued' and due_at <= now()
      order by due_at
      limit $1
      for update skip locked
    ),
    claimed as (
      update sends s set status = 'claimed', lease_until = now() + make_interval(secs => $2), leased_by = $3, updated_at = now()
      from due where s.id = due.id
      returning s.id, s.campaign, s.subscriber_id, s.signup_id, s.email, s.variant, s.timezone, s.attempts, s.due_at
    )
    select c.id, c.campaign, c.subscriber_id, c.signup_id, c.email, c.variant, c.timezone, c.attempts, c.due_at,
      x.reason as suppression, sub.id as subscriber_found, sub.first_name, sub.last_name, sub.country,
      sub.timezone as subscriber_timezone, sub.locale, sub.tags, sub.consent, sub.attributes
    from claimed c
    left join subscribers sub on sub.id = c.subscriber_id
    left join suppressions x on x.email = c.email`,
  /** The pending signups of claimed confirmation emails (forms, migration 000016). */
  signups: "select id, first_name, expires_at from signups where id = any($1::bigint[])",
  markSuppressed: `
    update sends set status = 'suppressed', lease_until = null, updated_at = now()
    where id = any($1::uuid[]) and status = 'claimed' and leased_by = $2`,
  reschedule: `
    update sends s set status = 'queued', due_at = r.due_at, lease_until = null, leased_by = null, updated_at = now()
    from unnest($1::uuid[], $2::timestamptz[]) as r (id, due_at)
    where s.id = r.id and s.status = 'claimed' and s.leased_by = $3`,
  /** Before a transport call: from here on, a lost lease means "ambiguous", never "resend". */
  /** Also records the locale each message was composed in ($4, null without locales). */
  markSending: `
    update sends s set status = 'sending', attempts = attempts + 1, transport = $3, locale = r.locale, updated_at = now()
    from unnest($1::uuid[], $4::text[]) as r (id, locale)
    where s.id = r.id and s.status = 'claimed' and s.leased_by = $2
    returning s.id`,
  /** $5: the locale each was composed in, for the outbox (which goes from claimed to sent); null keeps what markSending recorded. */
  markSent: `
    update sends s set status = 'sent', provider_message_id = r.message_id, sent_at = now(), lease_until = null, last_error = null,
      locale = coalesce(r.locale, s.locale), updated_at = now()
    from unnest($1::uuid[], $2::text[], $5::text[]) as r (id, message_id, locale)
    where s.id = r.id and s.status = $3 and s.leased_by = $4
    returning s.id`,
  markRetry: `
    update sends s set status = 'queued', due_at = r.due_at, last_error = r.error, lease_until = null, leased_by = null, updated_at = now()
    from unnest($1::uuid[], $2::timestamptz[], $3::text[]) as r (id, due_at, error)
    where s.id = r.id and s.status = 'sending' and s.leased_by = $4`,
  /** The transport never got it (circuit open): queued again without counting an attempt. */
  markNotAttempted: `
    update sends s set status = 'queued', due_at = $2, attempts = attempts - 1, lease_until = null, leased_by = null, updated_at = now()
    where s.id = any($1::uuid[]) and s.status = 'sending' and s.leased_by = $3`,
  /** Claimed rows whose message cannot be rendered: failed for good, before any transport sees them. */
  markUnrenderable: `
    update sends s set status = 'failed', last_error = r.error, lease_until = null, updated_at = now()
    from unnest($1::uuid[], $2::text[]) as r (id, error)
    where s.id = r.id and s.status = 'claimed' and s.leased_by = $3`,
  markFailed: `
    update sends s set status = 'failed', last_error = r.error, lease_until = null, updated_at = now()
    from unnest($1::uuid[], $2::text[]) as r (id, error)
    where s.id = r.id and s.status = 'sending' and s.leased_by = $3`,
  markAmbiguous: `
    update sends s set status = 'ambiguous', last_error = r.error, lease_until = null, updated_at = now()
    from unnest($1::uuid[], $2::text[]) as r (id, error)
    where s.id = r.id and s.status = 'sending' and s.leased_by = $3`,
  insertOutbox: `
    insert into outbox (send_id, campaign, recipient, sender, subject, html, text, headers)
    select * from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::jsonb[])`,

  ambiguous: `
    select id, campaign, email, attempts, transport, last_error, updated_at from sends
    where status = 'ambiguous' and ($1::text is null or campaign = $1) order by updated_at limit $2`,
  progress: `
    select c.campaign, c.started_at, c.recipients, coalesce(jsonb_object_agg(s.status, s.n) filter (where s.status is not null), '{}') as statuses
    from campaign_sends c
    left join (select campaign, status, count(*)::int as n from sends group by campaign, status) s on s.campaign = c.campaign
    where c.sequence is null and c.form is null and c.message is null and ($1::text is null or c.campaign = $1)
    group by c.campaign, c.started_at, c.recipients
    order by c.started_at desc`,
  // Proofs (mk send test) the outbox transport delivered are in proof_outbox: listed with the rest.
  outboxList: `
    select send_id, campaign, recipient, subject, created_at from (
      select send_id, campaign, recipient, subject, created_at from outbox where $1::text is null or campaign = $1
      union all
      select id, campaign, recipient, subject, created_at from proof_outbox where $1::text is null or campaign = $1
    ) messages order by created_at desc, send_id limit $2`,
  outboxMessage: `
    select send_id, campaign, recipient, sender, subject, html, text, headers, created_at from outbox where send_id = $1
    union all
    select id, campaign, recipient, sender, subject, html, text, headers, created_at from proof_outbox where id = $1`,
  insertProof: `
    insert into proof_outbox (id, campaign, recipient, sender, subject, html, text, headers)
    values ($1, $2, $3, $4, $5, $6, $7, $8)`,
  queueStats: `
    select count(*) filter (where status = 'queued' and due_at <= now()) as due,
      coalesce(extract(epoch from now() - min(due_at) filter (where status = 'queued' and due_at <= now())), 0) as lag_seconds
    from sends`,
  /** As the SES handler's: a bounce or complaint replaces an unsubscribe or a manual suppression; an unsubscribe replaces nothing. */
  suppress: `
    insert into suppressions (email, reason, source) values ($1, $2, $3)
    on conflict (email) do update set reason = excluded.reason, source = excluded.source, created_at = now()
      where suppressions.reason in ('unsubscribe', 'manual') and excluded.reason in ('bounce', 'complaint')`,
  /** An engagement with a send ($1), attributed to its campaign and variant, in the subscriber's country. */
  recordEvent: `
    insert into events (subscriber_id, name, occurred_at, send_id, data, campaign, variant, country)
    select s.subscriber_id, $2, now(), s.id, $3, s.campaign, s.variant, sub.country
    from sends s join subscribers sub on sub.id = s.subscriber_id where s.id = $1`,
  subscriber: `
    select id, email, first_name, last_name, country, timezone, locale, tags, consent, attributes
    from subscribers where id = $1`,
  sendForToken: `
    select s.id, s.campaign, s.subscriber_id, s.email, s.variant, s.timezone, c.snapshot
    from sends s join campaign_sends c on c.campaign = s.campaign where s.id = $1`,
} as const;
