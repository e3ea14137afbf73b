-- Up Migration

-- The consent history's current state (migration 000014) is kept once per
-- statement instead of once per event: an import batch writes thousands of
-- events in one INSERT, and each of them upserting consent_state and
-- updating its subscriber on its own cost more than the import's other
-- writes together. Same result: the last event of a subscriber and topic in
-- the statement (the highest id) is its state, and the whole-list one ('')
-- is also subscribers.consent.
drop trigger consent_events_apply on consent_events;

create or replace function mk_consent_events_apply() returns trigger
language plpgsql as $$
begin
  insert into consent_state as c (subscriber_id, topic, granted, event_id, changed_at)
  select distinct on (subscriber_id, topic) subscriber_id, topic, action = 'granted', id, occurred_at
  from new_events
  order by subscriber_id, topic, id desc
  on conflict (subscriber_id, topic) do update
    set granted = excluded.granted, event_id = excluded.event_id, changed_at = excluded.changed_at;
  update subscribers s set consent = e.consent, updated_at = now()
  from (
    select distinct on (subscriber_id) subscriber_id, case when action = 'granted' then 'marketing' end as consent
    from new_events
    where topic = ''
    order by subscriber_id, id desc
  ) e
  where s.id = e.subscriber_id and s.consent is distinct from e.consent;
  return null;
end $$;

create trigger consent_events_apply after insert on consent_events
  referencing new table as new_events
  for each statement execute function mk_consent_events_apply();

-- Down Migration
drop trigger consent_events_apply on consent_events;

create or replace function mk_consent_events_apply() returns trigger
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
