/** Named SQL for the public links (runtime/public/links.ts); parameters only. */
export const LINK_SQL = {
  /**
   * A tracked click ($1 send, $2 link index, $3 the event's data): stored as
   * a `click` event unless this (send, link) stored $4 already in this UTC
   * minute (click_throttle, migration 000013), with $5 its country, $6 the
   * address as kept, $7 actor and $8 its reason
   * (runtime/engagement/record-click.ts); returns a row when stored.
   */
  recordClick: `
    with slot as (
      insert into click_throttle as t (send_id, link, minute, recorded)
      values ($1, $2, date_trunc('minute', now()), 1)
      on conflict (send_id, link) do update
        set minute = excluded.minute, recorded = case when t.minute = excluded.minute then t.recorded + 1 else 1 end
        where t.minute <> excluded.minute or t.recorded < $4
      returning 1
    )
    insert into events (subscriber_id, name, occurred_at, send_id, data, campaign, variant, country, ip, actor, actor_reason)
    select s.subscriber_id, 'click', now(), s.id, $3, s.campaign, s.variant, $5, $6, $7, $8
    from slot, sends s
    where s.id = $1 and s.subscriber_id is not null
    returning 1`,
  /** The language of the subscriber a send ($1) went to: their own locale, else the one the message was sent in. */
  readerLocale: `
    select coalesce(sub.locale, s.locale) as locale
    from sends s left join subscribers sub on sub.id = s.subscriber_id
    where s.id = $1`,
} as const;
