import { canonicalLocale, supportedSpelling } from "../../schemas/locales.js";

/** Scripts written right to left (ISO 15924): Arabic, Hebrew, Thaana, Syriac, N'Ko, Adlam, Hanifi Rohingya, Mandaic, Samaritan. */
const RTL_SCRIPTS = new Set(["Arab", "Hebr", "Thaa", "Syrc", "Nkoo", "Adlm", "Rohg", "Mand", "Samr"]);

/**
 * The locales to try for a reader, best first: the subscriber's own
 * (pt-BR), then its shorter forms (pt), then the project's default — each
 * only when the project supports it, spelled as mk.yaml spells it. The
 * default always ends the chain, so the chain is never empty.
 */
export function localeChain(requested: string | null | undefined, supported: readonly string[], fallback: string): string[] {
  const chain: string[] = [];
  const add = (code: string | undefined) => {
    if (code !== undefined && !chain.includes(code)) chain.push(code);
  };
  if (requested) {
    const subtags = canonicalLocale(requested).split("-");
    for (let n = subtags.length; n > 0; n--) add(supportedSpelling(subtags.slice(0, n).join("-"), supported));
  }
  add(supportedSpelling(fallback, supported) ?? fallback);
  return chain;
}

/** The locale a reader gets: the first of its chain. */
export function resolveLocale(requested: string | null | undefined, supported: readonly string[], fallback: string): string {
  return localeChain(requested, supported, fallback)[0]!;
}

/** Whether a language is written right to left (ar, he, fa, ur …), from the script Intl infers for it. */
export function isRightToLeft(code: string): boolean {
  try {
    const script = new Intl.Locale(code).maximize().script;
    return script !== undefined && RTL_SCRIPTS.has(script);
  } catch {
    return false;
  }
}

/** The `dir` of a document in that language. */
export function textDirection(code: string): "ltr" | "rtl" {
  return isRightToLeft(code) ? "rtl" : "ltr";
}

/** Whether Intl knows the language at all: "xx" or "en-XX" are well-formed tags but no language or region anyone speaks. */
export function isKnownLocale(code: string): boolean {
  try {
    return new Intl.DisplayNames(["en"], { type: "language", fallback: "none" }).of(code) !== undefined;
  } catch {
    return false;
  }
}
