import { ar } from "./pages/ar.js";
import { de } from "./pages/de.js";
import { en, type PageStrings } from "./pages/en.js";
import { es } from "./pages/es.js";
import { fr } from "./pages/fr.js";
import { ja } from "./pages/ja.js";
import { pt } from "./pages/pt.js";
import { th } from "./pages/th.js";

export type { PageStrings };
/** One string of the public pages: `preferences.title`. */
export type PageStringKey = keyof PageStrings;

/** The languages the runtime's public pages ship in, each with every string (runtime/locales/pages/<code>.ts). */
export const PAGE_STRINGS: Readonly<Record<string, PageStrings>> = { en, es, pt, de, fr, th, ja, ar };

/** A catalog key that overrides a page string: `mk.pages.preferences.title` in locales/<code>.yaml. */
export const PAGE_OVERRIDE_PREFIX = "mk.pages.";

/** Whether a dotted key (without the prefix) names a page string. */
export function isPageStringKey(key: string): key is PageStringKey {
  return Object.hasOwn(en, key);
}
