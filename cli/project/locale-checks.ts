import { parse, TYPE, type MessageFormatElement } from "@formatjs/icu-messageformat-parser";
import { isKnownLocale, localeChain } from "../../runtime/locales/chain.js";
import { isPageStringKey, PAGE_OVERRIDE_PREFIX, PAGE_STRINGS } from "../../runtime/locales/page-strings.js";
import { CATALOG_EXPRESSION, expressionArgument, icuSource } from "../../runtime/locales/translator.js";
import { supportedSpelling, type LocaleSettings } from "../../schemas/locales.js";
import { problem, type Location, type Problem } from "../problems.js";
import { scanHandlebars, type TranslationUse } from "../templates/handlebars-check.js";
import { variableProblem } from "../templates/variables.js";
import { CATALOG_FOLDER, type CatalogSource } from "./catalogs.js";
import type { MessageSpec } from "./messages.js";
import type { Repository, Resource } from "./reader.js";
import { locate, type PathSegment } from "./yaml-source.js";
import { suggest } from "./zod-problems.js";

/** The `{{t}}` calls of one message: in its template and the files it includes, its subject and its preheader. */
export interface MessageTranslations {
  message: MessageSpec;
  uses: TranslationUse[];
}

/** Keys under this prefix are the public pages' strings (unsubscribe, preferences …): a project may override them, no message uses them. */
const PAGE_KEYS = "mk.";

/**
 * Translations checked like code: locale codes Intl does not know (MK122)
 * or mk.yaml does not support (MK123), keys a message uses that a
 * supported locale lacks (MK124, or MK125 with `locales.missing: warn`),
 * keys nothing uses (MK126), catalog messages that are no ICU message
 * (MK127) or hold what a catalog message cannot (MK128), and `{{t}}` calls
 * without an argument a message needs (MK129).
 */
export function localeProblems(repo: Repository, used: readonly MessageTranslations[]): Problem[] {
  const project = repo.project;
  if (!project) return [];
  const settings = project.spec.locales;
  const problems = codeProblems(repo, settings);
  if (!settings) return [...problems, ...withoutLocales(used, project.spec.defaults.locale)];

  const catalogs = new Map<string, CatalogSource>();
  for (const catalog of repo.catalogs) if (settings.supported.includes(catalog.code) && !catalogs.has(catalog.code)) catalogs.set(catalog.code, catalog);
  const checked = checkCatalogMessages(repo.catalogs, used);
  const locales: Locales = { settings, fallback: settings.default ?? project.spec.defaults.locale, catalogs, arguments: checked.arguments };
  return [...problems, ...checked.problems, ...missingKeys(repo, locales, used), ...unusedKeys(locales, used), ...missingArguments(locales, used), ...unknownPageKeys(locales)];
}

interface Locales {
  settings: LocaleSettings;
  /** The locale every chain ends in. */
  fallback: string;
  /** The catalog of each supported locale that has one, by its code (the runtime looks catalogs and overrides up by the supported list's spelling). */
  catalogs: ReadonlyMap<string, CatalogSource>;
  /** The ICU arguments each catalog message needs, by catalog file and key (messages that parse). */
  arguments: ReadonlyMap<string, ReadonlyMap<string, string[]>>;
}

/** MK122 for each locale code Intl does not know; MK123 for an override or catalog of a locale mk.yaml does not support. */
function codeProblems(repo: Repository, settings: LocaleSettings | undefined): Problem[] {
  const project = repo.project!;
  const problems: Problem[] = [];
  const unknown = (code: string) => `locale "${code}" is no language Intl knows (the tag is well-formed, but no language or region anyone speaks); use a code such as en, th or pt-BR`;
  settings?.supported.forEach((code, i) => {
    if (!isKnownLocale(code)) problems.push(problem("MK122", locate(project.source, ["locales", "supported", i]), unknown(code)));
  });
  if (settings?.default !== undefined && !isKnownLocale(settings.default)) problems.push(problem("MK122", locate(project.source, ["locales", "default"]), unknown(settings.default)));
  const defaultLocale = project.spec.defaults.locale;
  if (!isKnownLocale(defaultLocale)) problems.push(problem("MK122", locate(project.source, ["defaults", "locale"]), unknown(defaultLocale)));

  const unsupported = (code: string, what: string): string => {
    const spelled = supportedSpelling(code, settings?.supported ?? []);
    if (spelled) return `${what} is for "${code}", which mk.yaml's locales.supported spells "${spelled}"; spell it the same (the runtime looks it up by that name)`;
    if (settings) return `${what} is for "${code}", which mk.yaml's locales.supported (${settings.supported.join(", ")}) does not list, so nobody gets it; add "${code}" there or remove it`;
    return `${what} is for "${code}", but mk.yaml has no locales:, so nobody gets it; add locales: { supported: [${[...new Set([defaultLocale, code])].join(", ")}] } to mk.yaml`;
  };
  const check = (code: string, at: () => Location, what: string) => {
    if (!isKnownLocale(code)) problems.push(problem("MK122", at(), unknown(code)));
    else if (!settings?.supported.includes(code)) problems.push(problem("MK123", at(), unsupported(code, what)));
  };
  for (const [resource, at] of overrideMaps(repo)) {
    for (const code of Object.keys(resource.overrides)) check(code, () => locate(resource.source, at, code), "the locale override");
  }
  for (const catalog of repo.catalogs) check(catalog.code, () => ({ file: catalog.file, line: 1, col: 1 }), `the catalog ${catalog.file}`);
  return problems;
}

/** Every `locales:` override map of a campaign or send step, with the YAML path where it is written. */
function overrideMaps(repo: Repository): [{ source: Resource["source"]; overrides: Record<string, unknown> }, PathSegment[]][] {
  const maps: [{ source: Resource["source"]; overrides: Record<string, unknown> }, PathSegment[]][] = [];
  for (const campaign of repo.campaigns) if (campaign.spec.locales) maps.push([{ source: campaign.source, overrides: campaign.spec.locales }, ["locales"]]);
  for (const sequence of repo.sequences) {
    sequence.spec.steps.forEach((step, i) => {
      if ("send" in step && step.send.locales) maps.push([{ source: sequence.source, overrides: step.send.locales }, ["steps", i, "send", "locales"]]);
    });
  }
  return maps;
}

/** MK123 at each `{{t}}` of a project without `locales:` (there is no catalog to look in). */
function withoutLocales(used: readonly MessageTranslations[], code: string): Problem[] {
  return uniqueUses(used).map(({ use }) =>
    problem("MK123", use.at, `t "${use.key}" needs the project's languages, but mk.yaml has no locales:; add locales: { supported: [${code}] } and a catalog ${CATALOG_FOLDER}/${code}.yaml`),
  );
}

/** Each `{{t}}` call once (a template many messages send is one file), with the messages that send it. */
function uniqueUses(used: readonly MessageTranslations[]): { use: TranslationUse; messages: MessageSpec[] }[] {
  const byPlace = new Map<string, { use: TranslationUse; messages: MessageSpec[] }>();
  for (const { message, uses } of used) {
    for (const use of uses) {
      const place = `${use.at.file}\0${use.at.line}\0${use.at.col}\0${use.key}`;
      const entry = byPlace.get(place);
      if (entry) entry.messages.push(message);
      else byPlace.set(place, { use, messages: [message] });
    }
  }
  return [...byPlace.values()];
}

/** The supported locales that receive a message: its override's locale, or every locale its resource has no override for. */
function receivers(message: MessageSpec, supported: readonly string[]): string[] {
  if (message.locale !== null) return supported.filter((code) => code === message.locale);
  const overridden = new Set(Object.keys(overridesOf(message)));
  return supported.filter((code) => !overridden.has(code));
}

function overridesOf(message: MessageSpec): Record<string, unknown> {
  const resource = message.resource;
  if (resource.kind === "Campaign") return resource.spec.locales ?? {};
  if (resource.kind === "Sequence") {
    const step = resource.spec.steps[message.templateAt[1] as number];
    return step && "send" in step ? (step.send.locales ?? {}) : {};
  }
  return {};
}

/**
 * MK124/MK125 at each use of a key that the catalog of a locale receiving
 * the message lacks, naming the locale it falls back to; an error whatever
 * `missing:` says when no locale of the chain has it (the send would fail).
 * A supported locale without any catalog is reported once, at its entry in
 * mk.yaml, instead of at every key.
 */
function missingKeys(repo: Repository, locales: Locales, used: readonly MessageTranslations[]): Problem[] {
  const { settings, fallback, catalogs } = locales;
  const warn = settings.missing === "warn";
  const problems: Problem[] = [];
  const withoutCatalog = new Map<string, string>();
  for (const { use, messages } of uniqueUses(used)) {
    const missing = new Map<string, string | undefined>();
    for (const code of new Set(messages.flatMap((m) => receivers(m, settings.supported)))) {
      const catalog = catalogs.get(code);
      if (!catalog) {
        if (!withoutCatalog.has(code)) withoutCatalog.set(code, use.key);
        continue;
      }
      if (Object.hasOwn(catalog.messages, use.key)) continue;
      missing.set(code, localeChain(code, settings.supported, fallback).find((c) => Object.hasOwn(catalogs.get(c)?.messages ?? {}, use.key)));
    }
    if (missing.size === 0) continue;
    const parts = [...missing].map(([code, to]) => `${catalogs.get(code)!.file} (${to ? `${code} falls back to ${to}` : `no catalog of ${code}'s chain has it: sending fails`})`);
    const failing = [...missing.values()].some((to) => to === undefined);
    problems.push(problem(warn && !failing ? "MK125" : "MK124", use.at, `t "${use.key}" is missing from ${parts.join(", ")}; add the key there`));
  }
  for (const [code, key] of withoutCatalog) {
    const index = settings.supported.indexOf(code);
    const to = localeChain(code, settings.supported, fallback).find((c) => c !== code && catalogs.has(c));
    problems.push(
      problem(
        warn && to ? "MK125" : "MK124",
        locate(repo.project!.source, ["locales", "supported", index]),
        `${code} has no catalog ${CATALOG_FOLDER}/${code}.yaml, but its messages use {{t}} keys (such as "${key}"); add the file, or ${code} readers get ${to ?? "no translation at all (sending fails)"}`,
      ),
    );
  }
  return problems;
}

/** MK126 at each key of a supported locale's catalog that no message uses (the public pages' mk.* keys aside). */
function unusedKeys(locales: Locales, used: readonly MessageTranslations[]): Problem[] {
  const keys = new Set(used.flatMap(({ uses }) => uses.map((u) => u.key)));
  const problems: Problem[] = [];
  for (const catalog of locales.catalogs.values()) {
    for (const key of Object.keys(catalog.messages)) {
      if (keys.has(key) || key.startsWith(PAGE_KEYS)) continue;
      const segments = key.split(".");
      problems.push(
        problem("MK126", locate(catalog.source, segments.slice(0, -1), segments.at(-1)), `"${key}" is in ${catalog.file}, but no template, subject or preheader uses it; remove it, or use it with {{t "${key}"}}`),
      );
    }
  }
  return problems;
}

/**
 * MK138 at each catalog key under mk. that overrides no public page string
 * (the runtime would ignore it): mk.pages.<string> as the README's table
 * lists them, with the closest name suggested.
 */
function unknownPageKeys(locales: Locales): Problem[] {
  const known = Object.keys(PAGE_STRINGS["en"]!).map((key) => `${PAGE_OVERRIDE_PREFIX}${key}`);
  const problems: Problem[] = [];
  for (const catalog of locales.catalogs.values()) {
    for (const key of Object.keys(catalog.messages)) {
      if (!key.startsWith(PAGE_KEYS) || (key.startsWith(PAGE_OVERRIDE_PREFIX) && isPageStringKey(key.slice(PAGE_OVERRIDE_PREFIX.length)))) continue;
      const segments = key.split(".");
      const hint = suggest(key, known);
      problems.push(
        problem("MK138", locate(catalog.source, segments.slice(0, -1), segments.at(-1)), `"${key}" overrides no public page string, so the pages never show it${hint ? `; did you mean "${hint}"?` : "; the strings are mk.pages.<page>.<string> as the README lists them"}`),
      );
    }
  }
  return problems;
}

/** MK129 at each `{{t}}` that does not pass an argument the key's message needs in some supported locale. */
function missingArguments(locales: Locales, used: readonly MessageTranslations[]): Problem[] {
  const problems: Problem[] = [];
  for (const { use } of uniqueUses(used)) {
    const needed = new Map<string, string[]>();
    for (const [code, catalog] of locales.catalogs) {
      for (const name of locales.arguments.get(catalog.file)?.get(use.key) ?? []) {
        if (!use.args.includes(name)) needed.set(name, [...(needed.get(name) ?? []), code]);
      }
    }
    for (const [name, codes] of needed) {
      problems.push(problem("MK129", use.at, `t "${use.key}" does not pass ${name}=, which its message in ${codes.join(", ")} uses ({${name}}); write {{t "${use.key}" ${name}=…}}`));
    }
  }
  return problems;
}

/**
 * Each catalog message as the runtime reads it: its handlebars expressions
 * (each compiled on its own, so no blocks; variables of the messages that
 * use the key) and the ICU message they leave (MK127), with the arguments
 * it needs.
 */
function checkCatalogMessages(catalogs: readonly CatalogSource[], used: readonly MessageTranslations[]): { problems: Problem[]; arguments: Map<string, Map<string, string[]>> } {
  const users = new Map<string, MessageSpec[]>();
  for (const { message, uses } of used) for (const use of uses) users.set(use.key, [...new Set([...(users.get(use.key) ?? []), message])]);
  const problems: Problem[] = [];
  const args = new Map<string, Map<string, string[]>>();
  for (const catalog of catalogs) {
    const byKey = new Map<string, string[]>();
    args.set(catalog.file, byKey);
    for (const [key, message] of Object.entries(catalog.messages)) {
      const at = messagePosition(catalog, key, message);
      problems.push(...expressionProblems(catalog.file, key, message, at, users.get(key) ?? []));
      const { icu, expressions } = icuSource(message);
      try {
        byKey.set(key, argumentsOf(parse(icu, { captureLocation: true, ignoreTag: true }), expressions.length));
      } catch (error) {
        const { location, message: kind } = error as Error & { location?: { start: { offset: number } } };
        const offset = originalOffset(message, location?.start.offset ?? 0);
        problems.push(problem("MK127", at(offset), `"${key}" is no ICU message: ${kind.toLowerCase().replaceAll("_", " ")} (write {name}, {count, plural, one {…} other {…}} or {x, select, a {…} other {…}}, and quote a literal brace as '{')`));
      }
    }
  }
  return { problems, arguments: args };
}

/** MK128 for a catalog message's handlebars expression that is a block, does not parse, or reads a variable its messages lack. */
function expressionProblems(file: string, key: string, message: string, at: (offset: number) => Location, users: readonly MessageSpec[]): Problem[] {
  const problems: Problem[] = [];
  for (const match of message.matchAll(CATALOG_EXPRESSION)) {
    const expression = match[0];
    const start = at(match.index);
    const within = (col: number): Location => ({ ...start, col: start.col + col - 1 });
    if (/^\{\{\{?~?\s*([#/^]|else\b)/.test(expression)) {
      problems.push(problem("MK128", start, `"${key}" has the handlebars block ${expression}; a catalog message cannot hold blocks: use ICU select or plural, e.g. {count, plural, one {…} other {…}}`));
      break;
    }
    const scan = scanHandlebars(file, expression);
    for (const p of scan.problems) {
      problems.push(
        p.code === "MK044"
          ? problem("MK128", start, `"${key}": ${expression} is no handlebars expression (${p.message}); an ICU option that starts with an argument reads as handlebars: write one { {n} desk} with a space, or one {# desk}`)
          : problem("MK128", within(p.col), `"${key}": ${p.message}`),
      );
    }
    for (const variable of scan.variables) {
      const reason = users.length
        ? users.map((m) => variableProblem(variable.path, { label: m.label, data: m.data, confirmation: m.confirmation, dataSchema: m.dataSchema })?.reason).find((r) => r !== undefined)
        : variable.path.startsWith("campaign.data.") ? undefined : variableProblem(variable.path, { label: "", data: {} })?.reason;
      if (reason) problems.push(problem("MK128", within(variable.at.col), `"${key}": ${reason}`));
    }
  }
  return problems;
}

/**
 * Where offset `n` of a catalog message is in its file: exact when the
 * file holds the message as it is (a plain or quoted scalar without
 * escapes), else where the value starts.
 */
function messagePosition(catalog: CatalogSource, key: string, message: string): (offset: number) => Location {
  const start = locate(catalog.source, key.split("."));
  const lines = catalog.source.text.split("\n");
  let offset = start.col - 1;
  for (let l = 0; l < start.line - 1; l++) offset += (lines[l] as string).length + 1;
  const text = catalog.source.text;
  const skip = text.startsWith(message, offset) ? 0 : /["']/.test(text[offset] ?? "") && text.startsWith(message, offset + 1) ? 1 : -1;
  return (n) => {
    if (skip < 0) return start;
    const before = message.slice(0, n).split("\n");
    return before.length === 1
      ? { ...start, col: start.col + skip + n }
      : { file: start.file, line: start.line + before.length - 1, col: (before.at(-1) as string).length + 1 };
  };
}

/** The offset in the catalog message of offset `n` of its ICU source (whose handlebars expressions are `{mkExprN}` arguments). */
function originalOffset(message: string, n: number): number {
  let delta = 0;
  let index = 0;
  for (const match of message.matchAll(CATALOG_EXPRESSION)) {
    const replacement = `{${expressionArgument(index++)}}`.length;
    const at = match.index + delta;
    if (n < at) break;
    if (n < at + replacement) return match.index;
    delta += replacement - match[0].length;
  }
  return n - delta;
}

/** The ICU arguments a parsed message reads, but the `count` of its handlebars expressions (icuSource's own). */
function argumentsOf(elements: readonly MessageFormatElement[], count: number): string[] {
  const expressions = new Set(Array.from({ length: count }, (_, i) => expressionArgument(i)));
  const names = new Set<string>();
  const walk = (list: readonly MessageFormatElement[]): void => {
    for (const element of list) {
      if (element.type === TYPE.literal || element.type === TYPE.pound) continue;
      if (element.type === TYPE.tag) {
        walk(element.children);
        continue;
      }
      if (!expressions.has(element.value)) names.add(element.value);
      if (element.type === TYPE.select || element.type === TYPE.plural) for (const option of Object.values(element.options)) walk(option.value);
    }
  };
  walk(elements);
  return [...names];
}
