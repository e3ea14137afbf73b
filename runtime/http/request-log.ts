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

/** The request as the log shows it (Fastify's own fields), its URL through loggableUrl. */
export function serializeRequest(request: { method: string; url: string; host?: string; ip?: string; socket?: { remotePort?: number } }) {
  return { method: request.method, url: loggableUrl(request.url), host: request.host, remoteAddress: request.ip, remotePort: request.socket?.remotePort };
}
