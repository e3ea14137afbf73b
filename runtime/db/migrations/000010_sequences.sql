-- Up Migration

-- Sequences: event-triggered journeys, each enrollment a small durable state
-- machine worked by the runtime's sequence workers.

-- Every applied version of a sequence, as written. An apply that changes a
-- sequence adds a version; enrollments stay on the version they started on
-- (unless the sequence says `migrate: by-step-name`). Versions outlive a
-- deleted sequence, so its enrollments' history and reports stay readable.
create table sequence_versions (
  sequence text not null,
  version integer not null check (version > 0),
  spec jsonb not null,
  -- The spec with every send step's snapshot (HTML, links, sender): a template
  -- or project change that alters what a step sends also makes a new version.
  fingerprint text not null,
  created_serial bigint not null,
  created_at timestamptz not null default now(),
  primary key (sequence, version)
);

-- One row per enrollment: a subscriber entering a sequence because of one event.
--   active     step is the next step to run, at next_run_at
--   completed  every step ran
--   exited     left early: exit_reason says why (a step's condition, unsubscribe,
--              bounce, complaint, no consent, the sequence deleted)
--   failed     a step could not run (exit_reason has the error)
-- Times are the runtime's clock (injectable in tests), except an exit by
-- suppression, which the database records with its own now().
create table enrollments (
  id uuid primary key default gen_random_uuid(),
  sequence text not null,
  version integer not null,
  subscriber_id bigint not null references subscribers (id) on delete cascade,
  -- The idempotency key of the event that triggered it: one enrollment per event.
  trigger_key text not null,
  -- false for `reenter: true` sequences, whose subscribers may be enrolled several times at once.
  exclusive boolean not null,
  status text not null default 'active' check (status in ('active', 'completed', 'exited', 'failed')),
  step integer not null default 0 check (step >= 0),
  next_run_at timestamptz,
  exit_reason text,
  enrolled_at timestamptz not null,
  ended_at timestamptz,
  updated_at timestamptz not null default now(),
  foreign key (sequence, version) references sequence_versions (sequence, version),
  unique (sequence, trigger_key),
  check ((status = 'active') = (next_run_at is not null))
);
-- By default a subscriber is in a sequence at most once at a time; concurrent
-- triggers in different transactions meet here.
create unique index enrollments_one_active on enrollments (sequence, subscriber_id) where status = 'active' and exclusive;
create index enrollments_due on enrollments (next_run_at) where status = 'active';
create index enrollments_subscriber on enrollments (subscriber_id, sequence, enrolled_at);
create index enrollments_sequence on enrollments (sequence, status);
-- Active enrollments per sequence and version: plan, apply and every metrics scrape count them.
create index enrollments_active on enrollments (sequence, version) where status = 'active';

-- What each enrollment did, step by step. A step (send, wait, condition) runs
-- at most once per enrollment and version: the unique index makes a second
-- run impossible, whatever a worker believes.
create table enrollment_history (
  id bigint generated always as identity primary key,
  enrollment_id uuid not null references enrollments (id) on delete cascade,
  version integer not null,
  step integer not null,
  kind text not null check (kind in ('send', 'wait', 'if', 'exit', 'complete', 'migrate')),
  outcome text not null,
  at timestamptz not null
);
create unique index enrollment_history_step_once on enrollment_history (enrollment_id, version, step) where kind in ('send', 'wait', 'if');
create index enrollment_history_enrollment on enrollment_history (enrollment_id, id);

-- A sequence's send steps use the campaign send ledger: each (version, send
-- step) has its own campaign_sends row (the step's snapshot, key
-- "<sequence>/v<version>/step-<n>", never a campaign name), and a ledger row per
-- enrollment and step instead of per subscriber.
alter table campaign_sends add column sequence text;
alter table campaign_sends add column sequence_version integer;
alter table campaign_sends add column step integer;
alter table campaign_sends add constraint campaign_sends_sequence_step
  check ((sequence is null) = (step is null) and (sequence is null) = (sequence_version is null));

-- One key serves both (PostgreSQL 15+ for NULLS NOT DISTINCT): a campaign row
-- (enrollment_id null) once per subscriber, a step's row once per enrollment;
-- and it still answers lookups by (campaign, subscriber).
alter table sends add column enrollment_id uuid references enrollments (id) on delete cascade;
alter table sends drop constraint sends_campaign_subscriber_id_key;
alter table sends add constraint sends_recipient_key unique nulls not distinct (campaign, subscriber_id, enrollment_id);

-- An unsubscribe, a hard bounce or a complaint ends the subscriber's active
-- enrollments at once, whichever path recorded it (link, webhook, import).
create function mk_exit_suppressed_enrollments() returns trigger
language plpgsql as $$
begin
  with exited as (
    update enrollments e set status = 'exited', exit_reason = new.reason, next_run_at = null, ended_at = now(), updated_at = now()
    from subscribers s
    where s.email = new.email and e.subscriber_id = s.id and e.status = 'active'
    returning e.id, e.version, e.step
  )
  insert into enrollment_history (enrollment_id, version, step, kind, outcome, at)
  select id, version, step, 'exit', new.reason, now() from exited;
  return null;
end $$;
create trigger suppressions_exit_enrollments after insert on suppressions for each row
  execute function mk_exit_suppressed_enrollments();

-- Down Migration
drop trigger suppressions_exit_enrollments on suppressions;
drop function mk_exit_suppressed_enrollments();
alter table sends drop constraint sends_recipient_key;
delete from sends where enrollment_id is not null;
alter table sends add constraint sends_campaign_subscriber_id_key unique (campaign, subscriber_id);
alter table sends drop column enrollment_id;
delete from campaign_sends where sequence is not null;
alter table campaign_sends drop constraint campaign_sends_sequence_step;
alter table campaign_sends drop column step;
alter table campaign_sends drop column sequence_version;
alter table campaign_sends drop column sequence;
drop table enrollment_history;
drop table enrollments;
drop table sequence_versions;
