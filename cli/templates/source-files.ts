import { readFileSync } from "node:fs";
import path from "node:path";
import { problem, type Location, type Problem } from "../problems.js";
import { ParseCache } from "../project/parse-cache.js";
import { refusalMessage, resolveRepositoryFile, type Refusal } from "../project/repository-paths.js";
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

/** A file of the include graph as read: its text, or why there is none. */
type FileRead = { status: "read"; file: TemplateFile } | { status: "missing" } | { status: "refused"; refusal: Refusal };

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
 * partial shared by a thousand templates is read and scanned once (and, with
 * a parse cache, not scanned again while it is unchanged).
 */
export class TemplateFiles {
  private readonly cache = new Map<string, Promise<FileRead>>();

  constructor(
    private readonly root: string,
    private readonly parsed: ParseCache = ParseCache.none(),
  ) {}

  /** The file, or why it was not read (it does not exist, or mk may not read it). */
  get(file: string): Promise<FileRead> {
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
   * the repository (as written or through a symbolic link), files under
   * .git/ or .mk/ and include cycles are problems at the include tag; a file
   * mk may not read is never read.
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
        if (child.status === "missing") {
          problems.push(problem("MK041", include.at, `mj-include file ${include.target} does not exist`));
          continue;
        }
        if (child.status === "refused") {
          problems.push(problem("MK047", include.at, refusalMessage(`mj-include file ${include.target}`, child.refusal)));
          continue;
        }
        if (include.type === "css") {
          done.add(child.file.file);
          continue;
        }
        await visit(child.file, [...stack, include.target]);
      }
    };
    const root = await this.get(template);
    if (root.status === "read") await visit(root.file, [template]);
    return [files, problems];
  }

  private async read(file: string): Promise<FileRead> {
    const located = await resolveRepositoryFile(this.root, file);
    if (located.status !== "readable") return located;
    let text: string;
    try {
      // At once, as the repository's YAML files are read (project/reader.ts).
      text = readFileSync(located.realPath, "utf8");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "EISDIR") return { status: "missing" };
      throw error;
    }
    const [includes, problems] = await this.parsed.getAsync("includes", file, text, () => this.scanIncludes(file, text));
    return { status: "read", file: { file, text, includes, problems } };
  }

  /**
   * The mj-include tags as mjml's parser sees them (the same htmlparser2
   * options, the path URL-decoded as mjml decodes it), so the file checked
   * here is the file mjml reads when it compiles the template.
   */
  private async scanIncludes(file: string, text: string): Promise<[Include[], Problem[]]> {
    const { Parser } = await import("htmlparser2");
    const starts = lineStarts(text);
    const includes: Include[] = [];
    const problems: Problem[] = [];
    const parser = new Parser(
      {
        onopentag: (name, attributes) => {
          if (name !== "mj-include") return;
          const at = { file, ...positionAt(starts, parser.startIndex) };
          const written = attributes["path"];
          if (!written) {
            problems.push(problem("MK041", at, 'mj-include needs a path="…" attribute'));
            return;
          }
          const decoded = decodeLikeMjml(written);
          const absolute = path.resolve(this.root, path.dirname(file), decoded);
          if (path.isAbsolute(decoded) || !isInside(this.root, absolute)) {
            problems.push(problem("MK043", at, `mj-include path "${written}" leaves the repository; include files under the repository root only`));
            return;
          }
          const type = attributes["type"] === "css" ? "css" : attributes["type"] === "html" ? "html" : "mjml";
          includes.push({ target: toPosix(path.relative(this.root, absolute)), type, at });
        },
      },
      { recognizeCDATA: true, decodeEntities: false, recognizeSelfClosing: true, lowerCaseAttributeNames: false },
    );
    parser.write(text);
    parser.end();
    return [includes, problems];
  }
}

/** mjml URL-decodes an include path until it no longer changes (ten rounds at most) before resolving it. */
function decodeLikeMjml(written: string): string {
  let result = written;
  for (let i = 0; i < 10; i += 1) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(result);
    } catch {
      break;
    }
    if (decoded === result) break;
    result = decoded;
  }
  return result;
}
