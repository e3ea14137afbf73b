import { createHash, createHmac, hkdfSync, timingSafeEqual } from "node:crypto";

/**
 * The token of a signup's confirmation link (`/f/confirm/…`): base64url of
 *
 *   version (1) | signup id (8) | expires, seconds (4) | MAC (16)
 *
 * MAC is HMAC-SHA-256 of what precedes it, truncated to 128 bits, under a key
 * derived from MK_SIGNING_SECRET for this one use (HKDF-SHA-256), compared in
 * constant time. The signup row keeps only the token's SHA-256 digest; the
 * worker signs the same token again when it composes the email.
 */
export interface ConfirmToken {
  signupId: string;
  expiresAt: Date;
}

const VERSION = 1;
const PAYLOAD_BYTES = 13;
const MAC_BYTES = 16;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{39}$/;

export type ConfirmKey = Buffer & { readonly confirmKey: unique symbol };

export function confirmKey(signingSecret: string): ConfirmKey {
  return Buffer.from(hkdfSync("sha256", signingSecret, "mk", "mk signup confirmation v1", 32)) as ConfirmKey;
}

function mac(key: ConfirmKey, payload: Buffer): Buffer {
  return createHmac("sha256", key).update(payload).digest().subarray(0, MAC_BYTES);
}

export function signConfirmToken(key: ConfirmKey, token: ConfirmToken): string {
  const payload = Buffer.alloc(PAYLOAD_BYTES);
  payload.writeUInt8(VERSION, 0);
  payload.writeBigUInt64BE(BigInt(token.signupId), 1);
  payload.writeUInt32BE(Math.floor(token.expiresAt.getTime() / 1000), 9);
  return Buffer.concat([payload, mac(key, payload)]).toString("base64url");
}

/** The signup a token names, if its MAC holds (whether it expired is the caller's to say, on a page of its own). */
export function verifyConfirmToken(key: ConfirmKey, text: string): ConfirmToken | undefined {
  if (!TOKEN_PATTERN.test(text)) return undefined;
  const bytes = Buffer.from(text, "base64url");
  const payload = bytes.subarray(0, PAYLOAD_BYTES);
  if (payload.readUInt8(0) !== VERSION || !timingSafeEqual(mac(key, payload), bytes.subarray(PAYLOAD_BYTES))) return undefined;
  return { signupId: payload.readBigUInt64BE(1).toString(), expiresAt: new Date(payload.readUInt32BE(9) * 1000) };
}

/** What the signup row stores of its token. */
export function tokenDigest(token: string): Buffer {
  return createHash("sha256").update(token).digest();
}
