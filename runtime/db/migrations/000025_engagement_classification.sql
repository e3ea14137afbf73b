-- Up Migration

-- Every open and click says who made it: a person ('human'), a machine (a
-- privacy proxy prefetching images, a security scanner following links:
-- 'machine') or nobody can tell ('unknown'), and why (a reason code of
-- runtime/engagement/classify.ts). Null on other events, and on opens and
-- clicks stored before this migration, which count as unknown.
alter table events add column actor text check (actor in ('human', 'machine', 'unknown'));
alter table events add column actor_reason text;

-- How many open rows the pixel (/o/…) stored for a send in the current UTC
-- minute, as click_throttle does for links (000013): past a few, the pixel is
-- still served but nothing is stored.
create table open_throttle (
  send_id uuid primary key references sends (id) on delete cascade,
  minute timestamptz not null,
  recorded integer not null
);

-- The rollups count human and machine engagement beside the totals:
--   human_opened, human_clicked  recipients with a human open (or a human
--                                click, which a person can only make after
--                                opening) and with a human click, each once;
--   human_opens, machine_opens   open events by actor, repeats included;
--   human_clicks, machine_clicks links clicked by actor, each (send, link) once.
-- Unknown engagement is the total less the other two.
alter table campaign_rollups
  add column human_opened bigint not null default 0,
  add column human_clicked bigint not null default 0,
  add column human_opens bigint not null default 0,
  add column machine_opens bigint not null default 0,
  add column human_clicks bigint not null default 0,
  add column machine_clicks bigint not null default 0;
alter table campaign_rollup_deltas
  add column human_opened integer not null default 0,
  add column human_clicked integer not null default 0,
  add column human_opens integer not null default 0,
  add column machine_opens integer not null default 0,
  add column human_clicks integer not null default 0,
  add column machine_clicks integer not null default 0,
  -- Set on a delta that counts machine events by reason (machine_opens and
  -- machine_clicks, every event); '' on every other delta.
  add column reason text not null default '';

alter table campaign_engagements drop constraint campaign_engagements_kind_check;
alter table campaign_engagements add constraint campaign_engagements_kind_check
  check (kind in ('delivered', 'bounced', 'complained', 'opened', 'clicked', 'unsubscribed', 'converted', 'opened_human', 'clicked_human'));

-- A link clicked counts once per send overall (actor '') and once per actor
-- that clicked it ('human', 'machine').
alter table campaign_link_clicks add column actor text not null default '';
alter table campaign_link_clicks drop constraint campaign_link_clicks_pkey;
alter table campaign_link_clicks add primary key (campaign, subscriber_id, link, actor);

-- Machine events by reason, for "why": what the deltas with a reason fold into.
create table campaign_machine_reasons (
  campaign text not null,
  reason text not null,
  opens bigint not null default 0,
  clicks bigint not null default 0,
  primary key (campaign, reason)
);

-- mk_events_to_rollup_deltas of 000013, with the human and machine counts:
-- an event may now make several first engagements (a human click is the
-- recipient's first click, first human click and first human open).
create or replace function mk_events_to_rollup_deltas() returns trigger
language plpgsql as $$
begin
  with attributed as (
    select id, campaign, coalesce(variant, '') as variant, (occurred_at at time zone 'UTC')::date as day,
      coalesce(country, 'ZZ') as country, subscriber_id, occurred_at, name, amount_minor, currency,
      coalesce(actor, 'unknown') as actor, coalesce(actor_reason, '') as actor_reason,
      name in ('open', 'ses.open') as is_open, name in ('click', 'ses.click') as is_click,
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
  kinds as (
    select a.*, k.engagement
    from attributed a
    cross join lateral unnest(array[
      a.kind,
      case when a.actor = 'human' and (a.is_open or a.is_click) then 'opened_human' end,
      case when a.actor = 'human' and a.is_click then 'clicked_human' end
    ]) as k (engagement)
    where k.engagement is not null
  ),
  -- Keys in a fixed order, so concurrent writers wait for each other instead of deadlocking.
  firsts as (
    insert into campaign_engagements (campaign, subscriber_id, kind)
    select distinct campaign, subscriber_id, engagement from kinds
    order by campaign, subscriber_id, engagement
    on conflict do nothing
    returning campaign, subscriber_id, kind
  ),
  first_events as (
    select distinct on (k.campaign, k.subscriber_id, k.engagement) k.campaign, k.variant, k.day, k.country, k.engagement
    from kinds k join firsts f on f.campaign = k.campaign and f.subscriber_id = k.subscriber_id and f.kind = k.engagement
    order by k.campaign, k.subscriber_id, k.engagement, k.occurred_at, k.id
  ),
  -- The first click of each (send, link), overall and by each actor that clicked it.
  scoped_clicks as (
    select a.*, s.scope
    from attributed a
    cross join lateral (values (''), (case when a.actor in ('human', 'machine') then a.actor end)) as s (scope)
    where a.link is not null and s.scope is not null
  ),
  link_firsts as (
    insert into campaign_link_clicks (campaign, subscriber_id, link, actor)
    select distinct campaign, subscriber_id, link, scope from scoped_clicks
    order by campaign, subscriber_id, link, scope
    on conflict do nothing
    returning campaign, subscriber_id, link, actor
  ),
  first_clicks as (
    select distinct on (c.campaign, c.subscriber_id, c.link, c.scope) c.campaign, c.variant, c.day, c.country, c.scope
    from scoped_clicks c join link_firsts f on f.campaign = c.campaign and f.subscriber_id = c.subscriber_id and f.link = c.link and f.actor = c.scope
    order by c.campaign, c.subscriber_id, c.link, c.scope, c.occurred_at, c.id
  ),
  changes as (
    select campaign, variant, day, country, '' as currency, '' as reason,
      (engagement = 'delivered')::int as delivered, (engagement = 'bounced')::int as bounced, (engagement = 'complained')::int as complained,
      (engagement = 'opened')::int as opened, (engagement = 'clicked')::int as clicked, (engagement = 'unsubscribed')::int as unsubscribed,
      (engagement = 'converted')::int as converted, (engagement = 'opened_human')::int as human_opened, (engagement = 'clicked_human')::int as human_clicked,
      0 as opens, 0 as clicks, 0 as human_opens, 0 as machine_opens, 0 as human_clicks, 0 as machine_clicks,
      0 as purchases, 0 as refunds, 0::bigint as revenue_minor, 0::bigint as refunded_minor
    from first_events
    union all
    select campaign, variant, day, country, '', '', 0, 0, 0, 0, 0, 0, 0, 0, 0,
      0, (scope = '')::int, 0, 0, (scope = 'human')::int, (scope = 'machine')::int, 0, 0, 0::bigint, 0::bigint
    from first_clicks
    union all
    select campaign, variant, day, country, coalesce(currency, ''), '', 0, 0, 0, 0, 0, 0, 0, 0, 0,
      is_open::int, 0, (is_open and actor = 'human')::int, (is_open and actor = 'machine')::int, 0, 0,
      (name = 'purchase')::int, (name = 'refund')::int,
      case when name = 'purchase' then coalesce(amount_minor, 0) else 0 end,
      case when name = 'refund' then coalesce(amount_minor, 0) else 0 end
    from attributed
    where is_open or name in ('purchase', 'refund')
    union all
    select campaign, variant, day, country, '', actor_reason, 0, 0, 0, 0, 0, 0, 0, 0, 0,
      0, 0, 0, is_open::int, 0, is_click::int, 0, 0, 0::bigint, 0::bigint
    from attributed
    where actor = 'machine' and (is_open or is_click) and actor_reason <> ''
  )
  insert into campaign_rollup_deltas (campaign, variant, day, country, currency, reason, delivered, bounced, complained, opened, clicked,
    unsubscribed, converted, human_opened, human_clicked, opens, clicks, human_opens, machine_opens, human_clicks, machine_clicks,
    purchases, refunds, revenue_minor, refunded_minor)
  select campaign, variant, day, country, currency, reason, sum(delivered), sum(bounced), sum(complained), sum(opened), sum(clicked),
    sum(unsubscribed), sum(converted), sum(human_opened), sum(human_clicked), sum(opens), sum(clicks), sum(human_opens), sum(machine_opens),
    sum(human_clicks), sum(machine_clicks), sum(purchases), sum(refunds), sum(revenue_minor), sum(refunded_minor)
  from changes
  group by campaign, variant, day, country, currency, reason;
  return null;
end;
$$;

-- An open or click classified again (the first click of a burst of links is
-- found to be a scanner's only when the second arrives): the counts of the
-- actor it leaves lose it unless another event of that actor still stands for
-- it, those of the actor it joins gain it as a new event would. The deltas
-- land on the event's own day and country.
create function mk_events_reclassified() returns trigger
language plpgsql as $$
begin
  with
  r as (
    select n.id, n.campaign, coalesce(n.variant, '') as variant, (n.occurred_at at time zone 'UTC')::date as day,
      coalesce(n.country, 'ZZ') as country, n.subscriber_id, n.occurred_at,
      n.name in ('open', 'ses.open') as is_open, n.name in ('click', 'ses.click') as is_click,
      case when n.name in ('click', 'ses.click') then left(coalesce(n.data ->> 'link', ''), 200) end as link,
      coalesce(o.actor, 'unknown') as old_actor, coalesce(n.actor, 'unknown') as new_actor,
      coalesce(o.actor_reason, '') as old_reason, coalesce(n.actor_reason, '') as new_reason
    from reclassified_new n join reclassified_old o on o.id = n.id and o.occurred_at = n.occurred_at
    where n.campaign is not null and n.name in ('open', 'ses.open', 'click', 'ses.click')
      and (coalesce(o.actor, 'unknown') <> coalesce(n.actor, 'unknown') or coalesce(o.actor_reason, '') <> coalesce(n.actor_reason, ''))
  ),
  -- Links no event of the actor left stands for any more, and links the joined actor clicks for the first time.
  links_lost as (
    delete from campaign_link_clicks l
    using (select distinct campaign, subscriber_id, link, old_actor from r where is_click and old_actor in ('human', 'machine') and old_actor <> new_actor) x
    where l.campaign = x.campaign and l.subscriber_id = x.subscriber_id and l.link = x.link and l.actor = x.old_actor
      and not exists (
        select 1 from events e where e.campaign = x.campaign and e.subscriber_id = x.subscriber_id and e.name in ('click', 'ses.click')
          and left(coalesce(e.data ->> 'link', ''), 200) = x.link and e.actor = x.old_actor)
    returning l.campaign, l.subscriber_id, l.link, l.actor
  ),
  links_gained as (
    insert into campaign_link_clicks (campaign, subscriber_id, link, actor)
    select distinct campaign, subscriber_id, link, new_actor from r where is_click and new_actor in ('human', 'machine') and old_actor <> new_actor
    order by 1, 2, 3, 4
    on conflict do nothing
    returning campaign, subscriber_id, link, actor
  ),
  -- A recipient's human open and human click stand while any human open or click (click) of theirs does.
  humans_lost as (
    delete from campaign_engagements g
    using (select distinct campaign, subscriber_id, k.kind
           from r cross join lateral (values ('opened_human'), (case when is_click then 'clicked_human' end)) as k (kind)
           where old_actor = 'human' and new_actor <> 'human' and k.kind is not null) x
    where g.campaign = x.campaign and g.subscriber_id = x.subscriber_id and g.kind = x.kind
      and not exists (
        select 1 from events e where e.campaign = x.campaign and e.subscriber_id = x.subscriber_id and e.actor = 'human'
          and e.name in ('click', 'ses.click', 'open', 'ses.open') and (x.kind = 'opened_human' or e.name in ('click', 'ses.click')))
    returning g.campaign, g.subscriber_id, g.kind
  ),
  humans_gained as (
    insert into campaign_engagements (campaign, subscriber_id, kind)
    select distinct campaign, subscriber_id, k.kind
    from r cross join lateral (values ('opened_human'), (case when is_click then 'clicked_human' end)) as k (kind)
    where new_actor = 'human' and old_actor <> 'human' and k.kind is not null
    order by 1, 2, 3
    on conflict do nothing
    returning campaign, subscriber_id, kind
  ),
  at_event as (
    select distinct on (campaign, subscriber_id, coalesce(link, '')) campaign, subscriber_id, coalesce(link, '') as link, variant, day, country
    from r order by campaign, subscriber_id, coalesce(link, ''), occurred_at, id
  ),
  at_recipient as (
    select distinct on (campaign, subscriber_id) campaign, subscriber_id, variant, day, country
    from r order by campaign, subscriber_id, occurred_at, id
  ),
  changes as (
    select a.campaign, a.variant, a.day, a.country, '' as reason,
      -(g.kind = 'opened_human')::int as human_opened, -(g.kind = 'clicked_human')::int as human_clicked,
      0 as human_opens, 0 as machine_opens, 0 as human_clicks, 0 as machine_clicks
    from humans_lost g join at_recipient a using (campaign, subscriber_id)
    union all
    select a.campaign, a.variant, a.day, a.country, '', (g.kind = 'opened_human')::int, (g.kind = 'clicked_human')::int, 0, 0, 0, 0
    from humans_gained g join at_recipient a using (campaign, subscriber_id)
    union all
    select a.campaign, a.variant, a.day, a.country, '', 0, 0, 0, 0, -(l.actor = 'human')::int, -(l.actor = 'machine')::int
    from links_lost l join at_event a using (campaign, subscriber_id, link)
    union all
    select a.campaign, a.variant, a.day, a.country, '', 0, 0, 0, 0, (l.actor = 'human')::int, (l.actor = 'machine')::int
    from links_gained l join at_event a using (campaign, subscriber_id, link)
    union all
    select campaign, variant, day, country, '', 0, 0,
      (is_open and new_actor = 'human')::int - (is_open and old_actor = 'human')::int,
      (is_open and new_actor = 'machine')::int - (is_open and old_actor = 'machine')::int, 0, 0
    from r where is_open
    union all
    select campaign, variant, day, country, old_reason, 0, 0, 0, -is_open::int, 0, -is_click::int
    from r where old_actor = 'machine' and old_reason <> ''
    union all
    select campaign, variant, day, country, new_reason, 0, 0, 0, is_open::int, 0, is_click::int
    from r where new_actor = 'machine' and new_reason <> ''
  )
  insert into campaign_rollup_deltas (campaign, variant, day, country, reason, human_opened, human_clicked, human_opens, machine_opens, human_clicks, machine_clicks)
  select campaign, variant, day, country, reason, sum(human_opened), sum(human_clicked), sum(human_opens), sum(machine_opens), sum(human_clicks), sum(machine_clicks)
  from changes
  group by campaign, variant, day, country, reason;
  return null;
end;
$$;
create trigger events_reclassified after update on events
  referencing old table as reclassified_old new table as reclassified_new
  for each statement execute function mk_events_reclassified();

-- mk_fold_campaign_rollups of 000007 with the new counts, and the deltas by
-- reason folded into campaign_machine_reasons.
create or replace function mk_fold_campaign_rollups(max_rows integer) returns integer
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
      clicked, unsubscribed, converted, opens, clicks, human_opened, human_clicked, human_opens, machine_opens, human_clicks, machine_clicks)
    select campaign, variant, day, country, sum(sent), sum(failed), sum(delivered), sum(bounced), sum(complained), sum(opened),
      sum(clicked), sum(unsubscribed), sum(converted), sum(opens), sum(clicks), sum(human_opened), sum(human_clicked),
      sum(human_opens), sum(machine_opens), sum(human_clicks), sum(machine_clicks)
    from moved
    where currency = '' and reason = ''
    group by campaign, variant, day, country
    order by campaign, variant, day, country
    on conflict (campaign, variant, day, country) do update set
      sent = r.sent + excluded.sent, failed = r.failed + excluded.failed, delivered = r.delivered + excluded.delivered,
      bounced = r.bounced + excluded.bounced, complained = r.complained + excluded.complained, opened = r.opened + excluded.opened,
      clicked = r.clicked + excluded.clicked, unsubscribed = r.unsubscribed + excluded.unsubscribed,
      converted = r.converted + excluded.converted, opens = r.opens + excluded.opens, clicks = r.clicks + excluded.clicks,
      human_opened = r.human_opened + excluded.human_opened, human_clicked = r.human_clicked + excluded.human_clicked,
      human_opens = r.human_opens + excluded.human_opens, machine_opens = r.machine_opens + excluded.machine_opens,
      human_clicks = r.human_clicks + excluded.human_clicks, machine_clicks = r.machine_clicks + excluded.machine_clicks
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
  ),
  reasons as (
    insert into campaign_machine_reasons as r (campaign, reason, opens, clicks)
    select campaign, reason, sum(machine_opens), sum(machine_clicks)
    from moved
    where reason <> ''
    group by campaign, reason
    order by campaign, reason
    on conflict (campaign, reason) do update set opens = r.opens + excluded.opens, clicks = r.clicks + excluded.clicks
  )
  select count(*) into folded from moved;
  return folded;
end;
$$;

drop view campaign_counts;
create view campaign_counts as
  select campaign, variant, day, country, sent, failed, delivered, bounced, complained, opened, clicked, unsubscribed, converted, opens, clicks,
    human_opened, human_clicked, human_opens, machine_opens, human_clicks, machine_clicks
  from campaign_rollups
  union all
  select campaign, variant, day, country, sent, failed, delivered, bounced, complained, opened, clicked, unsubscribed, converted, opens, clicks,
    human_opened, human_clicked, human_opens, machine_opens, human_clicks, machine_clicks
  from campaign_rollup_deltas where currency = '' and reason = '';
create view campaign_reasons as
  select campaign, reason, opens, clicks from campaign_machine_reasons
  union all
  select campaign, reason, machine_opens, machine_clicks from campaign_rollup_deltas where reason <> '';

-- Down Migration
select pg_advisory_xact_lock(hashtext('mk_fold_campaign_rollups'));
drop view campaign_reasons;
drop view campaign_counts;
create view campaign_counts as
  select campaign, variant, day, country, sent, failed, delivered, bounced, complained, opened, clicked, unsubscribed, converted, opens, clicks
  from campaign_rollups
  union all
  select campaign, variant, day, country, sent, failed, delivered, bounced, complained, opened, clicked, unsubscribed, converted, opens, clicks
  from campaign_rollup_deltas where currency = '';
drop trigger events_reclassified on events;
drop function mk_events_reclassified();
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
create or replace function mk_fold_campaign_rollups(max_rows integer) returns integer
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
delete from campaign_rollup_deltas where reason <> '';
drop table campaign_machine_reasons;
delete from campaign_link_clicks where actor <> '';
alter table campaign_link_clicks drop constraint campaign_link_clicks_pkey;
alter table campaign_link_clicks drop column actor;
alter table campaign_link_clicks add primary key (campaign, subscriber_id, link);
delete from campaign_engagements where kind in ('opened_human', 'clicked_human');
alter table campaign_engagements drop constraint campaign_engagements_kind_check;
alter table campaign_engagements add constraint campaign_engagements_kind_check
  check (kind in ('delivered', 'bounced', 'complained', 'opened', 'clicked', 'unsubscribed', 'converted'));
alter table campaign_rollup_deltas drop column reason, drop column machine_clicks, drop column human_clicks, drop column machine_opens,
  drop column human_opens, drop column human_clicked, drop column human_opened;
alter table campaign_rollups drop column machine_clicks, drop column human_clicks, drop column machine_opens,
  drop column human_opens, drop column human_clicked, drop column human_opened;
drop table open_throttle;
alter table events drop column actor_reason;
alter table events drop column actor;
