-- Up Migration

-- API tokens besides MK_API_TOKEN (the bootstrap admin, never stored), each
-- with one scope (runtime/http/access.ts says which routes it reaches). Only
-- the SHA-256 digest of a token is kept: the token itself is shown once, when
-- it is created. A token is never deleted: revoked, it stays listed, and its
-- name is never given to another.
create table api_tokens (
  name text primary key check (name ~ '^[a-z0-9-]{1,64}$'),
  scope text not null check (scope in ('admin', 'apply', 'plan', 'ingest', 'report')),
  digest bytea not null unique check (length(digest) = 32),
  created_at timestamptz not null default now(),
  -- Null: never expires.
  expires_at timestamptz,
  revoked_at timestamptz,
  -- Recorded at most once a minute per token.
  last_used_at timestamptz
);

-- Down Migration
drop table api_tokens;
