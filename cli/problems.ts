/**
 * Problems users can cause in a campaigns repository: one stable code each,
 * a fixed severity, and a location. Validators return problems; they never
 * throw on user input. The README's code table is this list.
 */

export type Severity = "error" | "warning";

export const PROBLEM_CODES = {
  MK001: { severity: "error", title: "YAML syntax error" },
  MK002: { severity: "error", title: "missing or unknown apiVersion or kind" },
  MK003: { severity: "error", title: "file in the wrong place or holding more than one document" },
  MK004: { severity: "error", title: "no mk.yaml found" },
  MK010: { severity: "error", title: "invalid value" },
  MK011: { severity: "error", title: "unknown key" },
  MK012: { severity: "error", title: "missing required field" },
  MK013: { severity: "error", title: "invalid name" },
  MK014: { severity: "error", title: "invalid duration" },
  MK015: { severity: "error", title: "matches none of the allowed forms (condition, step, list)" },
  MK016: { severity: "error", title: "attribute condition needs exactly one operator" },
  MK020: { severity: "error", title: "duplicate name" },
  MK021: { severity: "error", title: "unknown reference" },
  MK022: { severity: "error", title: "template file not found" },
  MK023: { severity: "error", title: "variant weights do not sum to 100" },
  MK024: { severity: "error", title: "invalid time zone" },
  MK025: { severity: "error", title: "invalid country code" },
  MK026: { severity: "error", title: "schedule in the past for a campaign the runtime has not started (mk plan, mk apply)" },
  MK027: { severity: "error", title: "literal token in mk.yaml" },
  MK028: { severity: "error", title: "audience reference cycle" },
  MK029: { severity: "error", title: "invalid locale or currency" },
  MK030: { severity: "error", title: "duplicate variant name" },
  MK031: { severity: "error", title: "reserved environment name" },
  MK032: { severity: "error", title: "invalid mailbox" },
  MK033: { severity: "error", title: "duplicate step name in a sequence" },
  MK034: { severity: "warning", title: "migrate: by-step-name with no named steps" },
  MK035: { severity: "warning", title: "schedule in the past (offline; mk plan refuses it unless the runtime started the campaign or holds it at that time)" },
  MK040: { severity: "error", title: "MJML error" },
  MK041: { severity: "error", title: "mj-include file not found" },
  MK042: { severity: "error", title: "mj-include cycle" },
  MK043: { severity: "error", title: "mj-include outside the repository" },
  MK044: { severity: "error", title: "handlebars syntax error" },
  MK045: { severity: "warning", title: "variable no context provides" },
  MK046: { severity: "error", title: "unknown handlebars helper" },
  MK047: { severity: "error", title: "file mk does not read: a symbolic link out of the repository, or a file under .git/ or .mk/" },
  MK050: { severity: "error", title: "marketing email without unsubscribe link" },
  MK051: { severity: "error", title: "marketing email without postal address" },
  MK052: { severity: "warning", title: "HTML over 102 KB (Gmail clips it)" },
  MK053: { severity: "warning", title: "image without alt text" },
  MK054: { severity: "warning", title: "link that is not https" },
  MK055: { severity: "error", title: "javascript: link" },
  MK056: { severity: "warning", title: "no preheader" },
  MK057: { severity: "warning", title: "subject over 100 characters" },
  MK060: { severity: "error", title: "unknown campaign or variant" },
  MK061: { severity: "error", title: "invalid subscriber data file" },
  MK062: { severity: "error", title: "repository has errors" },
  MK070: { severity: "error", title: "no runtime for the environment (local: mk up is not running)" },
  MK071: { severity: "error", title: "the environment's token variable is not set" },
  MK072: { severity: "error", title: "unknown environment" },
  MK073: { severity: "error", title: "cannot reach the runtime" },
  MK074: { severity: "error", title: "the runtime refused the token" },
  MK075: { severity: "error", title: "stale plan: the runtime's state moved" },
  MK076: { severity: "error", title: "the runtime refused the request" },
  MK077: { severity: "error", title: "plan error (a change the runtime cannot make)" },
  MK078: { severity: "error", title: "invalid or tampered plan file" },
  MK079: { severity: "error", title: "apply needs confirmation" },
  MK080: { severity: "error", title: "subscribers file cannot be read" },
  MK081: { severity: "error", title: "GitHub context missing (token, repository or pull request)" },
  MK082: { severity: "error", title: "GitHub refused the request" },
  MK083: { severity: "error", title: "mk init would overwrite existing files" },
  MK084: { severity: "error", title: "mk init cannot write the folder" },
  MK085: { severity: "error", title: "mk send needs --due or a campaign name" },
  MK086: { severity: "error", title: "no report for that campaign (unknown, or not started)" },
  MK087: { severity: "error", title: "cannot write the --out file" },
  MK088: { severity: "error", title: "exchange-rate file cannot be read" },
  MK089: { severity: "error", title: "mk report tax: unknown country code or malformed period" },
  MK090: { severity: "error", title: "no report for that sequence (never applied)" },
  MK091: { severity: "error", title: "deleting a sequence with active enrollments needs --allow-exit-active" },
  MK092: { severity: "error", title: "mk report sequence --subscriber prints table or json only" },
  MK093: { severity: "error", title: "mk report: --json with a --format other than json" },
  MK094: { severity: "error", title: "mk up could not start (PostgreSQL, the port, or another mk up on the data folder)" },
  MK095: { severity: "error", title: "mk tokens create: the name is taken or not valid, or --expires is not a duration" },
  MK096: { severity: "error", title: "mk tokens revoke: no token of that name" },
  MK097: { severity: "error", title: "the token's scope does not allow this request" },
  MK098: { severity: "error", title: "environment URL is plain http:// to another machine" },
  MK099: { severity: "error", title: "tokenEnv names a variable the CI runner or cloud sets for itself" },
  MK100: { severity: "error", title: "token refused: the environment URL is not the trusted one (base branch or MK_ENVIRONMENT_URL)" },
  MK101: { severity: "error", title: ".mk/runtime.json is tracked by Git, so mk ignores it" },
  MK102: { severity: "error", title: "condition too large once its audience: references are expanded (nodes, SQL parameters or levels)" },
  MK103: { severity: "error", title: "conditions nested too deeply (all, any, not)" },
  MK105: { severity: "error", title: "mk tax verify --expect-head: a chain no longer holds the head recorded earlier (cut short or rewritten)" },
  MK106: { severity: "error", title: "mk tax verify --expect-head: the heads file cannot be read or is not what mk tax verify --json wrote" },
  MK108: { severity: "error", title: "a campaign or sequence names a topic mk.yaml does not define" },
  MK109: { severity: "error", title: "mk subscribers get/list: no subscriber with that address, or no applied audience of that name" },
  MK110: { severity: "error", title: "a form names a topic mk.yaml does not define" },
  MK111: { severity: "error", title: "a form with doubleOptIn has no confirmation template" },
  MK112: { severity: "error", title: "mk subscribers erase: no address given, the --file list cannot be read, or a line of it is not an email address" },
  MK113: { severity: "error", title: "mk subscribers export: the --out file cannot be written" },
  MK114: { severity: "error", title: "mk subscribers import --map: not COLUMN=FIELD pairs, or a field mk does not import" },
  MK115: { severity: "error", title: "mk subscribers import --map names a column the file's header row does not have" },
  MK116: { severity: "error", title: "a form's confirmation template has no {{confirmUrl}} link" },
  MK117: { severity: "error", title: "mk send test: a --to recipient is not in mk.yaml's testRecipients" },
  MK118: { severity: "error", title: "a testRecipients entry is neither an email address nor an @domain" },
  MK119: { severity: "warning", title: "a From domain that does not align with sending.dkim.domain (DMARC relaxed alignment)" },
  MK120: { severity: "error", title: "mk.yaml locales.default is not one of locales.supported" },
  MK121: { severity: "error", title: "sending.dkim with a provider other than smtp (SES signs its own; the outbox signs nothing)" },
  MK122: { severity: "error", title: "a locale code no language Intl knows (well-formed, e.g. xx)" },
  MK123: { severity: "error", title: "a locale override, catalog or {{t}} for a locale not in locales.supported (or without locales: in mk.yaml)" },
  MK124: { severity: "error", title: "a key a message uses that a supported locale's catalog lacks" },
  MK125: { severity: "warning", title: "a key a message uses that a supported locale's catalog lacks (locales.missing: warn)" },
  MK126: { severity: "warning", title: "a catalog key no message uses" },
  MK127: { severity: "error", title: "a catalog message that is no ICU MessageFormat message" },
  MK128: { severity: "error", title: "a catalog message with a handlebars block, a handlebars error, or a variable its messages do not have" },
  MK129: { severity: "error", title: "a {{t}} call without an argument the message needs in some locale" },
  MK130: { severity: "error", title: "a {{t}} call whose key is not a literal string" },
  MK131: { severity: "error", title: "mk render / mk send test --locale names a locale the project does not support" },
  MK132: { severity: "error", title: "a message's data: schema: a field name that is no identifier, or more than 100 fields" },
  MK133: { severity: "error", title: "a message's template or subject reads data.<field> its data: does not declare" },
  MK134: { severity: "error", title: "a message's template or subject uses a variable only campaigns have (campaign.*, variant, unsubscribe and preference links)" },
  MK135: { severity: "error", title: "mk render / mk send test: no message of that name, or it has no variants" },
  MK136: { severity: "error", title: "mk render / mk send test --data for a message: the data does not fit its data: schema" },
  MK137: { severity: "error", title: "{{{t}}}: a translation written without HTML escaping" },
  MK138: { severity: "warning", title: "a catalog key under mk. that overrides no public page string" },
  MK139: { severity: "error", title: "an event condition's by: on an event other than open, click, ses.open or ses.click" },
  MK140: { severity: "error", title: "decideBy on a campaign without variants" },
} as const satisfies Record<string, { severity: Severity; title: string }>;

export type ProblemCode = keyof typeof PROBLEM_CODES;

export interface Location {
  /** Path relative to the repository root, with forward slashes. */
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  col: number;
}

export interface Problem extends Location {
  severity: Severity;
  code: ProblemCode;
  message: string;
}

export function problem(code: ProblemCode, at: Location, message: string): Problem {
  return { file: at.file, line: at.line, col: at.col, severity: PROBLEM_CODES[code].severity, code, message };
}

export function isProblemCode(value: unknown): value is ProblemCode {
  return typeof value === "string" && Object.hasOwn(PROBLEM_CODES, value);
}

/** Sorted by file, line, column, then code, with exact duplicates removed. */
export function sortProblems(problems: readonly Problem[]): Problem[] {
  const seen = new Set<string>();
  const unique = problems.filter((p) => {
    const key = `${p.file}\0${p.line}\0${p.col}\0${p.code}\0${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return unique.sort(
    (a, b) =>
      (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) || a.line - b.line || a.col - b.col || a.code.localeCompare(b.code),
  );
}

export function countBySeverity(problems: readonly Problem[]): { errors: number; warnings: number } {
  const errors = problems.filter((p) => p.severity === "error").length;
  return { errors, warnings: problems.length - errors };
}
