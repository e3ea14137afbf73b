-- Up Migration

-- What POST /v1/events stores beside the name and time the audiences read.
alter table events add column idempotency_key text;
alter table events add column amount_minor bigint check (amount_minor >= 0);
alter table events add column currency char(3);
alter table events add column country char(2);
alter table events add column ip inet;
alter table events add column utm jsonb;
alter table events add column received_at timestamptz not null default now();
alter table events add constraint events_amount_has_currency check ((amount_minor is null) = (currency is null));

-- Idempotency keys, one row per key forever. Not partitioned: a unique key on
-- the partitioned events table would have to include occurred_at, and a retry
-- with another occurredAt must still be a duplicate.
create table event_keys (
  idempotency_key text primary key,
  received_at timestamptz not null default now()
);

-- Events that failed validation, with why and exactly what was sent.
create table event_dead_letters (
  id bigint generated always as identity primary key,
  idempotency_key text,
  reason text not null,
  -- The event as sent, JSON text: kept even when PostgreSQL could not store it as jsonb (a NUL character).
  payload text not null,
  received_at timestamptz not null default now(),
  replayed_at timestamptz
);
create index event_dead_letters_pending on event_dead_letters (id) where replayed_at is null;

-- Down Migration
drop table event_dead_letters;
drop table event_keys;
alter table events drop constraint events_amount_has_currency;
alter table events drop column received_at;
alter table events drop column utm;
alter table events drop column ip;
alter table events drop column country;
alter table events drop column currency;
alter table events drop column amount_minor;
alter table events drop column idempotency_key;
