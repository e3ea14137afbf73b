import { IntlMessageFormat } from "intl-messageformat";
import type pg from "pg";
import type { Catalogs } from "../../schemas/locales.js";
import { appliedCatalogs, localesOf } from "../locales/applied.js";
import { localeChain, textDirection } from "../locales/chain.js";
import { isPageStringKey, PAGE_OVERRIDE_PREFIX, PAGE_STRINGS, type PageStringKey } from "../locales/page-strings.js";
import { en } from "../locales/pages/en.js";
import { appliedProject } from "../state/applied.js";
import { STATE_SQL } from "../state/queries.js";
import { escapeHtml } from "./page.js";

/** An argument shown emphasised, in <strong>: the subscriber's address. */
export class Emphasis {
  constructor(readonly text: string) {}
}

/** A page string's ICU arguments: text (escaped), counts for plurals, or emphasised text. */
export type PageArguments = Record<string, string | number | Emphasis>;

/** The applied project's default locale and the page strings its catalogs override, by locale (keys without mk.pages.). */
interface PageSettings {
  defaultLocale: string;
  overrides: Catalogs;
}

/** Compiled page messages by locale and text; null for an override that is no ICU message (the chain's next one serves). */
const compiled = new Map<string, IntlMessageFormat | null>();

function compile(code: string, message: string): IntlMessageFormat | null {
  const key = `${code}\u0000${message}`;
  let format = compiled.get(key);
  if (format === undefined) {
    try {
      format = new IntlMessageFormat(message, code, undefined, { ignoreTag: true });
    } catch {
      format = null;
    }
    if (compiled.size >= 2_000) compiled.clear();
    compiled.set(key, format);
  }
  return format;
}

/** How a formatted message is written out: as HTML (escaped, Emphasis in <strong>) or as plain text. */
type Output = "html" | "text";

const writePart = (value: unknown, output: Output): string => {
  if (output === "text") return value instanceof Emphasis ? value.text : String(value);
  return value instanceof Emphasis ? `<strong>${escapeHtml(value.text)}</strong>` : escapeHtml(String(value));
};

/** A message written out, or undefined when it does not compile or needs an argument the page does not give. */
function formatMessage(code: string, message: string, args: PageArguments, output: Output): string | undefined {
  const format = compile(code, message);
  if (!format) return undefined;
  try {
    return format
      .formatToParts<Emphasis>(args)
      .map((part) => writePart(part.value, output))
      .join("");
  } catch {
    return undefined;
  }
}

/**
 * The strings of one page for one reader: each key from the first locale of
 * the chain that has it, the project's override (its catalog's
 * `mk.pages.<key>`) before the shipped string, English last.
 */
export class PageText {
  readonly lang: string;
  readonly dir: "ltr" | "rtl";

  constructor(
    /** The reader's page languages, best first; the first is the page's `lang`. */
    readonly chain: readonly string[],
    private readonly overrides: Catalogs,
  ) {
    this.lang = chain[0] ?? "en";
    this.dir = textDirection(this.lang);
  }

  /** A string as HTML: its words and arguments escaped, an Emphasis argument in <strong>. */
  html(key: PageStringKey, args: PageArguments = {}): string {
    return this.format(key, args, "html");
  }

  /** A string as plain text, for a JSON answer. */
  text(key: PageStringKey, args: PageArguments = {}): string {
    return this.format(key, args, "text");
  }

  private format(key: PageStringKey, args: PageArguments, output: Output): string {
    for (const code of this.chain) {
      for (const message of [this.overrides[code]?.[key], PAGE_STRINGS[code]?.[key]]) {
        const written = message === undefined ? undefined : formatMessage(code, message, args, output);
        if (written !== undefined) return written;
      }
    }
    return formatMessage("en", en[key], args, output) ?? writePart(en[key], output);
  }

  /** Names joined as the page's language joins a list ("A, B and C", "A、B、C"), as plain text. */
  list(names: readonly string[]): string {
    return new Intl.ListFormat(this.lang, { type: "conjunction" }).format(names);
  }
}

/** A well-formed language tag of an Accept-Language entry. */
const LANGUAGE_TAG = /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/;

/** An Accept-Language header's tags, most wanted first (q=0 and `*` left out); only its first 500 characters and 20 entries are read. */
export function acceptedLanguages(header: string | undefined): string[] {
  if (!header) return [];
  return header
    .slice(0, 500)
    .split(",")
    .slice(0, 20)
    .map((entry, index) => {
      const [tag = "", ...params] = entry.split(";").map((s) => s.trim());
      const q = params.find((p) => p.startsWith("q="));
      return { tag, q: q === undefined ? 1 : Number(q.slice(2)), index };
    })
    .filter((e) => LANGUAGE_TAG.test(e.tag) && Number.isFinite(e.q) && e.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index)
    .map((e) => e.tag);
}

/** A fallback no page language has: what a tag's chain holds before it is what the tag itself matched. */
const UNDETERMINED = "und";

/**
 * The page languages for a reader: the first requested tag any page
 * language matches (pt-BR → pt), then the project's default locale's own
 * (pt-BR → pt), then en.
 */
export function pageChain(requested: readonly string[], settings: PageSettings): string[] {
  const languages = [...new Set([...Object.keys(PAGE_STRINGS), ...Object.keys(settings.overrides)])];
  const tail = localeChain(settings.defaultLocale, languages, "en");
  const own = requested.map((tag) => localeChain(tag, languages, UNDETERMINED).filter((code) => code !== UNDETERMINED)).find((codes) => codes.length > 0) ?? [];
  return [...new Set([...own, ...tail, "en"])];
}

async function loadSettings(pool: pg.Pool): Promise<PageSettings> {
  const [project, catalogs] = await Promise.all([appliedProject(pool), appliedCatalogs(pool)]);
  const overrides: Catalogs = {};
  for (const [code, messages] of Object.entries(catalogs)) {
    const strings = Object.entries(messages)
      .filter(([key]) => key.startsWith(PAGE_OVERRIDE_PREFIX) && isPageStringKey(key.slice(PAGE_OVERRIDE_PREFIX.length)))
      .map(([key, message]) => [key.slice(PAGE_OVERRIDE_PREFIX.length), message] as const);
    if (strings.length > 0) overrides[code] = Object.fromEntries(strings);
  }
  return { defaultLocale: project ? localesOf(project).default : "en", overrides };
}

/** Who reads a page: their own locale when the page is theirs (a subscriber's, a signup's), else the request's Accept-Language. */
export interface PageReader {
  locale?: string | null | undefined;
  acceptLanguage?: string | undefined;
}

/**
 * The public pages' languages. The project's default locale and catalog
 * overrides are read again only when the applied serial moved: a request
 * costs one read of the one-row state table.
 */
export function pageLanguages(pool: pg.Pool): { forReader(reader: PageReader): Promise<PageText> } {
  let cached: { serial: string; settings: Promise<PageSettings> } | undefined;
  const settings = async () => {
    const serial = String((await pool.query<{ serial: string }>(STATE_SQL.serial)).rows[0]?.serial ?? "");
    if (cached?.serial !== serial) {
      const loading = loadSettings(pool);
      cached = { serial, settings: loading };
      loading.catch(() => {
        if (cached?.settings === loading) cached = undefined;
      });
    }
    return cached.settings;
  };
  return {
    async forReader(reader) {
      const requested = reader.locale ? [reader.locale] : acceptedLanguages(reader.acceptLanguage);
      const current = await settings();
      return new PageText(pageChain(requested, current), current.overrides);
    },
  };
}
