-- Up Migration

-- Which key made each ledger entry's hash: null for plain SHA-256 (entries
-- written while MK_LEDGER_KEY was unset), else the key's id, the first 16 hex
-- digits of HMAC-SHA-256(key, 'mk-ledger-key-id'), for HMAC-SHA-256 with that
-- key. A chain switches from unkeyed to keyed at most once, never back
-- (runtime/tax/verify.ts).
alter table tax_ledger add column key_id text check (key_id ~ '^[0-9a-f]{16}$');

-- tax_daily is kept by the database as entries are appended, no longer by the
-- runtime: a runtime role that may only append to tax_ledger and read
-- tax_daily (MK_MIGRATION_DATABASE_URL) cannot be allowed to update it, so
-- this function runs as its owner (security definer). It adds the statement's
-- new entries to their days, keys in a fixed order (concurrent writers wait
-- for each other, never deadlock), within the appender's transaction and
-- under its chain locks, as before.
create function mk_add_to_tax_daily() returns trigger
language plpgsql security definer as $$
begin
  insert into tax_daily as d (country, tax_date, currency, lines, net_minor, tax_minor, gross_minor)
  select country, tax_date, currency, count(*), sum(net_minor), sum(tax_minor), sum(gross_minor)
  from added
  group by 1, 2, 3
  order by 1, 2, 3
  on conflict (country, tax_date, currency) do update set lines = d.lines + excluded.lines, net_minor = d.net_minor + excluded.net_minor,
    tax_minor = d.tax_minor + excluded.tax_minor, gross_minor = d.gross_minor + excluded.gross_minor;
  return null;
end;
$$;
create trigger tax_ledger_daily after insert on tax_ledger
  referencing new table as added for each statement execute function mk_add_to_tax_daily();

-- Creating a month's partition of events (CREATE TABLE, ATTACH PARTITION)
-- needs the owner of events: the function runs as its owner, so a runtime
-- role that owns nothing still creates them. Detaching stays with the owner
-- (mk_detach_event_partition runs as whoever calls it).
alter function mk_ensure_event_partition(date) security definer;

-- Functions that run as their owner resolve names in this schema only, with
-- temporary tables last: a caller cannot shadow what they use.
do $$
begin
  execute format('alter function mk_add_to_tax_daily() set search_path = %I, pg_temp', current_schema());
  execute format('alter function mk_ensure_event_partition(date) set search_path = %I, pg_temp', current_schema());
end;
$$;

-- Run by the migration role (MK_MIGRATION_DATABASE_URL) after every migrate:
-- the runtime's role (DATABASE_URL's) gets what it uses and no more. Every
-- table of this schema: select, insert, update, delete; tax_ledger select and
-- insert (append-only, and not its owner, so it can neither disable the
-- triggers nor rewrite rows); tax_daily and mk_migrations select; the
-- sequences usage. Earlier grants are revoked first, so running it again
-- changes nothing, and tables later migrations add are covered next time.
-- Refused when the runtime's role could act as the owner anyway.
create function mk_grant_runtime_role(runtime_role name) returns void
language plpgsql as $$
declare
  owner_role name := current_user;
  target_schema name := current_schema();
  item record;
begin
  -- Replicas start together, and concurrent GRANTs on one table can fail.
  perform pg_advisory_xact_lock(hashtext('mk_grant_runtime_role'));
  if runtime_role = owner_role or pg_has_role(runtime_role, owner_role, 'MEMBER') or (select rolsuper from pg_roles where rolname = runtime_role) then
    raise exception 'the runtime''s role % can act as %, the role migrations run as (it is that role, a member of it, or a superuser), so it could still rewrite the tax ledger: give DATABASE_URL a role of its own', runtime_role, owner_role
      using errcode = 'invalid_grant_operation';
  end if;
  execute format('grant usage on schema %I to %I', target_schema, runtime_role);
  for item in
    select c.relname, pg_get_userbyid(c.relowner) as relowner
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = target_schema and c.relkind in ('r', 'p') and not c.relispartition
    order by c.relname
  loop
    if item.relowner <> owner_role then
      raise exception 'table % is owned by %, not by %, the role migrations run as (MK_MIGRATION_DATABASE_URL): migrate as %, or run REASSIGN OWNED BY % TO % as a superuser', item.relname, item.relowner, owner_role, item.relowner, item.relowner, owner_role
        using errcode = 'invalid_grant_operation';
    end if;
    execute format('revoke all on table %I from %I', item.relname, runtime_role);
    execute format('grant %s on table %I to %I',
      case item.relname when 'tax_ledger' then 'select, insert' when 'tax_daily' then 'select' when 'mk_migrations' then 'select' else 'select, insert, update, delete' end,
      item.relname, runtime_role);
  end loop;
  execute format('grant usage, select on all sequences in schema %I to %I', target_schema, runtime_role);
end;
$$;

-- Down Migration
drop function mk_grant_runtime_role(name);
alter function mk_ensure_event_partition(date) security invoker reset search_path;
drop trigger tax_ledger_daily on tax_ledger;
drop function mk_add_to_tax_daily();
alter table tax_ledger drop column key_id;
