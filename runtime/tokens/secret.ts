import { createHash, randomBytes } from "node:crypto";

/** Every token mk makes starts with this, so secret scanners can find leaked ones. */
export const TOKEN_PREFIX = "mk_";

/** A new token: the prefix and 32 random bytes, base64url (46 characters in all). */
export function newToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString("base64url");
}

/** The SHA-256 of a token, as stored and looked up. */
export function tokenDigest(token: string): Buffer {
  return createHash("sha256").update(token).digest();
}
