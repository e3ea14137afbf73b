/**
 * Named SQL for campaign reports. They read the campaign_counts and
 * campaign_money views (migration 000007): the folded rollups plus the deltas
 * not yet folded, so reports are exact whenever they are read.
 */
export const REPORT_SQL = {
  fold: "select mk_fold_campaign_rollups($1) as folded",
  backlog: "select count(*)::int as deltas, coalesce(extract(epoch from now() - min(created_at)), 0)::float8 as age_seconds from campaign_rollup_deltas",
  campaign: `
    select c.campaign, c.started_at, c.recipients, c.snapshot, (select spec from resources where kind = 'Project') as project
    from campaign_sends c where c.campaign = $1`,
  applied: "select 1 from resources where kind = 'Campaign' and name = $1",
  /** One row per variant, per day, per country, and one for the whole campaign (dimension says which). */
  counts: `
    select case when grouping(variant) = 0 then 'variant' when grouping(day) = 0 then 'day' when grouping(country) = 0 then 'country' else 'total' end as dimension,
      variant, day::text as day, country,
      sum(sent)::bigint as sent, sum(failed)::bigint as failed, sum(delivered)::bigint as delivered, sum(bounced)::bigint as bounced,
      sum(complained)::bigint as complained, sum(opened)::bigint as opened, sum(clicked)::bigint as clicked,
      sum(unsubscribed)::bigint as unsubscribed, sum(converted)::bigint as converted, sum(opens)::bigint as opens, sum(clicks)::bigint as clicks,
      sum(human_opened)::bigint as human_opened, sum(human_clicked)::bigint as human_clicked, sum(human_opens)::bigint as human_opens,
      sum(machine_opens)::bigint as machine_opens, sum(human_clicks)::bigint as human_clicks, sum(machine_clicks)::bigint as machine_clicks
    from campaign_counts where campaign = $1
    group by grouping sets ((variant), (day), (country), ())`,
  /** Machine opens and clicks by the reason they were taken for a machine's, most first (campaign_reasons, migration 000025). */
  machineReasons: `
    select reason, sum(opens)::bigint as opens, sum(clicks)::bigint as clicks
    from campaign_reasons where campaign = $1
    group by reason having sum(opens) + sum(clicks) > 0
    order by sum(opens) + sum(clicks) desc, reason
    limit $2`,
  /** Money per currency, per variant and for the whole campaign (variant null). */
  revenue: `
    select variant, currency, sum(purchases)::bigint as purchases, sum(refunds)::bigint as refunds,
      sum(revenue_minor)::bigint as revenue_minor, sum(refunded_minor)::bigint as refunded_minor
    from campaign_money where campaign = $1
    group by grouping sets ((variant, currency), (currency))
    order by currency`,
  /**
   * The funnel by the locale each recipient got: the campaign's ledger rows
   * with their first engagements (one per kind, campaign_engagements). Reads
   * the campaign's sends, not a rollup; run only for campaigns sent with locales.
   */
  localeCounts: `
    with engaged as (
      select subscriber_id, bool_or(kind = 'delivered') as delivered, bool_or(kind = 'opened') as opened, bool_or(kind = 'clicked') as clicked,
        bool_or(kind = 'opened_human') as human_opened, bool_or(kind = 'clicked_human') as human_clicked,
        bool_or(kind = 'unsubscribed') as unsubscribed, bool_or(kind = 'converted') as converted
      from campaign_engagements where campaign = $1 group by subscriber_id
    )
    select coalesce(s.locale, '') as locale, count(*) filter (where s.status = 'sent')::bigint as sent,
      count(*) filter (where g.delivered)::bigint as delivered, count(*) filter (where g.opened)::bigint as opened,
      count(*) filter (where g.clicked)::bigint as clicked, count(*) filter (where g.human_opened)::bigint as human_opened,
      count(*) filter (where g.human_clicked)::bigint as human_clicked, count(*) filter (where g.unsubscribed)::bigint as unsubscribed,
      count(*) filter (where g.converted)::bigint as converted
    from sends s left join engaged g on g.subscriber_id = s.subscriber_id
    where s.campaign = $1 and s.locale is not null
    group by 1`,
  /** Money attributed to the campaign by the locale its buyer got it in (the events the rollups count: purchases and refunds). */
  localeRevenue: `
    select coalesce(s.locale, '') as locale, e.currency, count(*) filter (where e.name = 'purchase')::bigint as purchases,
      count(*) filter (where e.name = 'refund')::bigint as refunds,
      coalesce(sum(e.amount_minor) filter (where e.name = 'purchase'), 0)::bigint as revenue_minor,
      coalesce(sum(e.amount_minor) filter (where e.name = 'refund'), 0)::bigint as refunded_minor
    from events e left join sends s on s.campaign = e.campaign and s.subscriber_id = e.subscriber_id
    where e.campaign = $1 and e.name in ('purchase', 'refund') and e.currency is not null
    group by 1, 2
    order by 2`,
  /** Every started campaign with its totals, newest first. */
  summaries: `
    select c.campaign, c.started_at, c.recipients,
      coalesce(sum(n.sent), 0)::bigint as sent, coalesce(sum(n.delivered), 0)::bigint as delivered, coalesce(sum(n.opened), 0)::bigint as opened,
      coalesce(sum(n.clicked), 0)::bigint as clicked, coalesce(sum(n.human_opened), 0)::bigint as human_opened,
      coalesce(sum(n.human_clicked), 0)::bigint as human_clicked, coalesce(sum(n.converted), 0)::bigint as converted,
      coalesce(sum(n.complained), 0)::bigint as complained
    from campaign_sends c left join campaign_counts n on n.campaign = c.campaign
    where c.sequence is null and c.form is null and c.message is null
    group by c.campaign, c.started_at, c.recipients
    order by c.started_at desc, c.campaign`,
  summaryRevenue: `
    select campaign, currency, sum(purchases)::bigint as purchases, sum(refunds)::bigint as refunds,
      sum(revenue_minor)::bigint as revenue_minor, sum(refunded_minor)::bigint as refunded_minor
    from campaign_money group by campaign, currency order by campaign, currency`,
} as const;
