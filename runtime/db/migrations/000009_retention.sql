-- Up Migration

-- How long purchases, refunds and the tax ledger are kept (MK_RETENTION_YEARS,
-- written by the runtime at start; 10 years until it does).
create table retention (
  only_row boolean primary key default true check (only_row),
  years integer not null default 10 check (years >= 1)
);
insert into retention default values;

-- The one way to archive a month of events: detach its partition. Refused
-- while the month still holds purchases or refunds inside the retention period
-- (tax records); engagement-only months can go whenever. Nothing in mk detaches
-- or drops partitions on its own; tax_ledger is never partitioned or pruned.
create function mk_detach_event_partition(month date) returns text
language plpgsql as $$
declare
  first_day date := date_trunc('month', month)::date;
  next_day date := (date_trunc('month', month) + interval '1 month')::date;
  partition_name text := format('events_%s', to_char(first_day, 'YYYY_MM'));
  keep_years integer := (select years from retention);
begin
  if to_regclass(partition_name) is null then
    raise exception 'there is no partition % to detach', partition_name using errcode = 'undefined_table';
  end if;
  if next_day + make_interval(years => keep_years) > current_date
     and exists (select 1 from events e where e.occurred_at >= first_day and e.occurred_at < next_day and e.name in ('purchase', 'refund')) then
    raise exception '% holds purchases or refunds, kept for % years (until %): not detached', partition_name, keep_years, next_day + make_interval(years => keep_years)
      using errcode = 'insufficient_privilege';
  end if;
  execute format('alter table events detach partition %I', partition_name);
  return partition_name;
end;
$$;

-- Down Migration
drop function mk_detach_event_partition(date);
drop table retention;
