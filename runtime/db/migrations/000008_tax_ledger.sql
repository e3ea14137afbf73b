-- Up Migration

-- The VAT/GST rate in force where and when a purchase or refund happened,
-- fixed at ingest so that a later rate change never rewrites history.
alter table events add column region text;
alter table events add column tax_rate numeric(9, 5);
alter table events add column tax_type text;

-- The tax ledger: one entry per purchase or refund, written with the event.
-- Amounts are minor units of the transaction currency; refunds are negative.
-- Write-once: the triggers below refuse UPDATE, DELETE and TRUNCATE (even by a
-- superuser, unless triggers are disabled), and every entry carries a SHA-256
-- hash over its fields and the previous entry's hash in the same country, so
-- an edit made with the triggers off is found by walking the chain
-- (mk report tax --verify).
create table tax_ledger (
  id bigint generated always as identity primary key,
  country text not null,
  -- Position in the country's chain: 1, 2, 3 …
  seq bigint not null,
  region text,
  kind text not null check (kind in ('sale', 'refund')),
  event_key text not null unique,
  occurred_at timestamptz not null,
  -- The calendar date as the event wrote it (its own offset): the day whose
  -- rate applies and the day periods are counted by.
  tax_date date not null,
  currency char(3) not null,
  net_minor bigint not null,
  tax_minor bigint not null,
  gross_minor bigint not null check (gross_minor = net_minor + tax_minor),
  -- Percent, e.g. 7 or 9.975 (the sum of the components, e.g. GST + QST).
  rate numeric(9, 5) not null,
  tax_type text not null,
  prices_include_tax boolean not null,
  campaign text,
  variant text,
  recorded_at timestamptz not null default now(),
  prev_hash text not null,
  hash text not null,
  unique (country, seq)
);
-- Covers what tax reports read, so a quarter is an index-only scan.
create index tax_ledger_country_date on tax_ledger (country, tax_date)
  include (currency, kind, rate, tax_type, campaign, prices_include_tax, net_minor, tax_minor, gross_minor);

-- The ledger summed per country, day and currency, kept with each append (under
-- the country's chain lock): which exchange rates a report needs, and the
-- year-to-date sales a registration threshold is checked against, without
-- reading every entry. Derived; the ledger stays the record.
create table tax_daily (
  country text not null,
  tax_date date not null,
  currency char(3) not null,
  lines bigint not null,
  net_minor bigint not null,
  tax_minor bigint not null,
  gross_minor bigint not null,
  primary key (country, tax_date, currency)
);

create function mk_refuse_ledger_change() returns trigger
language plpgsql as $$
begin
  raise exception 'tax_ledger is append-only: % is refused; record a correcting entry instead', tg_op
    using errcode = 'insufficient_privilege';
end;
$$;
create trigger tax_ledger_no_update before update or delete on tax_ledger
  for each row execute function mk_refuse_ledger_change();
create trigger tax_ledger_no_truncate before truncate on tax_ledger
  for each statement execute function mk_refuse_ledger_change();
revoke update, delete, truncate on tax_ledger from public;

-- Daily exchange rates: 1 base = rate quote (the ECB publishes EUR → others).
create table fx_rates (
  day date not null,
  base char(3) not null,
  quote char(3) not null,
  rate numeric(20, 10) not null check (rate > 0),
  source text not null,
  imported_at timestamptz not null default now(),
  primary key (base, quote, day)
);

-- Down Migration
drop table fx_rates;
drop table tax_daily;
drop table tax_ledger;
drop function mk_refuse_ledger_change();
alter table events drop column tax_type;
alter table events drop column tax_rate;
alter table events drop column region;
