import { parse } from "csv-parse/sync";
import { MkError } from "../errors.js";

/**
 * The export formats `mk subscribers import` recognises by their header row
 * (README, "mk subscribers import"), and `--map` for any other layout. A
 * format says which column feeds which field of a subscriber, how its tags
 * are written, and what its row says about consent; every column it does not
 * name becomes an attribute, except the ones it drops.
 */
export type FormatName = "mk" | "mailchimp" | "listmonk" | "kit" | "substack" | "brevo" | "mapped";

/** Where a column goes: a subscriber field, or a piece of consent proof. */
export type Target = "email" | "firstName" | "lastName" | "name" | "country" | "timezone" | "locale" | "tags" | "consent" | ProofField;
type ProofField = "grantedAt" | "ip" | "confirmedAt" | "confirmIp";

export const MAP_TARGETS: readonly Target[] = [
  "email", "firstName", "lastName", "name", "country", "timezone", "locale", "tags", "consent",
  "grantedAt", "ip", "confirmedAt", "confirmIp",
];
const PROOF_FIELDS = new Set<string>(["grantedAt", "ip", "confirmedAt", "confirmIp"]);

export interface ConsentProof {
  grantedAt?: string;
  ip?: string;
  confirmedAt?: string;
  confirmIp?: string;
  source?: string;
}

/** One data row turned into mk's terms, before validation. */
export interface ConvertedRow {
  /** The subscriber's fields as the import request carries them (consentProof among them). */
  fields: Record<string, unknown>;
  /** Cells that cannot be read (a time that is not a time), as "column: why". */
  problems: string[];
}

export interface ImportFormat {
  name: FormatName;
  /** What the summary prints: "Mailchimp audience export". */
  title: string;
  /** The CSV column a field of the request came from, for messages (`CC` for country). */
  columnOf(field: string): string;
  convert(record: Record<string, string>): ConvertedRow;
}

interface Layout {
  name: FormatName;
  title: string;
  columns: Record<string, Target>;
  /** Columns left out: the old tool's own identifiers and what mk derives itself. */
  drop?: readonly string[];
  tags?: (cell: string) => string[];
  /** Consent the row states, given the cells already mapped; undefined: as the mapped `consent` column says. */
  consent?: (record: Record<string, string>, proof: ConsentProof) => "marketing" | null | undefined;
  /** How the proof's times are written. */
  time?: (cell: string) => string | undefined;
  /** A time in a form the format's documentation does not fix stays an attribute instead of failing the row. */
  softTimes?: boolean;
  /** A column holding the attributes as one JSON object (listmonk's `attributes`). */
  jsonAttributes?: string;
}

const pipeTags = (cell: string) => cell.split("|").map((t) => t.trim()).filter(Boolean);
const commaTags = (cell: string) => cell.split(",").map((t) => t.trim()).filter(Boolean);
/** Mailchimp writes TAGS as `"tag1","tag2"`: a CSV line inside the cell. */
const quotedTags = (cell: string) => {
  try {
    return (parse(cell, { relax_quotes: true, trim: true }) as string[][]).flat().filter(Boolean);
  } catch {
    return commaTags(cell.replaceAll('"', ""));
  }
};
const yes = (cell: string | undefined) => /^(1|true|yes|y)$/i.test((cell ?? "").trim());

/**
 * A time as proof carries it (ISO 8601, UTC): ISO 8601 with a zone, or
 * "YYYY-MM-DD HH:MM:SS" meaning UTC (Mailchimp's exports).
 */
export function utcTime(cell: string): string | undefined {
  const plain = /^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d(?::\d\d(?:\.\d+)?)?)$/.exec(cell);
  const text = plain ? `${plain[1]}T${plain[2]}Z` : cell;
  if (!plain && !/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)$/i.test(cell)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/** listmonk writes Go's time.String(): "2024-01-15 10:20:30.123456 +0000 UTC". */
function goTime(cell: string): string | undefined {
  const go = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d{1,3})?)\d* ([+-]\d\d)(\d\d)(?: \S+)?$/.exec(cell);
  return go ? utcTime(`${go[1]}T${go[2]}${go[3]}:${go[4]}`) : utcTime(cell);
}

const LAYOUTS: { detect: (names: Set<string>) => boolean; layout: Layout }[] = [
  {
    // Mailchimp, Audience → Export audience: one CSV each for subscribed, unsubscribed and cleaned members.
    detect: (n) => n.has("Email Address") && ["LEID", "EUID", "MEMBER_RATING", "OPTIN_TIME"].some((c) => n.has(c)),
    layout: {
      name: "mailchimp",
      title: "Mailchimp audience export",
      columns: {
        "Email Address": "email", "First Name": "firstName", "Last Name": "lastName", CC: "country", TIMEZONE: "timezone", TAGS: "tags",
        OPTIN_TIME: "grantedAt", OPTIN_IP: "ip", CONFIRM_TIME: "confirmedAt", CONFIRM_IP: "confirmIp",
      },
      // Mailchimp's own ids and clock offsets, and coordinates mk does not need (TIMEZONE and CC say enough).
      drop: ["LEID", "EUID", "GMTOFF", "DSTOFF", "LATITUDE", "LONGITUDE", "LAST_CHANGED"],
      tags: quotedTags,
      time: utcTime,
      // The unsubscribed and cleaned files say when the member left or bounced.
      consent: (r) => (r["UNSUB_TIME"] || r["CLEAN_TIME"] ? null : "marketing"),
    },
  },
  {
    // listmonk, Subscribers → Export (cmd/subscribers.go writes exactly these seven columns).
    detect: (n) => ["uuid", "email", "name", "attributes", "status"].every((c) => n.has(c)),
    layout: {
      name: "listmonk",
      title: "listmonk subscribers export",
      columns: { email: "email", name: "name", created_at: "grantedAt" },
      drop: ["uuid", "updated_at", "status"],
      jsonAttributes: "attributes",
      time: goTime,
      // enabled: receives mail; blocklisted and disabled do not.
      consent: (r) => (r["status"] === "enabled" ? "marketing" : null),
    },
  },
  {
    // Substack, Subscribers → Export: email, active_subscription, expiry, plan, email_disabled, created_at, …
    detect: (n) => n.has("email") && (n.has("email_disabled") || n.has("active_subscription")),
    layout: {
      name: "substack",
      title: "Substack subscribers export",
      columns: { email: "email", name: "name", created_at: "grantedAt" },
      drop: ["email_disabled"],
      time: utcTime,
      softTimes: true,
      consent: (r) => (yes(r["email_disabled"]) ? null : "marketing"),
    },
  },
  {
    // Kit (ConvertKit): its exports and API name the address email_address, beside first_name, state, created_at, tags.
    detect: (n) => n.has("email_address") && ["first_name", "state", "status", "created_at", "tags"].some((c) => n.has(c)),
    layout: {
      name: "kit",
      title: "Kit (ConvertKit) subscribers export",
      columns: { email_address: "email", first_name: "firstName", last_name: "lastName", tags: "tags", created_at: "grantedAt" },
      drop: ["id", "state", "status"],
      tags: commaTags,
      time: utcTime,
      softTimes: true,
      // active (confirmed) subscribers receive mail; inactive, cancelled, bounced, complained and cold do not.
      consent: (r) => {
        const state = (r["state"] ?? r["status"] ?? "active").toLowerCase();
        return state === "active" || state === "confirmed" ? "marketing" : null;
      },
    },
  },
  {
    // Brevo, Contacts → Export: EMAIL, FIRSTNAME, LASTNAME, SMS (default attributes; named in the account's language), ADDED_TIME, …
    detect: (n) => n.has("EMAIL") && ["FIRSTNAME", "LASTNAME", "SMS", "ADDED_TIME", "MODIFIED_TIME", "PRENOM", "NOM", "VORNAME", "NACHNAME"].some((c) => n.has(c)),
    layout: {
      name: "brevo",
      title: "Brevo contacts export",
      columns: { EMAIL: "email", FIRSTNAME: "firstName", LASTNAME: "lastName", PRENOM: "firstName", NOM: "lastName", VORNAME: "firstName", NACHNAME: "lastName", ADDED_TIME: "grantedAt" },
      drop: ["MODIFIED_TIME", "DOUBLE_OPT-IN", "EMAIL_BLACKLISTED", "BLACKLISTED"],
      time: utcTime,
      softTimes: true,
      consent: (r) => (yes(r["EMAIL_BLACKLISTED"]) || yes(r["BLACKLISTED"]) || /^(2|no)$/i.test(r["DOUBLE_OPT-IN"] ?? "") ? null : "marketing"),
    },
  },
];

const MK_FIELDS = ["email", "firstName", "lastName", "country", "timezone", "locale", "tags", "consent"] as const;

/** mk's own layout (FORMAT.md, "Subscribers CSV"): columns named like the fields. */
const MK_LAYOUT: Layout = { name: "mk", title: "mk subscribers CSV", columns: Object.fromEntries(MK_FIELDS.map((f) => [f, f])), tags: pipeTags };

/**
 * The format a header row is, or MK080 when it has no email column and is no
 * export mk knows.
 */
export function recognizeFormat(names: string[]): ImportFormat {
  const set = new Set(names);
  const found = LAYOUTS.find((l) => l.detect(set))?.layout;
  if (found) return formatOf(found, names);
  if (!set.has("email")) {
    throw new MkError(
      "MK080",
      `the header row has no email column (it has ${names.join(", ") || "nothing"}); email is required. It is not an export mk recognises ` +
        `(Mailchimp, listmonk, Kit, Substack, Brevo): name the columns with --map, e.g. --map "E-mail=email,Country=country"`,
    );
  }
  return formatOf(MK_LAYOUT, names);
}

/** `--map "Email Address=email,CC=country"`: source column → target, checked against MAP_TARGETS (MK114). */
export function parseColumnMap(text: string): Record<string, Target> {
  const map: Record<string, Target> = {};
  for (const pair of text.split(",")) {
    const at = pair.lastIndexOf("=");
    const source = pair.slice(0, at).trim();
    const target = pair.slice(at + 1).trim();
    if (at < 0 || source === "" || target === "") {
      throw new MkError("MK114", `--map: "${pair.trim()}" is not COLUMN=FIELD; write e.g. --map "Email Address=email,CC=country"`);
    }
    if (!(MAP_TARGETS as readonly string[]).includes(target)) {
      throw new MkError("MK114", `--map: "${target}" (for the column "${source}") is not a field mk imports; use one of ${MAP_TARGETS.join(", ")} (other columns become attributes)`);
    }
    if (source in map) throw new MkError("MK114", `--map: the column "${source}" is mapped twice`);
    map[source] = target as Target;
  }
  if (!Object.values(map).includes("email")) throw new MkError("MK114", `--map: no column is mapped to email; add e.g. "Email Address=email"`);
  return map;
}

/** The layout `--map` describes, checked against the header row: a mapped column the file lacks is MK115. */
export function mappedFormat(names: string[], map: Record<string, Target>): ImportFormat {
  const missing = Object.keys(map).filter((c) => !names.includes(c));
  if (missing.length > 0) {
    throw new MkError("MK115", `--map names ${missing.map((c) => `"${c}"`).join(", ")}, which the header row does not have (it has ${names.join(", ")})`);
  }
  // A row that carries proof of consent and no consent column has consented.
  const consentMapped = Object.values(map).includes("consent");
  return formatOf(
    {
      name: "mapped",
      title: "columns mapped with --map",
      columns: map,
      tags: pipeTags,
      time: utcTime,
      consent: consentMapped ? undefined : (_r, proof) => (proof.grantedAt || proof.confirmedAt ? "marketing" : undefined),
    },
    names,
  );
}

function formatOf(layout: Layout, names: string[]): ImportFormat {
  const drop = new Set(layout.drop ?? []);
  const columnOfField = new Map<string, string>();
  for (const [column, target] of Object.entries(layout.columns)) {
    if (!names.includes(column)) continue;
    columnOfField.set(PROOF_FIELDS.has(target) ? `consentProof.${target}` : target === "name" ? "firstName" : target, column);
  }
  const proofSource = layout.name === "mk" || layout.name === "mapped" ? undefined : layout.name;
  return {
    name: layout.name,
    title: layout.title,
    columnOf: (field) => columnOfField.get(field) ?? (field === "lastName" ? columnOfField.get("firstName") : undefined) ?? field,
    convert(record) {
      const fields: Record<string, unknown> = {};
      const proof: ConsentProof = {};
      const attributes: Record<string, string | number | boolean> = {};
      const problems: string[] = [];
      for (const [column, value] of Object.entries(record)) {
        const target = layout.columns[column];
        if (column === layout.jsonAttributes) {
          const parsed = jsonAttributes(value);
          if (parsed) Object.assign(attributes, parsed);
          else problems.push(`${column}: not a JSON object`);
          continue;
        }
        if (target === undefined) {
          if (!drop.has(column) && value !== "") attributes[column] = attributeValue(value);
          continue;
        }
        if (target === "email") fields["email"] = value.toLowerCase();
        else if (target === "tags") fields["tags"] = (layout.tags ?? pipeTags)(value);
        else if (target === "consent") fields["consent"] = value === "" ? null : value;
        else if (value === "") continue;
        else if (target === "name") Object.assign(fields, splitName(value));
        else if (target === "country") fields["country"] = value.toUpperCase();
        else if (target === "ip" || target === "confirmIp") proof[target] = value;
        else if (target === "grantedAt" || target === "confirmedAt") {
          const time = (layout.time ?? utcTime)(value);
          if (time) proof[target] = time;
          else if (layout.softTimes) attributes[column] = value;
          else problems.push(`${column}: "${value}" is not a time (YYYY-MM-DD HH:MM:SS in UTC, or ISO 8601 with a zone)`);
        } else fields[target] = value;
      }
      if (layout.consent) {
        const consent = layout.consent(record, proof);
        if (consent !== undefined) fields["consent"] = consent;
      }
      // Proof goes with consent only: a member who left has none to carry.
      if (fields["consent"] === "marketing" && Object.keys(proof).length + (proofSource ? 1 : 0) > 0) {
        fields["consentProof"] = { ...proof, ...(proofSource ? { source: `${proofSource} export` } : {}) };
      }
      if (Object.keys(attributes).length > 0) fields["attributes"] = attributes;
      return { fields, problems };
    },
  };
}

/** `{"city": "Hue", "plan": {"seats": 2}}`: values kept as they are, nested ones as their JSON text. */
function jsonAttributes(cell: string): Record<string, string | number | boolean> | undefined {
  if (cell.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(cell);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
  const out: Record<string, string | number | boolean> = {};
  for (const [name, v] of Object.entries(value)) {
    if (v === null) continue;
    out[name] = typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? v : JSON.stringify(v);
  }
  return out;
}

/** A whole name in one cell: the first word is the first name, the rest the last name. */
function splitName(value: string): { firstName: string; lastName?: string } {
  const [first, ...rest] = value.split(/\s+/);
  return rest.length > 0 ? { firstName: first!, lastName: rest.join(" ") } : { firstName: first! };
}

function attributeValue(value: string): string | number | boolean {
  if (value === "true") return true;
  if (value === "false") return false;
  if (/^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(value)) {
    const n = Number(value);
    if (Number.isFinite(n)) return n;
  }
  return value;
}
