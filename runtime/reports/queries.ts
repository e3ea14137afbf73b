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
      sum(unsubscribed)::bigint as unsubscribed, sum(converted)::bigint as converted, sum(opens)::bigint as opens, sum(clicks)::bigint as clicks
    from campaign_counts where campaign = $1
    group by grouping sets ((variant), (day), (country), ())`,
  /** Money per currency, per variant and for the whole campaign (variant null). */
  revenue: `
    select variant, currency, sum(purchases)::bigint as purchases, sum(refunds)::bigint as refunds,
      sum(revenue_minor)::bigint as revenue_minor, sum(refunded_minor)::bigint as refunded_minor
    from campaign_money where campaign = $1
    group by grouping sets ((variant, currency), (currency))
    order by currency`,
  /** Every started campaign with its totals, newest first. */
  summaries: `
    select c.campaign, c.started_at, c.recipients,
      coalesce(sum(n.sent), 0)::bigint as sent, coalesce(sum(n.delivered), 0)::bigint as delivered, coalesce(sum(n.opened), 0)::bigint as opened,
      coalesce(sum(n.clicked), 0)::bigint as clicked, coalesce(sum(n.converted), 0)::bigint as converted,
      coalesce(sum(n.complained), 0)::bigint as complained
    from campaign_sends c left join campaign_counts n on n.campaign = c.campaign
    where c.sequence is null and c.form is null
    group by c.campaign, c.started_at, c.recipients
    order by c.started_at desc, c.campaign`,
  summaryRevenue: `
    select campaign, currency, sum(purchases)::bigint as purchases, sum(refunds)::bigint as refunds,
      sum(revenue_minor)::bigint as revenue_minor, sum(refunded_minor)::bigint as refunded_minor
    from campaign_money group by campaign, currency order by campaign, currency`,
} as const;
