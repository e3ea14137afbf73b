-- Up Migration

-- Clicks in campaign reports count once per (send, link), however often the
-- link is followed: a bot fetching one tracked link all day adds one click.
-- A send is one (campaign, subscriber), so the key is (campaign, subscriber,
-- link); the link is what /c/… records (data.link, the tracked link's index),
-- or properties.link of an ingested click; a click naming no link (an SES
-- Click event, an ingested click without it) counts once per send.
create table campaign_link_clicks (
  campaign text not null,
  subscriber_id bigint not null references subscribers (id) on delete cascade,
  link text not null,
  primary key (campaign, subscriber_id, link)
);

-- How many raw click rows /c/… stored for a (send, link) in the current UTC
-- minute: past a few, a click still redirects but stores nothing, so the
-- events table cannot be filled through one link. One row per (send, link).
create table click_throttle (
  send_id uuid not null references sends (id) on delete cascade,
  link integer not null,
  minute timestamptz not null,
  recorded integer not null,
  primary key (send_id, link)
);

-- mk_events_to_rollup_deltas of 000007, with clicks (the total) counted
-- through campaign_link_clicks; everything else as it was.
create or replace function mk_events_to_rollup_deltas() returns trigger
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
      end as kind,
      case when name in ('click', 'ses.click') then left(coalesce(data ->> 'link', ''), 200) end as link
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
  -- The first click of each (send, link), on the day and in the country of the earliest in the batch.
  link_firsts as (
    insert into campaign_link_clicks (campaign, subscriber_id, link)
    select distinct campaign, subscriber_id, link from attributed where link is not null
    order by campaign, subscriber_id, link
    on conflict do nothing
    returning campaign, subscriber_id, link
  ),
  first_clicks as (
    select distinct on (a.campaign, a.subscriber_id, a.link) a.campaign, a.variant, a.day, a.country
    from attributed a join link_firsts f using (campaign, subscriber_id, link)
    order by a.campaign, a.subscriber_id, a.link, a.occurred_at, a.id
  ),
  changes as (
    select campaign, variant, day, country, '' as currency,
      (kind = 'delivered')::int as delivered, (kind = 'bounced')::int as bounced, (kind = 'complained')::int as complained,
      (kind = 'opened')::int as opened, (kind = 'clicked')::int as clicked, (kind = 'unsubscribed')::int as unsubscribed,
      (kind = 'converted')::int as converted, 0 as opens, 0 as clicks, 0 as purchases, 0 as refunds,
      0::bigint as revenue_minor, 0::bigint as refunded_minor
    from first_events
    union all
    select campaign, variant, day, country, '', 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0::bigint, 0::bigint
    from first_clicks
    union all
    select campaign, variant, day, country, coalesce(currency, ''), 0, 0, 0, 0, 0, 0, 0,
      (name in ('open', 'ses.open'))::int, 0,
      (name = 'purchase')::int, (name = 'refund')::int,
      case when name = 'purchase' then coalesce(amount_minor, 0) else 0 end,
      case when name = 'refund' then coalesce(amount_minor, 0) else 0 end
    from attributed
    where name in ('open', 'ses.open', 'purchase', 'refund')
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

-- Clicks already counted are counted again the new way, so reports stay exact:
-- no event is stored and no fold runs meanwhile (both wait for this transaction);
-- the totals in rollups and deltas are set to zero and each (send, link) clicked
-- so far becomes one delta on the day and in the country of its first click.
select pg_advisory_xact_lock(hashtext('mk_fold_campaign_rollups'));
lock table events in share mode;
insert into campaign_link_clicks (campaign, subscriber_id, link)
select distinct campaign, subscriber_id, left(coalesce(data ->> 'link', ''), 200)
from events where campaign is not null and name in ('click', 'ses.click');
update campaign_rollups set clicks = 0 where clicks <> 0;
update campaign_rollup_deltas set clicks = 0 where clicks <> 0;
insert into campaign_rollup_deltas (campaign, variant, day, country, clicks)
select campaign, variant, day, country, count(*)
from (
  select distinct on (campaign, subscriber_id, left(coalesce(data ->> 'link', ''), 200))
    campaign, coalesce(variant, '') as variant, (occurred_at at time zone 'UTC')::date as day, coalesce(country, 'ZZ') as country
  from events where campaign is not null and name in ('click', 'ses.click')
  order by campaign, subscriber_id, left(coalesce(data ->> 'link', ''), 200), occurred_at, id
) first_clicks
group by campaign, variant, day, country;

-- Down Migration
select pg_advisory_xact_lock(hashtext('mk_fold_campaign_rollups'));
lock table events in share mode;
create or replace function mk_events_to_rollup_deltas() returns trigger
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
update campaign_rollups set clicks = 0 where clicks <> 0;
update campaign_rollup_deltas set clicks = 0 where clicks <> 0;
insert into campaign_rollup_deltas (campaign, variant, day, country, clicks)
select campaign, coalesce(variant, ''), (occurred_at at time zone 'UTC')::date, coalesce(country, 'ZZ'), count(*)
from events where campaign is not null and name in ('click', 'ses.click')
group by 1, 2, 3, 4;
drop table click_throttle;
drop table campaign_link_clicks;
