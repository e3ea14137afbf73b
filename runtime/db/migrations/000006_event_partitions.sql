-- Up Migration

-- One partition of events per calendar month (UTC), created ahead of time by
-- the runtime. A month that already has rows in the default partition (events
-- that arrived before its partition existed) has them moved in, in the same
-- transaction, so no event is lost or duplicated. Old months can be detached
-- (ALTER TABLE events DETACH PARTITION events_2026_01) and archived.
create function mk_ensure_event_partition(month date) returns boolean
language plpgsql as $$
declare
  first_day date := date_trunc('month', month)::date;
  next_day date := (date_trunc('month', month) + interval '1 month')::date;
  name text := format('events_%s', to_char(first_day, 'YYYY_MM'));
begin
  if to_regclass(name) is not null then
    return false;
  end if;
  -- Serialise with other runtimes doing the same, and with inserts into this range.
  lock table events_default in share row exclusive mode;
  if to_regclass(name) is not null then
    return false;
  end if;
  execute format('create table %I (like events including defaults including constraints)', name);
  execute format(
    'with moved as (delete from events_default where occurred_at >= %L and occurred_at < %L returning *) insert into %I select * from moved',
    first_day, next_day, name);
  execute format('alter table events attach partition %I for values from (%L) to (%L)', name, first_day, next_day);
  return true;
end;
$$;

-- Down Migration
drop function mk_ensure_event_partition(date);
