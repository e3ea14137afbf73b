/** Named SQL for sequences: versions, enrollments, their steps and reports; parameters only. */
export const SEQUENCE_SQL = {
  /** Applied sequences, with their newest version (null before the first). */
  live: `
    select r.name, r.spec, v.version, v.fingerprint
    from resources r
    left join lateral (select version, fingerprint from sequence_versions where sequence = r.name order by version desc limit 1) v on true
    where r.kind = 'Sequence'`,
  insertVersion: "insert into sequence_versions (sequence, version, spec, fingerprint, created_serial) values ($1, $2, $3, $4, $5)",
  recordStepSnapshot: `
    insert into campaign_sends (campaign, started_serial, snapshot, recipients, sequence, sequence_version, step)
    values ($1, $2, $3, 0, $4, $5, $6)`,
  stepSnapshots: "select step from campaign_sends where sequence = $1 and sequence_version = $2 order by step",
  version: "select spec from sequence_versions where sequence = $1 and version = $2",
  /** Active enrollments per sequence and version (plan and apply). */
  activeCounts: "select sequence, version, count(*)::int as active from enrollments where status = 'active' group by sequence, version",
  activeOnOlderVersions: "select id, version, step from enrollments where sequence = $1 and status = 'active' and version < $2 order by subscriber_id for update",
  migrate: `
    update enrollments e set version = $2, step = m.step, updated_at = now()
    from unnest($1::uuid[], $3::int[]) as m (id, step)
    where e.id = m.id`,
  /** Rows locked in subscriber order, as every other multi-row lock on enrollments, so concurrent lockers queue instead of deadlocking. */
  exitAll: `
    with target as (
      select id from enrollments where sequence = $1 and status = 'active' order by subscriber_id for update
    ), exited as (
      update enrollments e set status = 'exited', exit_reason = $2, next_run_at = null, ended_at = $3, updated_at = now()
      from target where e.id = target.id
      returning e.id, e.version, e.step
    )
    insert into enrollment_history (enrollment_id, version, step, kind, outcome, at)
    select id, version, step, 'exit', $2, $3 from exited`,

  /**
   * The applied sequences a batch of event names triggers, share-locked in
   * name order (as apply locks them, see lockSequences): an apply that
   * versions, migrates or deletes one waits for this ingest and then sees its
   * enrollments, or this waits for the apply and then reads what it wrote.
   */
  lockTriggered: `
    select name from resources
    where kind = 'Sequence' and spec -> 'trigger' ->> 'event' = any($1::text[])
    order by name
    for share`,
  /** The newest version of each (read after the lock, so an apply that just committed is seen). */
  newestVersions: `
    select distinct on (sequence) sequence as name, version, spec
    from sequence_versions where sequence = any($1::text[])
    order by sequence, version desc`,
  /** Apply takes every sequence's row first, in name order, before it writes any resource. */
  lockSequences: "select name from resources where kind = 'Sequence' order by name for update",
  projectTimezone: "select spec -> 'defaults' ->> 'timezone' as timezone from resources where kind = 'Project'",
  /** The applied project's topics (schemas/project.ts), for sequences about one. */
  projectTopics: "select coalesce(spec -> 'topics', '[]') as topics from resources where kind = 'Project'",

  /** Due enrollments, locked for this transaction: a worker that dies releases them by dying. */
  claim: `
    select id, sequence, version, subscriber_id, step, next_run_at
    from enrollments
    where status = 'active' and next_run_at <= $1
    order by next_run_at
    limit $2
    for update skip locked`,
  recipients: `
    select s.id, s.email, s.timezone, s.consent, x.reason as suppressed,
           (select coalesce(jsonb_object_agg(c.topic, c.granted), '{}') from consent_state c where c.subscriber_id = s.id and c.topic <> '') as topics
    from subscribers s left join suppressions x on x.email = s.email
    where s.id = any($1::bigint[])`,
  /** Due at once by the database's clock: the sequence's own clock already decided the step is due. */
  queueSends: `
    insert into sends (campaign, subscriber_id, email, timezone, enrollment_id, due_at)
    select *, now() from unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::uuid[])
    on conflict (campaign, subscriber_id, enrollment_id, signup_id, message_key) do nothing`,
  settle: `
    update enrollments e set step = u.step, status = u.status, next_run_at = u.next_run_at,
      exit_reason = u.exit_reason, ended_at = u.ended_at, updated_at = now()
    from unnest($1::uuid[], $2::int[], $3::text[], $4::timestamptz[], $5::text[], $6::timestamptz[])
      as u (id, step, status, next_run_at, exit_reason, ended_at)
    where e.id = u.id`,
  history: `
    insert into enrollment_history (enrollment_id, version, step, kind, outcome, at)
    select * from unnest($1::uuid[], $2::int[], $3::int[], $4::text[], $5::text[], $6::timestamptz[])`,
  timerLag: `
    select count(*)::int as due, coalesce(extract(epoch from $1::timestamptz - min(next_run_at)), 0)::float8 as lag_seconds
    from enrollments where status = 'active' and next_run_at <= $1`,
  activeBySequence: "select sequence, count(*)::int as active from enrollments where status = 'active' group by sequence",

  /** One subscriber's enrollments in a sequence, oldest first, and what each did. */
  subscriberEnrollments: `
    select e.id, e.version, e.status, e.step, e.next_run_at, e.exit_reason, e.enrolled_at, e.ended_at, e.trigger_key
    from enrollments e join subscribers s on s.id = e.subscriber_id
    where e.sequence = $1 and s.email = $2
    order by e.enrolled_at, e.id`,
  enrollmentHistory: "select enrollment_id, version, step, kind, outcome, at from enrollment_history where enrollment_id = any($1::uuid[]) order by id",

  applied: "select 1 from resources where kind = 'Sequence' and name = $1",
  /** Report: enrollments by status and exit reason. */
  reportStatuses: `
    select status, exit_reason, count(*)::int as n from enrollments where sequence = $1 group by status, exit_reason order by status, exit_reason`,
  reportVersions: "select version, spec, created_at from sequence_versions where sequence = $1 order by version",
  /** How many enrollments ran each step, with how that went. */
  reportSteps: `
    select h.version, h.step, h.kind, h.outcome, count(*)::int as n
    from enrollment_history h join enrollments e on e.id = h.enrollment_id
    where e.sequence = $1 and h.kind in ('send', 'wait', 'if')
    group by h.version, h.step, h.kind, h.outcome`,
  /** Engagement per send step, from the campaign analytics of each step's ledger key. */
  reportStepEngagement: `
    select c.sequence_version as version, c.step, c.campaign,
      coalesce(sum(n.sent), 0)::bigint as sent, coalesce(sum(n.delivered), 0)::bigint as delivered, coalesce(sum(n.opened), 0)::bigint as opened,
      coalesce(sum(n.clicked), 0)::bigint as clicked, coalesce(sum(n.human_opened), 0)::bigint as human_opened,
      coalesce(sum(n.human_clicked), 0)::bigint as human_clicked, coalesce(sum(n.converted), 0)::bigint as converted,
      coalesce(sum(n.bounced), 0)::bigint as bounced, coalesce(sum(n.unsubscribed), 0)::bigint as unsubscribed
    from campaign_sends c left join campaign_counts n on n.campaign = c.campaign
    where c.sequence = $1
    group by c.sequence_version, c.step, c.campaign`,
} as const;
