import { createRequire } from "node:module";
import type Handlebars from "handlebars";
import { HELPER_NAMES } from "../../runtime/templates/helpers.js";
import { problem, type Location, type Problem } from "../problems.js";

/** A variable a template reads, e.g. `subscriber.firstName`, and where. */
export interface VariableUse {
  path: string;
  at: Location;
}

/** A `{{t "key" name=value}}` call: its key (a literal string), the names of the arguments it passes, and where the key is written. */
export interface TranslationUse {
  key: string;
  args: string[];
  at: Location;
}

export interface HandlebarsScan {
  variables: VariableUse[];
  translations: TranslationUse[];
  problems: Problem[];
}

const BUILTIN_HELPERS = new Set(["if", "unless", "each", "with", "lookup", "log"]);
const SCOPE_CHANGING = new Set(["each", "with"]);
const KNOWN_HELPERS = new Set([...BUILTIN_HELPERS, ...HELPER_NAMES]);

const require = createRequire(import.meta.url);
let loaded: typeof Handlebars | undefined;

/** Handlebars (CommonJS, so it can be loaded on first use): a run that finds every scan cached never loads it. */
function handlebars(): typeof Handlebars {
  return (loaded ??= require("handlebars") as typeof Handlebars);
}

/**
 * Parse one file's handlebars expressions: syntax errors with their line and
 * column, helpers that do not exist, every context variable it reads
 * (outside `each`/`with` blocks, where names are relative to the item), and
 * every `{{t}}` call with its key and argument names.
 */
export function scanHandlebars(file: string, text: string): HandlebarsScan {
  let program: hbs.AST.Program;
  try {
    program = handlebars().parseWithoutProcessing(text);
  } catch (error) {
    return { variables: [], translations: [], problems: [syntaxProblem(file, text, error as Error & { lineNumber?: number; column?: number })] };
  }

  const variables: VariableUse[] = [];
  const translations: TranslationUse[] = [];
  const problems: Problem[] = [];
  const at = (loc: hbs.AST.SourceLocation): Location => ({ file, line: loc.start.line, col: loc.start.column + 1 });

  const expression = (node: hbs.AST.Expression, scoped: boolean): void => {
    if (node.type === "PathExpression") {
      const path = node as hbs.AST.PathExpression;
      if (path.data || path.depth > 0 || path.original === "this" || path.original.startsWith("this.")) return;
      if (!scoped) variables.push({ path: path.original, at: at(path.loc) });
    } else if (node.type === "SubExpression") {
      call(node as hbs.AST.SubExpression, scoped);
    }
  };

  const call = (node: { path: hbs.AST.Expression; params: hbs.AST.Expression[]; hash?: hbs.AST.Hash; loc: hbs.AST.SourceLocation }, scoped: boolean, block = false): void => {
    const name = node.path.type === "PathExpression" ? (node.path as hbs.AST.PathExpression).original : undefined;
    const isCall = block || name === "t" || node.params.length > 0 || (node.hash?.pairs.length ?? 0) > 0;
    if (isCall && name !== undefined) {
      if (!KNOWN_HELPERS.has(name)) {
        problems.push(
          problem("MK046", at(node.path.loc), `unknown helper "${name}"; available: ${[...KNOWN_HELPERS].sort().join(", ")}`),
        );
      }
      if (name === "t") translation(node);
    } else {
      expression(node.path, scoped);
    }
    for (const param of node.params) expression(param, scoped);
    for (const pair of node.hash?.pairs ?? []) expression(pair.value, scoped);
  };

  const translation = (node: { params: hbs.AST.Expression[]; hash?: hbs.AST.Hash; loc: hbs.AST.SourceLocation }): void => {
    const key = node.params[0];
    if (key?.type !== "StringLiteral") {
      problems.push(problem("MK130", at(key?.loc ?? node.loc), 't needs its key as a literal string, e.g. {{t "checkout.cta"}}, so the key can be checked against every catalog'));
      return;
    }
    translations.push({ key: (key as hbs.AST.StringLiteral).value, args: (node.hash?.pairs ?? []).map((pair) => pair.key), at: at(key.loc) });
  };

  const statements = (body: hbs.AST.Statement[], scoped: boolean): void => {
    for (const statement of body) {
      switch (statement.type) {
        case "MustacheStatement": {
          const mustache = statement as hbs.AST.MustacheStatement;
          call(mustache, scoped);
          if (!mustache.escaped && mustache.path.type === "PathExpression" && (mustache.path as hbs.AST.PathExpression).original === "t") {
            problems.push(
              problem("MK137", at(mustache.loc), "{{{t …}}} writes a translation without HTML escaping, so a value put into it (a subscriber's name) would be HTML in the message; write {{t …}}"),
            );
          }
          break;
        }
        case "BlockStatement": {
          const block = statement as hbs.AST.BlockStatement;
          call(block, scoped, true);
          const name = block.path.type === "PathExpression" ? (block.path as hbs.AST.PathExpression).original : "";
          statements(block.program?.body ?? [], scoped || SCOPE_CHANGING.has(name));
          statements(block.inverse?.body ?? [], scoped);
          break;
        }
        case "PartialStatement":
        case "PartialBlockStatement":
          problems.push(
            problem("MK046", at(statement.loc), "handlebars partials ({{> name}}) are not supported; share markup with <mj-include path=\"…\" />"),
          );
          break;
        default:
          break;
      }
    }
  };
  statements(program.body, false);
  return { variables, translations, problems };
}

/**
 * Handlebars reports parse errors as text ("Parse error on line 3: …") with a
 * caret under the last 20 characters read; recover the column from those.
 */
function syntaxProblem(file: string, text: string, error: Error & { lineNumber?: number; column?: number }): Problem {
  if (error.lineNumber !== undefined) {
    const message = error.message.replace(/ - \d+:\d+$/, "");
    return problem("MK044", { file, line: error.lineNumber, col: (error.column ?? 0) + 1 }, `handlebars: ${message}`);
  }
  const lines = error.message.split("\n");
  const line = Number(/line (\d+)/.exec(lines[0] ?? "")?.[1] ?? 1);
  const excerpt = lines[1] ?? "";
  const caret = (lines[2] ?? "").indexOf("^");
  const before = caret >= 0 ? excerpt.slice(0, caret).replace(/^\.\.\./, "") : "";
  const got = /got '([^']+)'/.exec(error.message)?.[1];
  const col = columnAfter(text.split("\n")[line - 1] ?? "", before);
  const detail =
    got === "EOF"
      ? "the template ends inside an expression or an unclosed {{#block}}"
      : `unexpected ${got ? describeToken(got) : "input"} near "${excerpt.slice(Math.max(0, caret - 12), caret + 8).trim()}"; check that every {{ has a matching }}`;
  return problem("MK044", { file, line, col }, `handlebars: ${detail}`);
}

/** The 1-based column just after `before` ends on `line` (the parser's excerpt has its newlines removed). */
function columnAfter(line: string, before: string): number {
  for (let k = line.length; k > 0; k--) {
    const slice = line.slice(Math.max(0, k - before.length), k);
    if (slice.length > 0 && before.endsWith(slice)) return k + 1;
  }
  return 1;
}

function describeToken(token: string): string {
  const names: Record<string, string> = {
    INVALID: "character",
    CLOSE: "}}",
    OPEN: "{{",
    OPEN_ENDBLOCK: "{{/",
    OPEN_BLOCK: "{{#",
    CLOSE_UNESCAPED: "}}}",
  };
  return names[token] ?? token.toLowerCase();
}
