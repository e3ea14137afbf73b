-- Up Migration

-- A campaign's send, fixed when it starts: the variants with their compiled
-- HTML hashes and tracked links, the sender, UTM and project settings as they
-- were, so later applies cannot change mail already on its way.
create table campaign_sends (
  campaign text primary key,
  started_at timestamptz not null default now(),
  started_serial bigint not null,
  snapshot jsonb not null,
  recipients integer not null
);

-- Addresses never mailed again: unsubscribes, hard bounces, complaints.
create table suppressions (
  email text primary key check (email = lower(email)),
  reason text not null check (reason in ('unsubscribe', 'bounce', 'complaint', 'manual')),
  source text,
  created_at timestamptz not null default now()
);

-- The send ledger: one row per (campaign, subscriber), created when the
-- campaign starts. Workers claim rows with FOR UPDATE SKIP LOCKED and a lease.
--   queued     waiting for due_at
--   claimed    leased by a worker, not yet handed to a transport (safe to requeue)
--   sending    handed to a transport; if the lease runs out here, the outcome is unknown
--   sent       the provider accepted it (provider_message_id)
--   failed     refused for good, or out of attempts (last_error)
--   suppressed the address was suppressed before its turn came
--   ambiguous  the lease ran out while sending: settled by a provider event, never resent by itself
create table sends (
  id uuid primary key default gen_random_uuid(),
  campaign text not null references campaign_sends (campaign),
  subscriber_id bigint not null references subscribers (id) on delete cascade,
  email text not null,
  -- The A/B variant, null when the campaign has none.
  variant text,
  timezone text not null,
  status text not null default 'queued'
    check (status in ('queued', 'claimed', 'sending', 'sent', 'failed', 'suppressed', 'ambiguous')),
  due_at timestamptz not null,
  attempts integer not null default 0,
  lease_until timestamptz,
  leased_by text,
  transport text,
  provider_message_id text,
  last_error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  sent_at timestamptz,
  unique (campaign, subscriber_id)
);
create index sends_due on sends (due_at) where status = 'queued';
create index sends_leased on sends (lease_until) where status in ('claimed', 'sending');
create index sends_ambiguous on sends (campaign) where status = 'ambiguous';

-- The outbox transport: each message stored with its ledger update, in one
-- transaction. Unique by send, so a message can never be written twice.
create table outbox (
  send_id uuid primary key references sends (id) on delete cascade,
  campaign text not null,
  recipient text not null,
  sender text not null,
  subject text not null,
  html text not null,
  text text not null,
  headers jsonb not null,
  created_at timestamptz not null default clock_timestamp()
);
create index outbox_created on outbox (created_at desc);

-- Engagement the public links record; the event-ingestion work widens this.
alter table events add column send_id uuid;
alter table events add column data jsonb not null default '{}';

-- Down Migration
alter table events drop column data;
alter table events drop column send_id;
drop table outbox;
drop table sends;
drop table suppressions;
drop table campaign_sends;
