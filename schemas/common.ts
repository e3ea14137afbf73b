import { createRequire } from "node:module";
import emailAddresses from "email-addresses";
import { z } from "zod";

const require = createRequire(import.meta.url);

/**
 * Building blocks shared by every file kind and API payload. Checks that a
 * pattern cannot express (a real IANA zone, an assigned country code) are
 * refinements that carry their problem code in `params.code`, so the loader
 * reports them with the same code wherever they appear.
 */

export const NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const DURATION_PATTERN = /^([0-9]+)([mhdw])$/;
export const ENV_VAR_PATTERN = /^[A-Z_][A-Z0-9_]*$/;
export const EVENT_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/;
export const LOCAL_TIME_PATTERN = /^([01][0-9]|2[0-3]):[0-5][0-9]$/;

export const resourceName = z
  .string()
  .regex(NAME_PATTERN, {
    error: "must be lower-case letters, digits and dashes, start with a letter or digit, and be at most 63 characters",
  })
  .meta({ description: "Lower-case letters, digits and dashes; unique per kind." });

export const eventName = z
  .string()
  .regex(EVENT_NAME_PATTERN, { error: "must start with a letter and contain only letters, digits, _ . : -" });

/** Ten years: longer is a typo (or "never"), and past what dates in the database can count back. */
export const MAX_DURATION_MS = 3653 * 86_400_000;

export const duration = z
  .string()
  .regex(DURATION_PATTERN, { error: 'must be a duration such as "30m", "12h", "7d" or "2w"' })
  .refine((value) => !DURATION_PATTERN.test(value) || durationMs(value) <= MAX_DURATION_MS, { error: "must be at most ten years (521w)", params: { code: "MK014" } })
  .meta({ description: "<n>m | <n>h | <n>d | <n>w, at most ten years" });

const MS_PER_UNIT = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** Milliseconds in a duration string already accepted by `duration`. */
export function durationMs(value: string): number {
  const match = DURATION_PATTERN.exec(value);
  if (!match) throw new RangeError(`not a duration: ${value}`);
  return Number(match[1]) * MS_PER_UNIT[match[2] as keyof typeof MS_PER_UNIT];
}

const knownZones = new Set<string>();

/**
 * A zone name from the IANA database (not an offset such as "+07:00").
 * Valid names are remembered: asking ICU costs a formatter each time, and a
 * repository names the same few zones over and over. Invalid ones are not,
 * and at most a thousand are (ICU takes any mix of case), so imported rows
 * cannot grow the memo without bound.
 */
export function isTimeZone(value: string): boolean {
  if (knownZones.has(value)) return true;
  const valid = value.length <= 64 && /^[A-Za-z]/.test(value) && isZoneKnownToIcu(value);
  if (valid && knownZones.size < 1000) knownZones.add(value);
  return valid;
}

/** What luxon's IANAZone.isValidZone asks, without loading luxon: about 30 ms of every command that reads mk.yaml. */
function isZoneKnownToIcu(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone }).format();
    return true;
  } catch {
    return false;
  }
}

export const timeZone = z
  .string()
  .refine(isTimeZone, {
    error: (issue) => `"${String(issue.input)}" is not an IANA time zone (for example Asia/Bangkok or Europe/Berlin)`,
    params: { code: "MK024" },
  })
  .meta({ description: "IANA time zone, e.g. Asia/Bangkok" });

let countries: typeof import("i18n-iso-countries") | undefined;

/**
 * An assigned ISO 3166-1 alpha-2 code. i18n-iso-countries is loaded when the
 * first code is checked (mk.yaml seldom has one, so mk status starts without
 * it), and its codes alone: the package entry also loads country names in 78
 * languages, which isValid does not need.
 */
export function isCountryCode(value: string): boolean {
  if (!/^[A-Z]{2}$/.test(value)) return false;
  countries ??= require("i18n-iso-countries/index.js") as typeof import("i18n-iso-countries");
  return countries.isValid(value);
}

export const countryCode = z
  .string()
  .refine(isCountryCode, {
    error: (issue) => `"${String(issue.input)}" is not an ISO 3166-1 alpha-2 country code (for example TH, DE, US)`,
    params: { code: "MK025" },
  })
  .meta({ description: "ISO 3166-1 alpha-2 country code, upper case" });

const CURRENCIES = new Set(Intl.supportedValuesOf("currency"));

export const currencyCode = z
  .string()
  .refine((value) => CURRENCIES.has(value), {
    error: (issue) => `"${String(issue.input)}" is not an ISO 4217 currency code (for example USD, EUR, THB)`,
    params: { code: "MK029" },
  });

const knownLocales = new Set<string>();

/** A BCP 47 language tag; valid ones are remembered as isTimeZone remembers zones (an import asks for the same few per row). */
export function isLocale(value: string): boolean {
  if (knownLocales.has(value)) return true;
  let valid: boolean;
  try {
    valid = Intl.getCanonicalLocales(value).length === 1;
  } catch {
    valid = false;
  }
  if (valid && knownLocales.size < 1000) knownLocales.add(value);
  return valid;
}

export const locale = z.string().refine(isLocale, {
  error: (issue) => `"${String(issue.input)}" is not a BCP 47 language tag (for example en, th, pt-BR)`,
  params: { code: "MK029" },
});

export const emailAddress = z.email({ error: "must be an email address such as hello@example.com" });

/** An RFC 5322 mailbox: `addr@example.com` or `Display Name <addr@example.com>`. */
export function isMailbox(value: string): boolean {
  const parsed = emailAddresses.parseOneAddress(value);
  return parsed !== null && parsed.type === "mailbox" && emailAddress.safeParse(parsed.address).success;
}

/** The domain of "Name <user@domain>" or "user@domain" (a mailbox isMailbox accepts). */
export function mailboxDomain(mailbox: string): string {
  const address = /<([^>]+)>/.exec(mailbox)?.[1] ?? mailbox;
  return address.slice(address.lastIndexOf("@") + 1).trim();
}

export const mailbox = z
  .string()
  .refine(isMailbox, {
    error: (issue) => `"${String(issue.input)}" is not a mailbox; write "Name <address@example.com>" or "address@example.com"`,
    params: { code: "MK032" },
  })
  .meta({ description: 'RFC 5322 mailbox, e.g. "Nomad Desk <hello@nomaddesk.example>"' });

export const localTime = z.string().regex(LOCAL_TIME_PATTERN, { error: 'must be a 24-hour time such as "09:00"' });

/** Either a single value or an allow/deny list of them. */
export function inOrNotIn<T extends z.ZodType>(item: T) {
  return z.union([
    z.strictObject({ in: z.array(item).min(1) }),
    z.strictObject({ notIn: z.array(item).min(1) }),
  ]);
}

export const templatePath = z
  .string()
  .regex(/^[^/].*\.mjml$/, { error: 'must be a path to an .mjml file relative to the repository root, e.g. "templates/welcome.mjml"' });

export const jsonValue: z.ZodType<unknown> = z.json();

export const apiVersion = z.literal("mk/v1", { error: 'must be "mk/v1"' });
