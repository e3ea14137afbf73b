-- Up Migration

-- Consent with proof: every grant and withdrawal, per subscriber and topic
-- ('' = marketing mail as a whole, else a topic of mk.yaml), where it came
-- from (import "file:line", the API token's name, the unsubscribe link, a
-- bounce …), when, from which IP and user agent, and the hash of the consent
-- text shown. Append-only: rows go only with their subscriber (erasure).
create table consent_events (
  id bigint generated always as identity primary key,
  subscriber_id bigint not null references subscribers (id) on delete cascade,
  topic text not null default '',
  action text not null check (action in ('granted', 'withdrawn')),
  source text not null check (source in ('import', 'api', 'form', 'preference-page', 'unsubscribe-link', 'bounce', 'complaint', 'migrated')),
  source_detail text,
  occurred_at timestamptz not null default now(),
  ip inet,
  user_agent text,
  text_hash text check (text_hash ~ '^[0-9a-f]{64}$'),
  evidence jsonb check (evidence is null or jsonb_typeof(evidence) = 'object')
);
create index consent_events_subscriber on consent_events (subscriber_id, id);

-- The current state the history derives, kept by the trigger below in the
-- inserting transaction, for send filtering. A topic without a row has its
-- default (opt-out topics: in; opt-in topics: out).
create table consent_state (
  subscriber_id bigint not null references subscribers (id) on delete cascade,
  topic text not null,
  granted boolean not null,
  event_id bigint not null,
  changed_at timestamptz not null,
  primary key (subscriber_id, topic)
);

create function mk_consent_events_append_only() returns trigger
language plpgsql as $$
begin
  -- Erasure deletes the subscriber; its history goes with it by the cascade.
  if tg_op = 'DELETE' and not exists (select 1 from subscribers where id = old.subscriber_id) then
    return old;
  end if;
  raise exception 'consent_events is append-only: % refused', tg_op using errcode = '42501';
end $$;
create trigger consent_events_append_only before update or delete on consent_events for each row
  execute function mk_consent_events_append_only();

-- Each event becomes its topic's current state; the whole-list one ('') is
-- also subscribers.consent, which audiences and sending read.
create function mk_consent_events_apply() returns trigger
language plpgsql as $$
begin
  insert into consent_state as c (subscriber_id, topic, granted, event_id, changed_at)
  values (new.subscriber_id, new.topic, new.action = 'granted', new.id, new.occurred_at)
  on conflict (subscriber_id, topic) do update
    set granted = excluded.granted, event_id = excluded.event_id, changed_at = excluded.changed_at;
  if new.topic = '' then
    update subscribers set consent = case when new.action = 'granted' then 'marketing' end, updated_at = now()
    where id = new.subscriber_id and consent is distinct from case when new.action = 'granted' then 'marketing' end;
  end if;
  return null;
end $$;
create trigger consent_events_apply after insert on consent_events for each row
  execute function mk_consent_events_apply();

-- Consent given before there was a history.
insert into consent_events (subscriber_id, topic, action, source, source_detail, occurred_at)
select id, '', 'granted', 'migrated', 'consent before migration 000014', updated_at
from subscribers where consent = 'marketing' order by id;

-- Down Migration
drop table consent_state;
drop trigger consent_events_append_only on consent_events;
drop function mk_consent_events_append_only();
drop table consent_events;
drop function mk_consent_events_apply();
