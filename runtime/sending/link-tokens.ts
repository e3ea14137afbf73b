import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Tokens in the public links of a sent email: unsubscribe (`/u/…`), tracked
 * click (`/c/…`), view in the browser (`/v/…`), the preference page (`/p/…`)
 * and the open pixel (`/o/…`). A token is base64url of
 *
 *   version (1) | kind (1) | send id (16) | link index (2) | issued, seconds (4) | MAC (16)
 *
 * where MAC is HMAC-SHA256 under MK_SIGNING_SECRET of everything before it,
 * truncated to 128 bits (RFC 2104 §5), compared in constant time. The token
 * names a ledger row, never a URL: a click redirects only to the link the
 * campaign stored at that index.
 */
export type LinkKind = "unsubscribe" | "click" | "view" | "preferences" | "open";

export interface LinkToken {
  kind: LinkKind;
  sendId: string;
  /** Which of the campaign variant's tracked links (clicks only; 0 otherwise). */
  linkIndex: number;
  issuedAt: Date;
}

const VERSION = 1;
const KIND_BYTES: Record<LinkKind, number> = { unsubscribe: 0x75, click: 0x63, view: 0x76, preferences: 0x70, open: 0x6f };
const PAYLOAD_BYTES = 24;
const MAC_BYTES = 16;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{54}$/;

/** How long a link works after the email was sent. Unsubscribing, and so the preference page, always works. */
export const TOKEN_LIFETIME_SECONDS: Record<LinkKind, number | undefined> = {
  unsubscribe: undefined,
  preferences: undefined,
  click: 400 * 24 * 3600,
  view: 400 * 24 * 3600,
  open: 400 * 24 * 3600,
};

function mac(secret: string, payload: Buffer): Buffer {
  return createHmac("sha256", secret).update(payload).digest().subarray(0, MAC_BYTES);
}

export function signLinkToken(secret: string, token: Omit<LinkToken, "issuedAt"> & { issuedAt?: Date }): string {
  const payload = Buffer.alloc(PAYLOAD_BYTES);
  payload.writeUInt8(VERSION, 0);
  payload.writeUInt8(KIND_BYTES[token.kind], 1);
  Buffer.from(token.sendId.replace(/-/g, ""), "hex").copy(payload, 2);
  payload.writeUInt16BE(token.linkIndex, 18);
  payload.writeUInt32BE(Math.floor((token.issuedAt ?? new Date()).getTime() / 1000), 20);
  return Buffer.concat([payload, mac(secret, payload)]).toString("base64url");
}

/**
 * The token's contents when it is genuine, of the expected kind and not
 * expired; undefined otherwise (forged, truncated, altered, or too old),
 * without saying which.
 */
export function verifyLinkToken(secret: string, text: string, kind: LinkKind, now = new Date()): LinkToken | undefined {
  if (!TOKEN_PATTERN.test(text)) return undefined;
  const bytes = Buffer.from(text, "base64url");
  if (bytes.length !== PAYLOAD_BYTES + MAC_BYTES || bytes.toString("base64url") !== text) return undefined;
  const payload = bytes.subarray(0, PAYLOAD_BYTES);
  if (!timingSafeEqual(mac(secret, payload), bytes.subarray(PAYLOAD_BYTES))) return undefined;
  if (payload.readUInt8(0) !== VERSION || payload.readUInt8(1) !== KIND_BYTES[kind]) return undefined;
  const issuedAt = new Date(payload.readUInt32BE(20) * 1000);
  const lifetime = TOKEN_LIFETIME_SECONDS[kind];
  if (lifetime !== undefined && now.getTime() - issuedAt.getTime() > lifetime * 1000) return undefined;
  const hex = payload.subarray(2, 18).toString("hex");
  const sendId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return { kind, sendId, linkIndex: payload.readUInt16BE(18), issuedAt };
}
