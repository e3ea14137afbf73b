import { createHash } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { PageStringKey } from "../locales/page-strings.js";
import type { PageText } from "./page-language.js";

/** Text made safe for HTML, in elements and attribute values alike. */
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The User-Agent header for the consent history, at most 500 characters. */
export function userAgent(request: FastifyRequest): string | null {
  return request.headers["user-agent"]?.slice(0, 500) ?? null;
}

const STYLE =
  "body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}" +
  "button{font-size:1rem;padding:.6rem 1.2rem;border-radius:.4rem;border:1px solid #444;background:#222;color:#fff;cursor:pointer}" +
  "fieldset{border:0;padding:0;margin:1.5rem 0}label{display:block;margin:.8rem 0}label span{display:block;margin:.2rem 0 0 1.6rem;color:#555}";

/**
 * The runtime's own pages (unsubscribe, preferences) run no script and load
 * nothing: only their one stylesheet (by its hash), forms posting back here,
 * and no framing.
 */
const PAGE_CSP = [
  "default-src 'none'",
  `style-src 'sha256-${createHash("sha256").update(STYLE).digest("base64")}'`,
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join("; ");

/**
 * An HTML page of the runtime in the reader's language (`text`: its strings,
 * lang and dir), titled by one of them; `body` is HTML its caller escaped
 * (PageText.html). Never cached, never indexed, no referrer.
 */
export function page(reply: FastifyReply, status: number, text: PageText, titleKey: PageStringKey, body: string): FastifyReply {
  const title = text.html(titleKey);
  return reply
    .status(status)
    .type("text/html; charset=utf-8")
    .header("content-security-policy", PAGE_CSP)
    .header("cache-control", "no-store")
    .header("referrer-policy", "no-referrer")
    .header("x-robots-tag", "noindex")
    .send(
      `<!doctype html><html lang="${escapeHtml(text.lang)}" dir="${text.dir}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
        `<title>${title}</title><style>${STYLE}</style></head>` +
        `<body><h1>${title}</h1>${body}</body></html>`,
    );
}
