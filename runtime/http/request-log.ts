import { storedAddress } from "../engagement/ip-privacy.js";

/** Characters of a link token a log line keeps: enough to tell requests apart, far too few to use. */
const KEPT_TOKEN_CHARACTERS = 8;

/** `/u/`, `/c/`, `/v/`, and any other public link under a one-character path (`/p/…`). */
const PUBLIC_LINK = /^\/[^/?#]\//;

/**
 * A request URL as the log may show it. A public link's token is a working
 * link (someone's unsubscribe, click or email in the browser), so after
 * `/c/` only its first 8 characters are kept, followed by "…", and the rest of
 * the URL (query included) is dropped. Every other URL is kept whole.
 */
export function loggableUrl(url: string): string {
  const link = PUBLIC_LINK.exec(url);
  if (!link) return url;
  const rest = url.slice(link[0].length);
  return rest.length > KEPT_TOKEN_CHARACTERS ? `${link[0]}${rest.slice(0, KEPT_TOKEN_CHARACTERS)}…` : url;
}

/**
 * The request as the log shows it (Fastify's own fields), its URL through
 * loggableUrl. A public link's request is a reader's (an open, a click, an
 * unsubscribe): their address is logged cut to its /24 or /48, as opens and
 * clicks store it by default, so no log line ties a whole address to a send.
 */
export function serializeRequest(request: { method: string; url: string; host?: string; ip?: string; socket?: { remotePort?: number } }) {
  const reader = PUBLIC_LINK.test(request.url);
  return {
    method: request.method,
    url: loggableUrl(request.url),
    host: request.host,
    remoteAddress: reader ? (storedAddress(request.ip, "truncate") ?? undefined) : request.ip,
    ...(reader ? {} : { remotePort: request.socket?.remotePort }),
  };
}
