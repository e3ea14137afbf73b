-- Up Migration

-- Sends reaching 'sent' or 'failed' are counted once per statement instead of
-- once per row: a worker settles its whole batch in one UPDATE, and the row
-- trigger of 000007 wrote one delta and looked up one subscriber per message.
-- The same counts, summed by campaign, variant, day and country as the fold
-- sums them anyway.
drop trigger sends_rollup_deltas on sends;
create or replace function mk_sends_to_rollup_deltas() returns trigger
language plpgsql as $$
begin
  insert into campaign_rollup_deltas (campaign, variant, day, country, sent, failed)
  select n.campaign, coalesce(n.variant, ''), (coalesce(n.sent_at, now()) at time zone 'UTC')::date, coalesce(sub.country, 'ZZ'),
    (count(*) filter (where n.status = 'sent'))::int, (count(*) filter (where n.status = 'failed'))::int
  from settled_new n
  join settled_old o on o.id = n.id
  left join subscribers sub on sub.id = n.subscriber_id
  where n.status in ('sent', 'failed') and o.status is distinct from n.status
  group by 1, 2, 3, 4;
  return null;
end;
$$;
create trigger sends_rollup_deltas after update on sends
  referencing old table as settled_old new table as settled_new
  for each statement execute function mk_sends_to_rollup_deltas();

-- Down Migration
drop trigger sends_rollup_deltas on sends;
create or replace function mk_sends_to_rollup_deltas() returns trigger
language plpgsql as $$
begin
  insert into campaign_rollup_deltas (campaign, variant, day, country, sent, failed)
  values (new.campaign, coalesce(new.variant, ''), (coalesce(new.sent_at, now()) at time zone 'UTC')::date,
    coalesce((select country from subscribers where id = new.subscriber_id), 'ZZ'),
    (new.status = 'sent')::int, (new.status = 'failed')::int);
  return null;
end;
$$;
create trigger sends_rollup_deltas after update on sends for each row
  when (new.status in ('sent', 'failed') and old.status is distinct from new.status)
  execute function mk_sends_to_rollup_deltas();
