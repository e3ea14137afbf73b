import { z } from "zod";
import { duration } from "./common.js";

/**
 * What an API token may do (README, "Tokens and scopes"): `admin` everything,
 * `apply` what `plan` may and applying and sending, `plan` reading the state
 * and counting audiences, `ingest` posting events, `report` reading reports,
 * `messages` sending transactional messages (POST /v1/messages/:name).
 */
export const TOKEN_SCOPES = ["admin", "apply", "plan", "ingest", "report", "messages"] as const;
export const tokenScope = z.enum(TOKEN_SCOPES, { error: `must be one of ${TOKEN_SCOPES.join(", ")}` });
export type TokenScope = z.infer<typeof tokenScope>;

export const tokenName = z.string().regex(/^[a-z0-9-]{1,64}$/, { error: "must be 1 to 64 lower-case letters, digits and dashes" });

/** `POST /v1/tokens` (`mk tokens create`): the token is in the answer, once. */
export const tokenCreateRequest = z.strictObject({
  name: tokenName,
  scope: tokenScope,
  /** From now; left out, the token never expires. */
  expiresIn: duration.optional(),
});
export type TokenCreateRequest = z.infer<typeof tokenCreateRequest>;

/** A token as `GET /v1/tokens` lists it: never the token, nor its digest. Times are ISO 8601. */
export interface ApiTokenInfo {
  name: string;
  scope: TokenScope;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  /** To the minute: a token's use is recorded at most once a minute. */
  lastUsedAt: string | null;
}

/** The answer to `POST /v1/tokens`: the only time the token is shown. */
export interface CreatedToken extends ApiTokenInfo {
  token: string;
}

/** The answer to `POST /v1/tokens/:name/revoke`. */
export interface RevokedToken extends ApiTokenInfo {
  revokedAt: string;
  /** It was revoked before (revokedAt is that first time). */
  alreadyRevoked: boolean;
}
