import { LRUCache } from "lru-cache";
import type { CertificateSource } from "./sns-signature.js";

/** SNS signs with a few certificates per region at a time; more distinct URLs than this push the oldest out. */
const CACHED_CERTIFICATES = 32;

/**
 * Signing certificates over https, each fetched once while it stays among the
 * most recently used; a failed fetch is forgotten so the next message tries
 * again. Redirects are refused: the certificate is at the admitted URL or nowhere.
 */
export function httpsCertificates(): CertificateSource {
  const cache = new LRUCache<string, Promise<string>>({ max: CACHED_CERTIFICATES });
  return (url) => {
    let pem = cache.get(url.href);
    if (!pem) {
      pem = fetch(url, { redirect: "error", signal: AbortSignal.timeout(5000) }).then(async (response) => {
        if (!response.ok) throw new Error(`certificate ${url.href}: HTTP ${response.status}`);
        return response.text();
      });
      const fetching = pem;
      fetching.catch(() => cache.peek(url.href) === fetching && cache.delete(url.href));
      cache.set(url.href, fetching);
    }
    return pem;
  };
}

/** Confirms an SNS subscription by visiting its admitted SubscribeURL (no redirects). */
export async function visitSubscribeUrl(url: URL): Promise<void> {
  const response = await fetch(url, { redirect: "error", signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`SNS subscription confirmation: HTTP ${response.status}`);
}
