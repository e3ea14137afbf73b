/** Named SQL for API tokens; parameters only. */
export const TOKEN_SQL = {
  /** Nothing returned: the name is taken (names are never reused, even once revoked). */
  create: `
    insert into api_tokens (name, scope, digest, expires_at)
    values ($1, $2, $3, now() + $4::bigint * interval '1 millisecond')
    on conflict (name) do nothing
    returning name, scope, created_at, expires_at, revoked_at, last_used_at`,
  list: "select name, scope, created_at, expires_at, revoked_at, last_used_at from api_tokens order by created_at, name",
  /** Nothing returned: no such token, or revoked already. */
  revoke: `
    update api_tokens set revoked_at = now() where name = $1 and revoked_at is null
    returning name, scope, created_at, expires_at, revoked_at, last_used_at`,
  byName: "select name, scope, created_at, expires_at, revoked_at, last_used_at from api_tokens where name = $1",
  /** The database's clock decides expiry, the same for every replica. */
  byDigest: `
    select name, scope, digest,
      revoked_at is null and (expires_at is null or expires_at > now()) as active,
      last_used_at is null or last_used_at < now() - interval '1 minute' as stale
    from api_tokens where digest = $1`,
  touch: "update api_tokens set last_used_at = now() where name = $1",
} as const;
