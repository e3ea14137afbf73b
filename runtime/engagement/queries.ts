/** Named SQL for the open pixel and the classified clicks (runtime/engagement/); parameters only. */
export const ENGAGEMENT_SQL = {
  /** What opens and clicks reported by SES or posted to /v1/events keep of their address: the applied project's tracking.ip. */
  trackingIp: "select coalesce(spec -> 'tracking' ->> 'ip', 'truncate') as ip from resources where kind = 'Project'",
  /**
   * What an open of send $1 is weighed and stored with: its subscriber (a
   * message to an address that is none has no events), their country, the
   * snapshot's tracking settings, whether it is transactional mail, and the
   * seconds since it was sent.
   */
  openContext: `
    select s.campaign, s.subscriber_id, sub.country, c.snapshot -> 'tracking' as tracking,
      coalesce((c.snapshot ->> 'transactional')::boolean, false) or c.message is not null as transactional,
      extract(epoch from now() - s.sent_at)::float8 as seconds_after_send
    from sends s join campaign_sends c on c.campaign = s.campaign
      left join subscribers sub on sub.id = s.subscriber_id
    where s.id = $1`,
  /**
   * An open of send $1 stored as an `open` event unless this send stored $2
   * in this UTC minute already (open_throttle, migration 000025): $3 data,
   * $4 country, $5 the stored address,
   * $6 actor, $7 its reason. Returns a row when stored.
   */
  recordOpen: `
    with slot as (
      insert into open_throttle as t (send_id, minute, recorded)
      values ($1, date_trunc('minute', now()), 1)
      on conflict (send_id) do update
        set minute = excluded.minute, recorded = case when t.minute = excluded.minute then t.recorded + 1 else 1 end
        where t.minute <> excluded.minute or t.recorded < $2
      returning 1
    )
    insert into events (subscriber_id, name, occurred_at, send_id, data, campaign, variant, country, ip, actor, actor_reason)
    select s.subscriber_id, 'open', now(), s.id, $3, s.campaign, s.variant, $4, $5, $6, $7
    from slot, sends s
    where s.id = $1 and s.subscriber_id is not null
    returning 1`,
  /**
   * One send's ($1) opens and clicks are stored one at a time, each seeing the ones before it: a scanner fetches every
   * link at once, and a burst's reclassification (migration 000025's trigger) must see a person's open stored meanwhile.
   */
  lockSendEngagement: "select pg_advisory_xact_lock(hashtext('mk_send_engagement'), hashtext($1::text))",
  /**
   * What a click on link $2 of send $1 is weighed and stored with: the
   * seconds since the send, how many other links of it were clicked in the
   * last $3 seconds, whether it was opened (a pixel request) before, and the
   * subscriber's country.
   */
  clickContext: `
    select sub.country, extract(epoch from now() - s.sent_at)::float8 as seconds_after_send,
      (select count(distinct e.data ->> 'link')::int from events e
        where e.send_id = s.id and e.name = 'click' and e.occurred_at > now() - make_interval(secs => $3)
          and (e.data ->> 'link') is distinct from $2::text) as other_links,
      exists (select 1 from events e where e.send_id = s.id and e.name = 'open') as opened
    from sends s left join subscribers sub on sub.id = s.subscriber_id
    where s.id = $1`,
  /**
   * Once a click of send $1 shows a burst, the clicks of the last $2 seconds
   * taken for a person's were the same machine's (their rollups follow,
   * migration 000025's trigger).
   */
  reclassifyBurst: `
    update events set actor = 'machine', actor_reason = 'link-burst'
    where send_id = $1 and name = 'click' and actor = 'human' and occurred_at > now() - make_interval(secs => $2)`,
} as const;
