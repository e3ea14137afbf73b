-- Up Migration

-- The applied state: one row holding the serial every apply moves forward.
create table state (
  id boolean primary key default true check (id),
  serial bigint not null default 0 check (serial >= 0),
  updated_at timestamptz not null default now()
);
insert into state default values;

-- Every apply that changed something, with who applied what from where.
create table applies (
  serial bigint primary key,
  base_serial bigint not null,
  applied_at timestamptz not null default now(),
  commit_sha text,
  author text,
  branch text,
  dirty boolean,
  added integer not null,
  changed integer not null,
  deleted integer not null
);

-- Applied resources: the project, audiences, campaigns, sequences and templates
-- as the repository described them at the last apply.
create table resources (
  kind text not null check (kind in ('Project', 'Audience', 'Campaign', 'Sequence', 'Template')),
  name text not null,
  spec jsonb not null,
  spec_hash text not null,
  created_serial bigint not null,
  updated_serial bigint not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- Set when a campaign starts sending; from then on it cannot change.
  started_at timestamptz,
  primary key (kind, name)
);

-- Compiled HTML by content hash; resources refer to it by hash.
create table compiled_templates (
  hash text primary key,
  html text not null,
  created_at timestamptz not null default now()
);

create table subscribers (
  id bigint generated always as identity primary key,
  email text not null unique check (email = lower(email) and email = btrim(email)),
  first_name text,
  last_name text,
  country char(2) check (country ~ '^[A-Z]{2}$'),
  timezone text,
  locale text,
  tags text[] not null default '{}',
  consent text check (consent in ('marketing')),
  attributes jsonb not null default '{}' check (jsonb_typeof(attributes) = 'object'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- Subscriber events, as audience conditions (`event … within`) read them.
-- Partitioned by month from the start; the event-ingestion work adds its columns.
create table events (
  id bigint generated always as identity,
  subscriber_id bigint not null references subscribers (id) on delete cascade,
  name text not null,
  occurred_at timestamptz not null,
  primary key (id, occurred_at)
) partition by range (occurred_at);
create table events_default partition of events default;
create index events_subscriber_name_time on events (subscriber_id, name, occurred_at);

-- Down Migration
drop table events;
drop table subscribers;
drop table compiled_templates;
drop table resources;
drop table applies;
drop table state;
