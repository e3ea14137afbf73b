import { closest, distance } from "fastest-levenshtein";
import type { z } from "zod";
import { DURATION_PATTERN, ENV_VAR_PATTERN, NAME_PATTERN } from "../../schemas/common.js";
import { isProblemCode, problem, type Problem, type ProblemCode } from "../problems.js";
import { locate, type PathSegment, type YamlSource } from "./yaml-source.js";

/**
 * Turns zod issues into problems located in the YAML source, with messages
 * that name the field and say what to write instead.
 */
export function zodProblems(source: YamlSource, schema: z.ZodType, issues: readonly z.core.$ZodIssue[]): Problem[] {
  const problems = issues.flatMap((issue) => issueProblems(source, schema, issue, []));
  return withoutMisspelledRequired(problems);
}

/**
 * `subjct: …` gives both "unknown key subjct; did you mean subject?" and
 * "subject is required"; the second says nothing new, so it goes. Likewise
 * `token: …` in place of `tokenEnv:` is reported once, as a literal token.
 */
function withoutMisspelledRequired(problems: Problem[]): Problem[] {
  const suggested = new Set(
    problems.filter((p) => p.code === "MK011").map((p) => /did you mean "([^"]+)"/.exec(p.message)?.[1]).filter(Boolean),
  );
  if (problems.some((p) => p.code === "MK027")) suggested.add("tokenEnv");
  return problems.filter((p) => {
    if (p.code !== "MK012") return true;
    const missing = /(?:^|\.)([^.\[\]]+) is required$/.exec(p.message)?.[1];
    return missing === undefined || !suggested.has(missing);
  });
}

function issueProblems(source: YamlSource, schema: z.ZodType, issue: z.core.$ZodIssue, base: PathSegment[]): Problem[] {
  const path = [...base, ...(issue.path as PathSegment[])];
  const value = valueAt(source.data, path);
  const field = fieldName(path);

  switch (issue.code) {
    case "unrecognized_keys": {
      const known = knownKeys(schema, path, source.data);
      return issue.keys.map((key) =>
        problem(unknownKeyCode(key), locate(source, path, key), unknownKeyMessage(key, path, known)),
      );
    }
    case "invalid_union": {
      const branch = issue.errors[namedForm(schema, path, source.data, value) ?? -1] ?? bestBranch(issue.errors, value);
      if (branch) return branch.flatMap((inner) => issueProblems(source, schema, inner, path));
      return [problem("MK015", locate(source, path), noFormMessage(field, value, unionForms(schema, path, source.data)))];
    }
    case "invalid_type":
      if (value === undefined) {
        const parent = path.slice(0, -1);
        return [problem(apiOrKind(path) ?? "MK012", locate(source, parent), `${field} is required`)];
      }
      return [problem(apiOrKind(path) ?? "MK010", locate(source, path), `${field}: expected ${article(issue.expected)}, got ${describe(value)}`)];
    case "invalid_value":
      return [problem(apiOrKind(path) ?? "MK010", locate(source, path), `${field}: ${valueMessage(issue, value)}`)];
    case "invalid_format": {
      const pattern = "pattern" in issue ? String(issue.pattern) : "";
      const code = FORMAT_CODES[pattern] ?? "MK010";
      return [problem(code, locate(source, path), `${field} ${issue.message} (got ${describe(value)})`)];
    }
    case "custom": {
      const code = issue.params?.["code"];
      return [problem(isProblemCode(code) ? code : "MK010", locate(source, path), `${field}: ${issue.message}`)];
    }
    default:
      return [problem("MK010", locate(source, path), `${field}: ${issue.message}`)];
  }
}

const FORMAT_CODES: Record<string, ProblemCode> = {
  [String(NAME_PATTERN)]: "MK013",
  [String(DURATION_PATTERN)]: "MK014",
  [String(ENV_VAR_PATTERN)]: "MK027",
};

function apiOrKind(path: readonly PathSegment[]): ProblemCode | undefined {
  return path.length === 1 && (path[0] === "apiVersion" || path[0] === "kind") ? "MK002" : undefined;
}

function unknownKeyCode(key: string): ProblemCode {
  return /^(api)?token$/i.test(key) ? "MK027" : "MK011";
}

function unknownKeyMessage(key: string, path: readonly PathSegment[], known: readonly string[]): string {
  const where = path.length === 0 ? "" : ` in ${fieldName(path)}`;
  if (unknownKeyCode(key) === "MK027") {
    return `"${key}"${where}: never write a token in mk.yaml; set tokenEnv to the name of an environment variable that holds it`;
  }
  const suggestion = suggest(key, known);
  const hint = suggestion ? `; did you mean "${suggestion}"?` : known.length > 0 ? `; expected one of ${known.join(", ")}` : "";
  return `unknown key "${key}"${where}${hint}`;
}

/** The closest known key when it is close enough to be a typo. */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  if (candidates.length === 0) return undefined;
  const best = closest(word, candidates as string[]);
  const limit = word.length < 3 ? 1 : Math.max(2, Math.floor(Math.max(word.length, best.length) / 3));
  return distance(word.toLowerCase(), best.toLowerCase()) <= limit ? best : undefined;
}

/**
 * A union reports one issue list per branch. The branch meant is the one
 * whose issues are fewest at the union's own level (wrong type, missing or
 * unknown keys); when no branch stands out, there is no branch to blame.
 */
function bestBranch(branches: readonly (readonly z.core.$ZodIssue[])[], value: unknown): readonly z.core.$ZodIssue[] | undefined {
  const scored = branches.map((issues) => ({ issues, score: branchScore(issues, value) }));
  const min = Math.min(...scored.map((b) => b.score));
  const best = scored.filter((b) => b.score === min);
  if (best.length !== 1) return undefined;
  const [only] = best;
  return only && only.score < 100 ? only.issues : undefined;
}

function branchScore(issues: readonly z.core.$ZodIssue[], value: unknown): number {
  let score = 0;
  for (const issue of issues) {
    if (issue.path.length === 0 && issue.code === "invalid_type") score += 1000;
    else if (issue.path.length === 0 && issue.code === "unrecognized_keys") score += 100 * issue.keys.length;
    else if (issue.path.length === 1 && issue.code === "invalid_type" && valueAt(value, issue.path as PathSegment[]) === undefined) {
      score += 100;
    } else score += 1;
  }
  return score;
}

function noFormMessage(field: string, value: unknown, forms: readonly string[]): string {
  const given = isPlainObject(value) ? Object.keys(value) : [];
  const typo = given.map((k) => suggest(k, forms)).find((s) => s !== undefined);
  const hint = typo ? `; did you mean "${typo}"?` : "";
  const what = given.length > 0 ? `{ ${given.join(", ")} }` : describe(value);
  const expected = forms.length > 0 ? `it needs exactly one of ${forms.join(", ")}` : "it matches none of the allowed forms";
  return `${field}: ${what} is not valid here; ${expected}${hint}`;
}

function valueMessage(issue: z.core.$ZodIssue & { code: "invalid_value" }, value: unknown): string {
  const options = issue.values.map((v) => JSON.stringify(v));
  if (options.length === 1) return `must be ${options[0]}, got ${describe(value)}`;
  const suggestion = typeof value === "string" ? suggest(value, issue.values.map(String)) : undefined;
  return `must be one of ${options.join(", ")}, got ${describe(value)}${suggestion ? `; did you mean "${suggestion}"?` : ""}`;
}

function fieldName(path: readonly PathSegment[]): string {
  if (path.length === 0) return "the document";
  return path.reduce<string>((acc, seg) => (typeof seg === "number" ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), "");
}

function article(expected: string): string {
  const words: Record<string, string> = {
    string: "a string",
    number: "a number",
    int: "a whole number",
    boolean: "true or false",
    object: "a mapping (key: value)",
    array: "a list",
    record: "a mapping (key: value)",
  };
  return words[expected] ?? expected;
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "an empty value";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  return String(value);
}

function valueAt(data: unknown, path: readonly PathSegment[]): unknown {
  let current = data;
  for (const segment of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PathSegment, unknown>)[segment];
  }
  return current;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

type AnyDef = {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  element?: z.ZodType;
  valueType?: z.ZodType;
  options?: z.ZodType[];
  getter?: () => z.ZodType;
};

function defOf(schema: z.ZodType): AnyDef {
  return (schema as unknown as { _zod: { def: AnyDef } })._zod.def;
}

/** Unwrap optional/default/lazy/pipe wrappers down to the schema that decides. */
function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (;;) {
    const def = defOf(current);
    if (def.innerType && ["optional", "default", "prefault", "nullable", "readonly", "catch", "nonoptional"].includes(def.type)) {
      current = def.innerType;
    } else if (def.type === "lazy" && def.getter) current = def.getter();
    // A preprocess (schemas/nesting.ts) is a pipe from a transform into the schema that decides.
    else if (def.type === "pipe" && def.in) current = defOf(def.in).type === "transform" && def.out ? def.out : def.in;
    else return current;
  }
}

/** The schema at `path`, unwrapped, choosing union branches on the way by the data. */
function schemaAt(root: z.ZodType, path: readonly PathSegment[], data: unknown): z.ZodType | undefined {
  let schema: z.ZodType | undefined = unwrap(root);
  let value = data;
  for (const segment of path) {
    if (!schema) return undefined;
    const def = defOf(pickBranch(schema, value));
    value = isPlainObject(value) || Array.isArray(value) ? (value as Record<PathSegment, unknown>)[segment] : undefined;
    const next =
      def.type === "object" ? def.shape?.[String(segment)]
      : def.type === "array" ? def.element
      : def.type === "record" ? def.valueType
      : undefined;
    schema = next ? unwrap(next) : undefined;
  }
  return schema;
}

/** The keys the object schema at `path` accepts. */
function knownKeys(root: z.ZodType, path: readonly PathSegment[], data: unknown): string[] {
  const schema = schemaAt(root, path, data);
  if (!schema) return [];
  const def = defOf(pickBranch(schema, valueAt(data, path)));
  return def.type === "object" && def.shape ? Object.keys(def.shape) : [];
}

/** For a union of objects at `path`: the first required key of each branch (`all`, `tag`, `event`…). */
function unionForms(root: z.ZodType, path: readonly PathSegment[], data: unknown): string[] {
  const schema = schemaAt(root, path, data);
  const def = schema ? defOf(schema) : undefined;
  if (def?.type !== "union" || !def.options) return [];
  return def.options.flatMap((option) => {
    const key = formKey(option);
    return key === undefined ? [] : [key];
  });
}

/** The first required key of an object branch, which names its form (`event`, `all`, `send`…). */
function formKey(option: z.ZodType): string | undefined {
  const shape = defOf(unwrap(option)).shape;
  if (!shape) return undefined;
  return Object.entries(shape).find(([, s]) => !["optional", "default", "prefault"].includes(defOf(s).type))?.[0];
}

/**
 * The union branch the value names by its key, such as `event:` for an event
 * condition: when exactly one form's key is given, that form is meant, and its
 * own issues explain what is wrong inside it.
 */
function namedForm(root: z.ZodType, path: readonly PathSegment[], data: unknown, value: unknown): number | undefined {
  if (!isPlainObject(value)) return undefined;
  const schema = schemaAt(root, path, data);
  const def = schema ? defOf(schema) : undefined;
  if (def?.type !== "union" || !def.options) return undefined;
  const named = def.options.flatMap((option, index) => {
    const key = formKey(option);
    return key !== undefined && key in value ? [index] : [];
  });
  return named.length === 1 ? named[0] : undefined;
}

/** For a union, the object branch sharing the most keys with the value. */
function pickBranch(schema: z.ZodType, value: unknown): z.ZodType {
  const def = defOf(schema);
  if (def.type !== "union" || !def.options) return schema;
  const given = isPlainObject(value) ? Object.keys(value) : [];
  let best = schema;
  let bestShared = -1;
  for (const option of def.options) {
    const inner = pickBranch(unwrap(option), value);
    const shape = defOf(inner).shape;
    if (!shape) continue;
    const shared = given.filter((k) => k in shape).length;
    if (shared > bestShared) {
      best = inner;
      bestShared = shared;
    }
  }
  return best;
}
