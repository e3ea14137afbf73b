-- Up Migration

-- A campaign's start, written outside the state lock. The lock is held only to
-- fix the campaign (campaign_sends) and record this row: how its recipients
-- are chosen (the audiences as they were, consent, topic, geofence, budget,
-- variants, schedule) and the last subscriber id there was. The ledger is then
-- written in chunks of subscribers in id order, each chunk's sends rows and
-- the id it reached (after_id) in one transaction, so a start cut short
-- resumes where it stopped, never writing a recipient twice or skipping one.
create table campaign_starts (
  campaign text primary key references campaign_sends (campaign) on delete cascade,
  plan jsonb not null check (jsonb_typeof(plan) = 'object'),
  -- Subscribers up to this id are the start's to consider; later ones are not.
  through_id bigint not null,
  -- Every subscriber up to this id has been considered (0: none yet).
  after_id bigint not null default 0,
  finished_at timestamptz
);
create index campaign_starts_unfinished on campaign_starts (campaign) where finished_at is null;

-- Down Migration
drop table campaign_starts;
