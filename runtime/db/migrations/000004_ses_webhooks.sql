-- Up Migration

-- SNS messages already handled, by SNS MessageId: SNS redelivers, and a
-- redelivered bounce must count once.
create table sns_messages (
  message_id text primary key,
  topic_arn text not null,
  type text not null,
  received_at timestamptz not null default now()
);

-- Provider events find their send by the provider's message id when the tag is missing.
create index sends_provider_message on sends (provider_message_id) where provider_message_id is not null;

-- Down Migration
drop index sends_provider_message;
drop table sns_messages;
