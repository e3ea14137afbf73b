-- Up Migration

-- Signups through a form (POST /f/<form>), pending until their confirmation
-- link is followed (double opt-in) and purged once expired: what was asked
-- (form, address, first name, topics), the evidence of the request (time, IP,
-- user agent, the hash of the consent text shown) and the link's token as a
-- SHA-256 digest only. Confirming turns it into consent events with proof.
create table signups (
  id bigint generated always as identity primary key,
  form text not null,
  email text not null check (email = lower(email)),
  first_name text,
  topics text[] not null default '{}',
  requested_at timestamptz not null default now(),
  ip inet,
  user_agent text,
  text_hash text not null check (text_hash ~ '^[0-9a-f]{64}$'),
  token_digest bytea not null unique check (length(token_digest) = 32),
  expires_at timestamptz not null,
  confirmed_at timestamptz,
  -- Confirmation emails sent for this address and form today, this one included.
  resend_count integer not null default 0
);
create index signups_address on signups (email, form, requested_at desc);
create index signups_expiry on signups (expires_at);

-- A form's confirmation email goes through the send ledger: a campaign_sends
-- row per form version (its snapshot), and a sends row per pending signup,
-- which has no subscriber yet. It goes with its signup.
alter table campaign_sends add column form text;
alter table sends alter column subscriber_id drop not null;
alter table sends add column signup_id bigint references signups (id) on delete cascade;
alter table sends add constraint sends_subscriber_or_signup check (subscriber_id is not null or signup_id is not null);
create index sends_signup on sends (signup_id) where signup_id is not null;
-- One row per (campaign, subscriber, enrollment) as before, and per signup.
alter table sends drop constraint sends_recipient_key;
alter table sends add constraint sends_recipient_key unique nulls not distinct (campaign, subscriber_id, enrollment_id, signup_id);

-- Down Migration
delete from sends where subscriber_id is null;
alter table sends drop constraint sends_recipient_key;
alter table sends add constraint sends_recipient_key unique nulls not distinct (campaign, subscriber_id, enrollment_id);
alter table sends drop constraint sends_subscriber_or_signup;
alter table sends drop column signup_id;
alter table sends alter column subscriber_id set not null;
delete from campaign_sends where form is not null;
alter table campaign_sends drop column form;
drop table signups;
