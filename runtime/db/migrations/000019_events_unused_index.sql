-- Up Migration

-- events_campaign (000005) served no query: campaign reports read the rollups
-- (000007), never raw events by campaign, and every event stored paid for it.
-- What reads events, and the index each uses (EXPLAIN on a populated table):
-- audience conditions, a subscriber's export and the cascade from erasing a
-- subscriber use events_subscriber_name_time; attribution's last click uses
-- events_send.
drop index events_campaign;

-- Down Migration
create index events_campaign on events (campaign, occurred_at) where campaign is not null;
