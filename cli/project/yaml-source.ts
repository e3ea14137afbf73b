import { createRequire } from "node:module";
import type * as Yaml from "yaml";
import type { Alias, Document, LineCounter, Node } from "yaml";
import { problem, type Location, type Problem } from "../problems.js";
import type { ParseCache } from "./parse-cache.js";

const require = createRequire(import.meta.url);
let loaded: typeof Yaml | undefined;

/** The yaml package (CommonJS, so it can be loaded on first use): a run that finds every file cached and clean never loads it. */
function yaml(): typeof Yaml {
  return (loaded ??= require("yaml") as typeof Yaml);
}

/**
 * One YAML file parsed with source positions, so that any path into its data
 * can be turned back into a line and column.
 */
export interface YamlSource {
  /** Repository-relative path with forward slashes. */
  file: string;
  text: string;
  doc: Document.Parsed;
  lineCounter: LineCounter;
  /** The parsed data (plain JS). */
  data: unknown;
}

export type PathSegment = string | number;

/** Parse one file; YAML syntax problems come back instead of being thrown. */
export function parseYamlSource(file: string, text: string): [YamlSource | undefined, Problem[]] {
  const lineCounter = new (yaml().LineCounter)();
  const docs = yaml().parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [];
  const at = (offset: number): Location => ({ file, ...lineCounter.linePos(offset) });

  const problems: Problem[] = [];
  for (const doc of list) {
    for (const error of doc.errors) {
      const offset = error.code === "MISSING_CHAR" ? (unclosedQuoteStart(text, error.pos[0]) ?? error.pos[0]) : error.pos[0];
      problems.push(problem("MK001", at(offset), yamlMessage(error.code, error.message, text.slice(error.pos[0]))));
    }
  }
  if (problems.length > 0) return [undefined, problems];

  const [first, second] = list;
  if (second) {
    return [undefined, [problem("MK003", at(second.range[0]), "a file holds one document; move each --- section into its own file")]];
  }
  if (!first || first.contents === null) {
    return [undefined, [problem("MK002", { file, line: 1, col: 1 }, "the file is empty; it needs apiVersion: mk/v1 and kind")]];
  }
  const unresolved = unresolvedAlias(first);
  if (unresolved) {
    return [undefined, [problem("MK001", at(unresolved.range?.[0] ?? 0), `the alias *${unresolved.source} names no anchor (&${unresolved.source}) set before it`)]];
  }
  try {
    return [{ file, text, doc: first, lineCounter, data: first.toJS({ maxAliasCount: 100 }) }, []];
  } catch (error) {
    // yaml refuses documents whose aliases expand without bound ("billion laughs").
    return [undefined, [problem("MK001", { file, line: 1, col: 1 }, `the YAML cannot be read: ${(error as Error).message}`)]];
  }
}

/**
 * parseYamlSource through the cache: a file whose text the cache holds
 * comes back with its data at once, and is parsed for source positions only
 * when a problem needs one. Only files without problems are kept.
 */
export function parseYamlSourceCached(cache: ParseCache, file: string, text: string): [YamlSource | undefined, Problem[]] {
  let parsed: [YamlSource | undefined, Problem[]] | undefined;
  const kept = cache.get(
    "yaml",
    file,
    text,
    () => {
      parsed = parseYamlSource(file, text);
      return parsed[0] ? { data: parsed[0].data } : undefined;
    },
    (result) => result !== undefined && survivesJson(result.data),
  );
  return parsed ?? [new PositionsOnDemand(file, text, (kept as { data: unknown }).data), []];
}

/** A YamlSource whose document is parsed the first time a position is asked for. */
class PositionsOnDemand implements YamlSource {
  private parsed: { doc: Document.Parsed; lineCounter: LineCounter } | undefined;

  constructor(
    readonly file: string,
    readonly text: string,
    readonly data: unknown,
  ) {}

  get doc(): Document.Parsed {
    return this.parse().doc;
  }

  get lineCounter(): LineCounter {
    return this.parse().lineCounter;
  }

  private parse(): { doc: Document.Parsed; lineCounter: LineCounter } {
    if (!this.parsed) {
      const lineCounter = new (yaml().LineCounter)();
      const [doc] = yaml().parseAllDocuments(this.text, { lineCounter, prettyErrors: false, uniqueKeys: true }) as Document.Parsed[];
      this.parsed = { doc: doc as Document.Parsed, lineCounter };
    }
    return this.parsed;
  }
}

/** The first alias that refers to no anchor before it (the yaml package throws on those when converting). */
function unresolvedAlias(doc: Document.Parsed): Alias | undefined {
  let found: Alias | undefined;
  const { visit } = yaml();
  visit(doc, {
    Alias(_key, node) {
      if (node.resolve(doc) === undefined) {
        found = node;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}

/**
 * The yaml package reports a missing closing quote where the file ends; the
 * user needs the line where the quote was opened.
 */
function unclosedQuoteStart(text: string, errorOffset: number): number | undefined {
  let start: number | undefined;
  const { CST, Parser } = yaml();
  for (const token of new Parser().parse(text)) {
    if (token.type !== "document") continue;
    CST.visit(token, (item) => {
      const value = item.value;
      if (value?.type !== "double-quoted-scalar" && value?.type !== "single-quoted-scalar") return;
      const quote = value.source[0];
      const closed = value.source.length > 1 && value.source.endsWith(quote ?? "");
      if (!closed && value.offset <= errorOffset) start = value.offset;
    });
  }
  return start;
}

/** The first line of the yaml package's message, without its trailing position. */
function yamlMessage(code: string, message: string, rest: string): string {
  if (code === "DUPLICATE_KEY") {
    const key = /^["']?([^"':\n]*)/.exec(rest)?.[1]?.trim() ?? "";
    return `the key "${key}" appears twice in the same map; keep one`;
  }
  if (code === "MISSING_CHAR" && /quote/.test(message)) return "this quoted value is never closed; add the closing quote";
  const firstLine = message.split("\n")[0] ?? message;
  return firstLine.replace(/ at line \d+, column \d+:?$/, "");
}

/**
 * Where the value at `path` starts. When `key` is set, where that key is
 * written in the map at `path` (for unknown keys). When the path does not
 * exist (a missing field), the nearest existing ancestor.
 */
export function locate(source: YamlSource, path: readonly PathSegment[], key?: string): Location {
  let node: Node | undefined = (source.doc.contents as Node | null) ?? undefined;
  let found: Node | undefined = node;
  for (const segment of path) {
    const child = childOf(node, segment);
    if (child === undefined) break;
    if (child.value === null) {
      found = child.keyNode ?? found;
      node = undefined;
      break;
    }
    node = child.value;
    found = node;
  }
  if (key !== undefined && node) {
    const pair = childOf(node, key);
    if (pair?.keyNode) return positionOf(source, pair.keyNode);
  }
  return found ? positionOf(source, found) : { file: source.file, line: 1, col: 1 };
}

function childOf(node: Node | undefined, segment: PathSegment): { keyNode?: Node; value: Node | null } | undefined {
  const { isMap, isPair, isScalar, isSeq } = yaml();
  if (isMap(node)) {
    for (const item of node.items) {
      if (isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment)) {
        return { keyNode: item.key, value: (item.value as Node | null) ?? null };
      }
    }
    return undefined;
  }
  if (isSeq(node) && typeof segment === "number") {
    const item = node.items[segment];
    return item === undefined ? undefined : { value: item as Node | null };
  }
  return undefined;
}

function positionOf(source: YamlSource, node: Node): Location {
  const offset = node.range?.[0] ?? 0;
  return { file: source.file, ...source.lineCounter.linePos(offset) };
}

/** True when JSON gives `value` back as it is: no undefined, no NaN or infinity, no -0, plain objects and arrays only. */
export function survivesJson(value: unknown): boolean {
  if (value === null || typeof value === "string" || typeof value === "boolean") return true;
  if (typeof value === "number") return Number.isFinite(value) && !Object.is(value, -0);
  if (Array.isArray(value)) return value.every(survivesJson);
  if (typeof value !== "object" || Object.getPrototypeOf(value) !== Object.prototype) return false;
  return Object.entries(value).every(([key, item]) => key !== "__proto__" && survivesJson(item));
}
