-- Up Migration

-- Proofs (`mk send test`, POST /v1/sends/test) that the outbox transport
-- delivered: kept apart from outbox, whose rows each belong to a ledger row,
-- because a proof has none: it is in no campaign's sends, report or rollup.
-- GET /v1/outbox lists both.
create table proof_outbox (
  id uuid primary key default gen_random_uuid(),
  campaign text not null,
  recipient text not null,
  sender text not null,
  subject text not null,
  html text not null,
  text text not null,
  headers jsonb not null,
  created_at timestamptz not null default clock_timestamp()
);
create index proof_outbox_created on proof_outbox (created_at desc);

-- Down Migration
drop table proof_outbox;
