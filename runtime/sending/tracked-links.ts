/**
 * Links in a campaign's HTML, prepared once when the campaign starts: UTM
 * parameters added to every static http(s) link, and with click tracking each
 * one replaced by `{{mkTrackedLink N}}`, which personalisation turns into the
 * recipient's signed /c/ link. The URLs are stored with the campaign, so a
 * click can only ever lead to one of them. Links with handlebars in them
 * (unsubscribeUrl, personalised URLs) are left alone.
 */
export interface TrackedHtml {
  html: string;
  /** The URLs, by the index in their `{{mkTrackedLink N}}`. */
  links: string[];
}

export const TRACKED_LINK_HELPER = "mkTrackedLink";

const ANCHOR_HREF = /(<a\b[^>]*?\shref=")([^"]*)(")/gi;

export function prepareLinks(html: string, options: { utm: Record<string, string>; trackClicks: boolean }): TrackedHtml {
  const links: string[] = [];
  const rewritten = html.replace(ANCHOR_HREF, (whole, before: string, href: string, after: string) => {
    const url = href.replace(/&amp;/g, "&");
    if (!/^https?:\/\//i.test(url) || url.includes("{{")) return whole;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return whole;
    }
    for (const [key, value] of Object.entries(options.utm)) {
      if (!parsed.searchParams.has(`utm_${key}`)) parsed.searchParams.set(`utm_${key}`, value);
    }
    const target = parsed.toString();
    if (!options.trackClicks) return `${before}${target.replace(/&/g, "&amp;")}${after}`;
    links.push(target);
    return `${before}{{${TRACKED_LINK_HELPER} ${links.length - 1}}}${after}`;
  });
  return { html: rewritten, links };
}
