-- Up Migration

-- Campaign analytics kept current as events and sends are written, so a report
-- reads a few rows per campaign, variant, day and country, never raw events.
--
-- Writers never update a shared counter row (that would serialise every ingest
-- on the busiest campaign): triggers append delta rows in the writer's own
-- transaction, and the runtime folds them into the rollups every few seconds
-- (mk_fold_campaign_rollups). Reports add the rollups and the deltas not yet
-- folded, so they are exact at any moment. Days are UTC dates; an unknown
-- country is 'ZZ'; a campaign without A/B variants has variant ''.

-- The first time a subscriber did each thing for a campaign: what makes
-- deliveries, opens, clicks, unsubscribes and conversions unique. A unique
-- count lands on the day (and in the country) of the earliest such event in
-- the batch that first brought one: an earlier-dated event arriving later does
-- not move it (totals are unaffected either way).
create table campaign_engagements (
  campaign text not null,
  subscriber_id bigint not null references subscribers (id) on delete cascade,
  kind text not null check (kind in ('delivered', 'bounced', 'complained', 'opened', 'clicked', 'unsubscribed', 'converted')),
  primary key (campaign, subscriber_id, kind)
);

create table campaign_rollups (
  campaign text not null,
  variant text not null,
  day date not null,
  country text not null,
  sent bigint not null default 0,
  failed bigint not null default 0,
  delivered bigint not null default 0,
  bounced bigint not null default 0,
  complained bigint not null default 0,
  opened bigint not null default 0,
  clicked bigint not null default 0,
  unsubscribed bigint not null default 0,
  converted bigint not null default 0,
  opens bigint not null default 0,
  clicks bigint not null default 0,
  primary key (campaign, variant, day, country)
);

-- Money per currency: purchases and refunds attributed to the campaign, in minor units.
create table campaign_revenue (
  campaign text not null,
  variant text not null,
  day date not null,
  country text not null,
  currency char(3) not null,
  purchases bigint not null default 0,
  refunds bigint not null default 0,
  revenue_minor bigint not null default 0,
  refunded_minor bigint not null default 0,
  primary key (campaign, variant, day, country, currency)
);

-- Changes not yet folded into the two tables above. currency is '' on rows without money.
create table campaign_rollup_deltas (
  id bigint generated always as identity primary key,
  created_at timestamptz not null default now(),
  campaign text not null,
  variant text not null,
  day date not null,
  country text not null,
  currency text not null default '',
  sent integer not null default 0,
  failed integer not null default 0,
  delivered integer not null default 0,
  bounced integer not null default 0,
  complained integer not null default 0,
  opened integer not null default 0,
  clicked integer not null default 0,
  unsubscribed integer not null default 0,
  converted integer not null default 0,
  opens integer not null default 0,
  clicks integer not null default 0,
  purchases integer not null default 0,
  refunds integer not null default 0,
  revenue_minor bigint not null default 0,
  refunded_minor bigint not null default 0
);
create index campaign_rollup_deltas_campaign on campaign_rollup_deltas (campaign);

-- Events attributed to a campaign (events.campaign set at ingest, or by the
-- link and SES handlers from the send) become deltas: a unique count for the
-- first engagement of each kind, totals for opens and clicks, money per currency.
-- A hard bounce is an SES Bounce whose bounceType is Permanent.
create function mk_events_to_rollup_deltas() returns trigger
language plpgsql as $$
begin
  with attributed as (
    select id, campaign, coalesce(variant, '') as variant, (occurred_at at time zone 'UTC')::date as day,
      coalesce(country, 'ZZ') as country, subscriber_id, occurred_at, name, amount_minor, currency,
      case
        when name = 'ses.delivery' then 'delivered'
        when name = 'ses.bounce' and data ->> 'bounceType' = 'Permanent' then 'bounced'
        when name = 'ses.complaint' then 'complained'
        when name in ('open', 'ses.open') then 'opened'
        when name in ('click', 'ses.click') then 'clicked'
        when name in ('unsubscribe', 'ses.subscription') then 'unsubscribed'
        when name = 'purchase' then 'converted'
      end as kind
    from added
    where campaign is not null
  ),
  -- Keys in a fixed order, so concurrent writers wait for each other instead of deadlocking.
  firsts as (
    insert into campaign_engagements (campaign, subscriber_id, kind)
    select distinct campaign, subscriber_id, kind from attributed where kind is not null
    order by campaign, subscriber_id, kind
    on conflict do nothing
    returning campaign, subscriber_id, kind
  ),
  first_events as (
    select distinct on (a.campaign, a.subscriber_id, a.kind) a.campaign, a.variant, a.day, a.country, a.kind
    from attributed a join firsts f using (campaign, subscriber_id, kind)
    order by a.campaign, a.subscriber_id, a.kind, a.occurred_at, a.id
  ),
  changes as (
    select campaign, variant, day, country, '' as currency,
      (kind = 'delivered')::int as delivered, (kind = 'bounced')::int as bounced, (kind = 'complained')::int as complained,
      (kind = 'opened')::int as opened, (kind = 'clicked')::int as clicked, (kind = 'unsubscribed')::int as unsubscribed,
      (kind = 'converted')::int as converted, 0 as opens, 0 as clicks, 0 as purchases, 0 as refunds,
      0::bigint as revenue_minor, 0::bigint as refunded_minor
    from first_events
    union all
    select campaign, variant, day, country, coalesce(currency, ''), 0, 0, 0, 0, 0, 0, 0,
      (name in ('open', 'ses.open'))::int, (name in ('click', 'ses.click'))::int,
      (name = 'purchase')::int, (name = 'refund')::int,
      case when name = 'purchase' then coalesce(amount_minor, 0) else 0 end,
      case when name = 'refund' then coalesce(amount_minor, 0) else 0 end
    from attributed
    where name in ('open', 'ses.open', 'click', 'ses.click', 'purchase', 'refund')
  )
  insert into campaign_rollup_deltas (campaign, variant, day, country, currency, delivered, bounced, complained, opened, clicked,
    unsubscribed, converted, opens, clicks, purchases, refunds, revenue_minor, refunded_minor)
  select campaign, variant, day, country, currency, sum(delivered), sum(bounced), sum(complained), sum(opened), sum(clicked),
    sum(unsubscribed), sum(converted), sum(opens), sum(clicks), sum(purchases), sum(refunds), sum(revenue_minor), sum(refunded_minor)
  from changes
  group by campaign, variant, day, country, currency;
  return null;
end;
$$;
create trigger events_rollup_deltas after insert on events
  referencing new table as added for each statement execute function mk_events_to_rollup_deltas();

-- A send that reached 'sent' or 'failed' (from a worker, or settled by a provider event).
create function mk_sends_to_rollup_deltas() returns trigger
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

-- Fold up to max_rows deltas into the rollups, oldest first; returns how many.
-- One folder at a time (others return 0 at once); deltas and rollups change in
-- one transaction, so every delta is counted exactly once.
create function mk_fold_campaign_rollups(max_rows integer) returns integer
language plpgsql as $$
declare
  folded integer;
begin
  if not pg_try_advisory_xact_lock(hashtext('mk_fold_campaign_rollups')) then
    return 0;
  end if;
  with moved as (
    delete from campaign_rollup_deltas
    where id in (select id from campaign_rollup_deltas order by id limit max_rows)
    returning *
  ),
  counts as (
    insert into campaign_rollups as r (campaign, variant, day, country, sent, failed, delivered, bounced, complained, opened,
      clicked, unsubscribed, converted, opens, clicks)
    select campaign, variant, day, country, sum(sent), sum(failed), sum(delivered), sum(bounced), sum(complained), sum(opened),
      sum(clicked), sum(unsubscribed), sum(converted), sum(opens), sum(clicks)
    from moved
    where currency = ''
    group by campaign, variant, day, country
    order by campaign, variant, day, country
    on conflict (campaign, variant, day, country) do update set
      sent = r.sent + excluded.sent, failed = r.failed + excluded.failed, delivered = r.delivered + excluded.delivered,
      bounced = r.bounced + excluded.bounced, complained = r.complained + excluded.complained, opened = r.opened + excluded.opened,
      clicked = r.clicked + excluded.clicked, unsubscribed = r.unsubscribed + excluded.unsubscribed,
      converted = r.converted + excluded.converted, opens = r.opens + excluded.opens, clicks = r.clicks + excluded.clicks
  ),
  money as (
    insert into campaign_revenue as r (campaign, variant, day, country, currency, purchases, refunds, revenue_minor, refunded_minor)
    select campaign, variant, day, country, currency, sum(purchases), sum(refunds), sum(revenue_minor), sum(refunded_minor)
    from moved
    where currency <> ''
    group by campaign, variant, day, country, currency
    order by campaign, variant, day, country, currency
    on conflict (campaign, variant, day, country, currency) do update set
      purchases = r.purchases + excluded.purchases, refunds = r.refunds + excluded.refunds,
      revenue_minor = r.revenue_minor + excluded.revenue_minor, refunded_minor = r.refunded_minor + excluded.refunded_minor
  )
  select count(*) into folded from moved;
  return folded;
end;
$$;

-- What reports read: the rollups plus the deltas not yet folded (a filter on
-- campaign reaches both halves, so each is an index scan).
create view campaign_counts as
  select campaign, variant, day, country, sent, failed, delivered, bounced, complained, opened, clicked, unsubscribed, converted, opens, clicks
  from campaign_rollups
  union all
  select campaign, variant, day, country, sent, failed, delivered, bounced, complained, opened, clicked, unsubscribed, converted, opens, clicks
  from campaign_rollup_deltas where currency = '';
create view campaign_money as
  select campaign, variant, day, country, currency::text as currency, purchases, refunds, revenue_minor, refunded_minor
  from campaign_revenue
  union all
  select campaign, variant, day, country, currency, purchases, refunds, revenue_minor, refunded_minor
  from campaign_rollup_deltas where currency <> '';

-- Down Migration
drop view campaign_money;
drop view campaign_counts;
drop function mk_fold_campaign_rollups(integer);
drop trigger sends_rollup_deltas on sends;
drop function mk_sends_to_rollup_deltas();
drop trigger events_rollup_deltas on events;
drop function mk_events_to_rollup_deltas();
drop table campaign_rollup_deltas;
drop table campaign_revenue;
drop table campaign_rollups;
drop table campaign_engagements;
