-- Up Migration

-- Transactional messages (messages/<name>.yaml, POST /v1/messages/:name) go
-- through the send ledger: a campaign_sends row per applied version of a
-- message (its snapshot, key "message:<name>/<hash>"), and a sends row per
-- request. Such a row needs no subscriber: a receipt may go to an address
-- that never subscribed, and a subscriber row made for it would put that
-- address into every audience (a transactional campaign mails an audience
-- without consent). When the address is a subscriber's, the row names them.
alter table campaign_sends add column message text;
alter table sends add column message_key text;
alter table sends drop constraint sends_subscriber_or_signup;
alter table sends add constraint sends_recipient check (subscriber_id is not null or signup_id is not null or message_key is not null);
-- One row per (campaign, subscriber, enrollment, signup) as before, except for
-- messages: one subscriber gets many receipts of one version, one row per
-- request, whose idempotency key (message_requests) makes it once. Its
-- message_key, "<key>/<send id>", is unique for ever (a key is free again
-- after 24 hours) and the constraint's last column, null on every other row:
-- the constraint still leads with campaign for every query by campaign and
-- subscriber (attribution, reports, the ledger's fill).
alter table sends drop constraint sends_recipient_key;
alter table sends add constraint sends_recipient_key unique nulls not distinct (campaign, subscriber_id, enrollment_id, signup_id, message_key);
-- Erasure finds the rows of an address that is no subscriber by the address.
create index sends_message_email on sends (email) where message_key is not null;

-- Idempotency keys of POST /v1/messages/:name, kept 24 hours (longer while
-- their message is still on its way, whose data is here): the first
-- request with a key inserts its row (on conflict do nothing), writes its
-- ledger row and its answer in the same transaction; a concurrent request
-- with the key waits on the unique index until that commits, then reads the
-- answer. A refused request (an unknown subscriber, a suppressed address)
-- rolls back and keeps nothing. The request's data lives here for the worker
-- to compose it, and goes with the address on erasure (the row names it).
create table message_requests (
  idempotency_key text primary key,
  message text not null,
  email text not null check (email = lower(email)),
  -- SHA-256 of the request (message, recipient, data, locale): the key sent again with another request is refused.
  request_hash text not null check (request_hash ~ '^[0-9a-f]{64}$'),
  data jsonb not null,
  -- The locale the request asked for (else the subscriber's, else the project's default).
  locale text,
  -- The first answer's body, given again to every request with the key.
  response text not null,
  -- Written with the row, before its ledger row in the same transaction (checked at commit).
  send_id uuid not null references sends (id) on delete cascade deferrable initially deferred,
  created_at timestamptz not null default now()
);
create index message_requests_created on message_requests (created_at);
create index message_requests_send on message_requests (send_id);

-- A token scope of its own for POST /v1/messages/:name.
alter table api_tokens drop constraint api_tokens_scope_check;
alter table api_tokens add constraint api_tokens_scope_check check (scope in ('admin', 'apply', 'plan', 'ingest', 'report', 'messages'));

-- Down Migration
-- Tokens of the scope that goes away are revoked (never deleted: names stay taken), under a scope the old check knows.
update api_tokens set revoked_at = coalesce(revoked_at, now()), scope = 'report' where scope = 'messages';
alter table api_tokens drop constraint api_tokens_scope_check;
alter table api_tokens add constraint api_tokens_scope_check check (scope in ('admin', 'apply', 'plan', 'ingest', 'report'));
drop table message_requests;
delete from sends where message_key is not null;
drop index sends_message_email;
alter table sends drop constraint sends_recipient_key;
alter table sends add constraint sends_recipient_key unique nulls not distinct (campaign, subscriber_id, enrollment_id, signup_id);
alter table sends drop constraint sends_recipient;
alter table sends add constraint sends_subscriber_or_signup check (subscriber_id is not null or signup_id is not null);
alter table sends drop column message_key;
delete from campaign_sends where message is not null;
alter table campaign_sends drop column message;
