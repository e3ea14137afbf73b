import { timingSafeEqual } from "node:crypto";
import type pg from "pg";
import { durationMs } from "../../schemas/common.js";
import type { ApiTokenInfo, CreatedToken, RevokedToken, TokenCreateRequest, TokenScope } from "../../schemas/tokens.js";
import { ApiError } from "../http/errors.js";
import { TOKEN_SQL } from "./queries.js";
import { newToken, tokenDigest } from "./secret.js";

interface TokenRow {
  name: string;
  scope: TokenScope;
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

function tokenInfo(row: TokenRow): ApiTokenInfo {
  return {
    name: row.name,
    scope: row.scope,
    createdAt: row.created_at.toISOString(),
    expiresAt: row.expires_at?.toISOString() ?? null,
    revokedAt: row.revoked_at?.toISOString() ?? null,
    lastUsedAt: row.last_used_at?.toISOString() ?? null,
  };
}

/** A new token, stored as its digest; the answer is the only place the token itself appears. 409 when the name is taken. */
export async function createToken(pool: pg.Pool, request: TokenCreateRequest): Promise<CreatedToken> {
  const token = newToken();
  const expiresInMs = request.expiresIn === undefined ? null : durationMs(request.expiresIn);
  const row = (await pool.query<TokenRow>(TOKEN_SQL.create, [request.name, request.scope, tokenDigest(token), expiresInMs])).rows[0];
  if (!row) {
    throw new ApiError(409, "token_exists", `a token named ${request.name} exists already (a revoked token keeps its name); choose another name`, [
      { path: "name", message: "taken" },
    ]);
  }
  return { ...tokenInfo(row), token };
}

/** Every token, revoked and expired ones too, oldest first. */
export async function listTokens(pool: pg.Pool): Promise<ApiTokenInfo[]> {
  return (await pool.query<TokenRow>(TOKEN_SQL.list)).rows.map(tokenInfo);
}

/** Revoke a token from now on, for every replica (each request looks its token up); again, it stays as it was. 404 for an unknown name. */
export async function revokeToken(pool: pg.Pool, name: string): Promise<RevokedToken> {
  const revoked = (await pool.query<TokenRow>(TOKEN_SQL.revoke, [name])).rows[0];
  const row = revoked ?? (await pool.query<TokenRow>(TOKEN_SQL.byName, [name])).rows[0];
  if (!row?.revoked_at) throw new ApiError(404, "unknown_token", `no token named ${name}; mk tokens list shows them`);
  return { ...tokenInfo(row), revokedAt: row.revoked_at.toISOString(), alreadyRevoked: !revoked };
}

/**
 * The name and scope of `token` when it is neither revoked nor expired:
 * looked up by its digest, which is then compared in constant time. Its use
 * is recorded at most once a minute, so a busy token costs no write per request.
 */
export async function activeToken(pool: pg.Pool, token: string): Promise<{ name: string; scope: TokenScope } | undefined> {
  const digest = tokenDigest(token);
  const row = (await pool.query<{ name: string; scope: TokenScope; digest: Buffer; active: boolean; stale: boolean }>(TOKEN_SQL.byDigest, [digest])).rows[0];
  if (!row || !timingSafeEqual(row.digest, digest) || !row.active) return undefined;
  if (row.stale) await pool.query(TOKEN_SQL.touch, [row.name]);
  return { name: row.name, scope: row.scope };
}
