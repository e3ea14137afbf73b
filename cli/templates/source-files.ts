import { readFile } from "node:fs/promises";
import path from "node:path";
import { Parser } from "htmlparser2";
import { problem, type Location, type Problem } from "../problems.js";
import { isInside } from "../project/resolver.js";
import { toPosix } from "../project/reader.js";

/** An mj-include tag as written in a template file. */
export interface Include {
  /** Repository-relative path of the included file. */
  target: string;
  type: "mjml" | "css" | "html";
  at: Location;
}

/** A template or partial file with its includes, read once and shared by every template using it. */
export interface TemplateFile {
  file: string;
  text: string;
  includes: Include[];
  problems: Problem[];
}

/** Offsets of line starts, to turn a character offset into line and column. */
export function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return starts;
}

export function positionAt(starts: readonly number[], offset: number): { line: number; col: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((starts[mid] as number) <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, col: offset - (starts[lo] as number) + 1 };
}

/**
 * Reads template files and their mj-include graph, caching each file so a
 * partial shared by a thousand templates is read and scanned once.
 */
export class TemplateFiles {
  private readonly cache = new Map<string, Promise<TemplateFile | undefined>>();

  constructor(private readonly root: string) {}

  /** The file, or undefined when it does not exist. */
  get(file: string): Promise<TemplateFile | undefined> {
    let entry = this.cache.get(file);
    if (!entry) {
      entry = this.read(file);
      this.cache.set(file, entry);
    }
    return entry;
  }

  /**
   * Every file `template` includes, directly or not, in include order,
   * starting with the template itself. Missing files, includes that leave
   * the repository and include cycles are problems at the include tag.
   */
  async graph(template: string): Promise<[TemplateFile[], Problem[]]> {
    const files: TemplateFile[] = [];
    const problems: Problem[] = [];
    const done = new Set<string>();
    const visit = async (file: TemplateFile, stack: string[]): Promise<void> => {
      files.push(file);
      done.add(file.file);
      problems.push(...file.problems);
      for (const include of file.includes) {
        if (stack.includes(include.target)) {
          const cycle = [...stack.slice(stack.indexOf(include.target)), include.target];
          problems.push(problem("MK042", include.at, `mj-include cycle: ${cycle.join(" → ")}`));
          continue;
        }
        if (done.has(include.target)) continue;
        const child = await this.get(include.target);
        if (!child) {
          problems.push(problem("MK041", include.at, `mj-include file ${include.target} does not exist`));
          continue;
        }
        if (include.type === "css") {
          done.add(child.file);
          continue;
        }
        await visit(child, [...stack, include.target]);
      }
    };
    const root = await this.get(template);
    if (root) await visit(root, [template]);
    return [files, problems];
  }

  private async read(file: string): Promise<TemplateFile | undefined> {
    let text: string;
    try {
      text = await readFile(path.join(this.root, file), "utf8");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "EISDIR") return undefined;
      throw error;
    }
    const [includes, problems] = this.scanIncludes(file, text);
    return { file, text, includes, problems };
  }

  private scanIncludes(file: string, text: string): [Include[], Problem[]] {
    const starts = lineStarts(text);
    const includes: Include[] = [];
    const problems: Problem[] = [];
    const parser: Parser = new Parser(
      {
        onopentag: (name, attributes) => {
          if (name !== "mj-include") return;
          const at = { file, ...positionAt(starts, parser.startIndex) };
          const written = attributes["path"];
          if (!written) {
            problems.push(problem("MK041", at, 'mj-include needs a path="…" attribute'));
            return;
          }
          const absolute = path.resolve(this.root, path.dirname(file), written);
          if (path.isAbsolute(written) || !isInside(this.root, absolute)) {
            problems.push(problem("MK043", at, `mj-include path "${written}" leaves the repository; include files under the repository root only`));
            return;
          }
          const type = attributes["type"] === "css" ? "css" : attributes["type"] === "html" ? "html" : "mjml";
          includes.push({ target: toPosix(path.relative(this.root, absolute)), type, at });
        },
      },
      { xmlMode: true, recognizeSelfClosing: true },
    );
    parser.write(text);
    parser.end();
    return [includes, problems];
  }
}
