-- Up Migration

-- The campaign (and A/B variant) an event is attributed to, when it came
-- within the attribution window after a send or a click of that campaign.
alter table events add column campaign text;
alter table events add column variant text;
create index events_send on events (send_id, name, occurred_at) where send_id is not null;
create index events_campaign on events (campaign, occurred_at) where campaign is not null;

-- Down Migration
drop index events_campaign;
drop index events_send;
alter table events drop column variant;
alter table events drop column campaign;
