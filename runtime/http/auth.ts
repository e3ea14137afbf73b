import { timingSafeEqual } from "node:crypto";
import type pg from "pg";
import type { TokenScope } from "../../schemas/tokens.js";
import { activeToken } from "../tokens/store.js";
import { TOKEN_PREFIX, tokenDigest } from "../tokens/secret.js";

/** Who a token is: its name (MK_API_TOKEN for the bootstrap one) and scope. */
export interface TokenIdentity {
  name: string;
  scope: TokenScope;
}

/** The name of MK_API_TOKEN in consent histories and the like. */
export const BOOTSTRAP_TOKEN_NAME = "MK_API_TOKEN";

/** What a request's `Authorization` header is worth: a token's identity, or nothing (no token, or one unknown, expired or revoked). */
export type ScopeOf = (authorization: string | undefined) => Promise<TokenIdentity | undefined>;

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(authorization: string | undefined): string | undefined {
  return authorization === undefined ? undefined : /^Bearer (\S+)$/.exec(authorization)?.[1];
}

/** Whether `token` is the secret whose SHA-256 is `digest`, in constant time (both sides hashed, so neither length nor content shows). */
export function matchesDigest(token: string, digest: Buffer): boolean {
  return timingSafeEqual(tokenDigest(token), digest);
}

/**
 * The scope of `Authorization: Bearer <token>`. MK_API_TOKEN is the bootstrap
 * admin, compared in constant time (both sides hashed first, so neither its
 * length nor its content shows in the time taken); an `mk_` token is looked up
 * in the database on every request, so a revocation holds at once on every
 * replica. Anything else is worth nothing, without asking the database.
 */
export function bearerScope(deps: { apiToken: string; pool: pg.Pool }): ScopeOf {
  const bootstrap = tokenDigest(deps.apiToken);
  return async (authorization) => {
    const token = bearerToken(authorization);
    if (token === undefined) return undefined;
    if (matchesDigest(token, bootstrap)) return { name: BOOTSTRAP_TOKEN_NAME, scope: "admin" };
    if (!token.startsWith(TOKEN_PREFIX)) return undefined;
    return activeToken(deps.pool, token);
  };
}
