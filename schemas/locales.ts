import { z } from "zod";
import { locale, templatePath } from "./common.js";

/**
 * Languages of a repository (issue 20): mk.yaml's `locales:`, the per-locale
 * overrides a campaign or a sequence's send step may carry, and the message
 * catalogs in `locales/<code>.yaml`.
 */

/** mk.yaml `locales:` — the languages the project writes in and what a missing translation is. */
export const localeSettings = z
  .strictObject({
    default: locale.optional().meta({ description: "The language every fallback chain ends in; default defaults.locale. It must be one of supported." }),
    supported: z.array(locale).min(1).max(100).meta({ description: "Every language the project sends in; each may have a catalog locales/<code>.yaml." }),
    missing: z
      .enum(["error", "warn"])
      .default("error")
      .meta({ description: "A key a template uses that a supported locale's catalog lacks: error (default) or warn (the message falls back along the chain)." }),
  })
  .superRefine((settings, ctx) => {
    const seen = new Set<string>();
    settings.supported.forEach((code, i) => {
      const canonical = canonicalLocale(code);
      if (seen.has(canonical)) ctx.addIssue({ code: "custom", path: ["supported", i], message: `locale "${code}" is listed twice` });
      seen.add(canonical);
    });
    if (settings.default !== undefined && !seen.has(canonicalLocale(settings.default))) {
      ctx.addIssue({ code: "custom", path: ["default"], message: `default locale "${settings.default}" is not in supported (${settings.supported.join(", ")})`, params: { code: "MK120" } });
    }
  });
export type LocaleSettings = z.infer<typeof localeSettings>;

/** What a campaign or send step says differently in one language. */
export const localeOverride = z
  .strictObject({
    subject: z.string().min(1).optional(),
    preheader: z.string().optional(),
    template: templatePath.optional().meta({ description: "A whole template of its own for this language." }),
  })
  .refine((o) => o.subject !== undefined || o.preheader !== undefined || o.template !== undefined, { error: "set subject, preheader, template or more" });
export type LocaleOverride = z.infer<typeof localeOverride>;

/** `locales: { th: { subject: … } }` on a campaign or a sequence's send step. */
export const localeOverrides = z
  .record(locale, localeOverride)
  .meta({ description: "Per-locale subject, preheader or template, by locale code of mk.yaml's locales.supported." });
export type LocaleOverrides = z.infer<typeof localeOverrides>;

/** A catalog key segment: `checkout.cta` is the segments checkout and cta. */
export const CATALOG_SEGMENT_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** How deep a catalog's keys may nest. */
export const MAX_CATALOG_DEPTH = 8;

/** A nested catalog as the YAML file holds it: maps of maps whose leaves are ICU messages. */
export type NestedCatalog = { [segment: string]: string | NestedCatalog };

const catalogNode: z.ZodType<NestedCatalog> = z.lazy(() =>
  z.record(
    z.string().regex(CATALOG_SEGMENT_PATTERN, { error: "a catalog key is letters, digits, _ and - (nest maps for dotted keys)" }),
    z.union([z.string().max(10_000), catalogNode], { error: "must be a message (text) or a map of more keys" }),
  ),
);

/** locales/<code>.yaml: nested keys whose values are ICU MessageFormat messages (handlebars expressions allowed). */
export const catalogFile = catalogNode;

/** A catalog flattened to dotted keys: `{ "checkout.cta": "Buy now" }`. */
export type Catalog = Record<string, string>;
/** Every catalog of a project, by locale code as mk.yaml's supported list spells it. */
export type Catalogs = Record<string, Catalog>;

/** The dotted keys of a nested catalog, with their messages. */
export function flattenCatalog(nested: NestedCatalog, prefix = ""): Catalog {
  const flat: Catalog = {};
  for (const [segment, value] of Object.entries(nested)) {
    const key = prefix ? `${prefix}.${segment}` : segment;
    if (typeof value === "string") flat[key] = value;
    else Object.assign(flat, flattenCatalog(value, key));
  }
  return flat;
}

/** Whether two spellings name one locale: pt-br and pt-BR do. */
export function sameLocale(a: string, b: string): boolean {
  return canonicalLocale(a).toLowerCase() === canonicalLocale(b).toLowerCase();
}

/** How `supported` (mk.yaml's list) spells `code`, the name catalogs and overrides are looked up by; undefined when it lists no such locale. */
export function supportedSpelling(code: string, supported: readonly string[]): string | undefined {
  return supported.find((listed) => sameLocale(listed, code));
}

/** The tag as Intl spells it (pt-br → pt-BR); the input when it is no tag. */
export function canonicalLocale(code: string): string {
  try {
    return Intl.getCanonicalLocales(code)[0] ?? code;
  } catch {
    return code;
  }
}
