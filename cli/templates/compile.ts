import path from "node:path";
import type mjml2htmlType from "mjml";
import { problem, type Problem } from "../problems.js";
import { toPosix } from "../project/reader.js";
import { lineStarts, positionAt } from "./source-files.js";

/** A node of MJML's parsed tree, as mjml returns it in `json`. */
export interface MjmlNode {
  tagName: string;
  attributes?: Record<string, string | boolean>;
  content?: string;
  children?: MjmlNode[];
  line?: number;
  absoluteFilePath?: string;
}

export interface CompiledMjml {
  html: string;
  tree: MjmlNode;
}

/**
 * Compile one template with mjml, resolving mj-include relative to each file
 * and only inside the repository. Call it only for templates whose include
 * graph has been checked (no cycles, no missing files). MJML's validation
 * messages become problems at the file and line of the offending tag.
 */
export async function compileMjml(root: string, template: string, texts: ReadonlyMap<string, string>): Promise<[CompiledMjml | undefined, Problem[]]> {
  const absolute = path.join(root, template);
  const source = texts.get(template) ?? "";
  const mjml2html = await loadMjml();
  let result;
  try {
    result = await mjml2html(source, {
      filePath: absolute,
      actualPath: absolute,
      ignoreIncludes: false,
      includePath: root,
      validationLevel: "soft",
      keepComments: false,
    } as Parameters<typeof mjml2htmlType>[1]);
  } catch (error) {
    return [undefined, [problem("MK040", { file: template, line: 1, col: 1 }, `MJML could not compile this template: ${(error as Error).message}`)]];
  }
  const problems = result.errors.map((error) => {
    const file = fileOfError(root, template, error.formattedMessage);
    const line = error.line ?? 1;
    return problem("MK040", { file, line, col: tagColumn(texts.get(file), line, error.tagName) }, `MJML: ${error.message}`);
  });
  return [{ html: result.html, tree: result.json as unknown as MjmlNode }, problems];
}

/**
 * mjml's errors carry the line but not the file; its formatted message starts
 * "Line N of <absolute path>" naming the file (the template or a partial).
 */
function fileOfError(root: string, template: string, formatted: string): string {
  const match = /^Line \d+ of (.+?)(?:, included at .*)? \(/.exec(formatted);
  if (!match?.[1] || !path.isAbsolute(match[1])) return template;
  const relative = toPosix(path.relative(root, match[1]));
  return relative.startsWith("..") ? template : relative;
}

/** The column where `<tagName` starts on that line, or 1. */
export function tagColumn(text: string | undefined, line: number, tagName: string | undefined): number {
  if (!text || !tagName) return 1;
  const starts = lineStarts(text);
  const start = starts[line - 1];
  if (start === undefined) return 1;
  const end = starts[line] ?? text.length;
  const index = text.slice(start, end).indexOf(`<${tagName}`);
  return index === -1 ? 1 : positionAt(starts, start + index).col;
}

let mjmlModule: Promise<typeof mjml2htmlType> | undefined;

/** mjml takes most of a second to load; commands that never compile skip it. */
function loadMjml(): Promise<typeof mjml2htmlType> {
  mjmlModule ??= import("mjml").then((m) => m.default);
  return mjmlModule;
}
