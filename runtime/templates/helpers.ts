import type { HelperOptions } from "handlebars";
import { formatMinor } from "../money.js";

/**
 * The handlebars helpers every template may use (FORMAT.md, "templates").
 * Locale and time zone default to the subscriber's, then the project's.
 */

interface RootContext {
  subscriber?: { locale?: string; timezone?: string };
  project?: { locale?: string; timezone?: string };
  /** The reader's translations (runtime/locales/translator.ts); absent where no catalogs are applied. */
  i18n?: { translate(key: string, args: Record<string, unknown>, root: unknown): string };
}

const DATE_STYLES = new Set(["full", "long", "medium", "short"]);

/**
 * Intl formatters by their options: making one costs far more than using it,
 * and a send renders the same few for every recipient.
 */
const formatters = new Map<string, Intl.DateTimeFormat>();
function cached<T extends Intl.DateTimeFormat>(key: string, make: () => T): T {
  let formatter = formatters.get(key) as T | undefined;
  if (!formatter) {
    if (formatters.size >= 1000) formatters.clear();
    formatter = make();
    formatters.set(key, formatter);
  }
  return formatter;
}

function rootOf(options: HelperOptions): RootContext {
  return (options.data?.root ?? {}) as RootContext;
}

function localeOf(options: HelperOptions): string {
  const root = rootOf(options);
  return (options.hash["locale"] as string | undefined) ?? root.subscriber?.locale ?? root.project?.locale ?? "en";
}

/** `{{formatDate value "long" timezone="Asia/Bangkok"}}`: a date in the reader's language and zone. */
function formatDate(value: unknown, ...rest: unknown[]): string {
  const options = rest.pop() as HelperOptions;
  const style = typeof rest[0] === "string" && DATE_STYLES.has(rest[0]) ? rest[0] : "medium";
  const date = value instanceof Date ? value : new Date(value as string | number);
  if (Number.isNaN(date.getTime())) return "";
  const root = rootOf(options);
  const timeZone = (options.hash["timezone"] as string | undefined) ?? root.subscriber?.timezone ?? root.project?.timezone;
  const locale = localeOf(options);
  return cached(`date|${locale}|${style}|${timeZone ?? ""}`, () =>
    new Intl.DateTimeFormat(locale, { dateStyle: style as Intl.DateTimeFormatOptions["dateStyle"], ...(timeZone ? { timeZone } : {}) }),
  ).format(date);
}

/**
 * `{{formatMoney 129900 "THB"}}`: integer minor units as money. The amount is
 * turned into a decimal string, not divided as a float. An amount that is no
 * number, or a currency that is no ISO 4217 code, fails the message (the
 * send worker fails that one message with this reason and sends the rest).
 */
function formatMoney(minor: unknown, currency: unknown, options: HelperOptions): string {
  if (typeof currency !== "string") return "";
  const units = minorUnits(minor);
  try {
    return formatMinor(units, currency, localeOf(options));
  } catch (error) {
    if (error instanceof RangeError) throw new Error(`formatMoney: currency ${JSON.stringify(currency)} is not an ISO 4217 currency code`);
    throw error;
  }
}

/** Minor units from a number, a bigint, or text of a number (an attribute imported from CSV may be one); fractions are cut off. */
function minorUnits(minor: unknown): bigint {
  if (typeof minor === "bigint") return minor;
  const number = typeof minor === "number" ? minor : typeof minor === "string" && minor.trim() !== "" ? Number(minor) : Number.NaN;
  if (!Number.isFinite(number)) {
    const given = typeof minor === "string" ? JSON.stringify(minor.length > 40 ? `${minor.slice(0, 37)}...` : minor) : minor === null || typeof minor !== "object" ? String(minor) : "an object";
    throw new Error(`formatMoney: amount ${given} is not a number`);
  }
  return BigInt(Math.trunc(number));
}

/** `{{default subscriber.firstName "there"}}`: the value, or the fallback when it is empty. */
function defaultValue(value: unknown, fallback: unknown): unknown {
  return value === undefined || value === null || value === "" ? fallback : value;
}

/**
 * `{{t "checkout.cta" count=3}}`: the catalog message of the reader's
 * locale, or of the next one of its fallback chain (locales/<code>.yaml),
 * formatted with the named values as ICU arguments. No catalog, or no
 * catalog in the chain with the key, fails the message.
 */
function translate(key: unknown, options: HelperOptions): string {
  if (typeof key !== "string") throw new Error("t: the key must be text, e.g. {{t \"checkout.cta\"}}");
  const root = rootOf(options);
  if (!root.i18n) throw new Error(`t "${key}": the project has no locales (mk.yaml locales:)`);
  return root.i18n.translate(key, options.hash as Record<string, unknown>, root);
}

export const HELPERS = {
  formatDate,
  formatMoney,
  default: defaultValue,
  t: translate,
} as const;

export const HELPER_NAMES = Object.keys(HELPERS);
