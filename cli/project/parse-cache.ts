import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { sha256 } from "../../runtime/state/canonical.js";
import { MK_VERSION } from "../version.js";

/** What is kept: the parse of a YAML file, a template's handlebars, a template's mj-include tags. */
export type ParseKind = "yaml" | "handlebars" | "includes";

/** The shape of what each kind keeps; raised when one changes (2: a handlebars scan has `translations`), so no run reads an older shape. */
const FORMAT = 3;

interface Index {
  mk: string;
  format?: number;
  entries: Record<string, unknown>;
}

/**
 * What parsing each repository file gave, by its path and text, in one file
 * (`.mk/cache/parsed.json`, on unless --no-cache): a run that finds a file
 * unchanged takes its parse from here instead of parsing it again. One file,
 * read once, because a repository has thousands of small files and reading
 * an entry costs more than most parses. A new mk version or FORMAT starts it afresh;
 * each run keeps only the entries it used, so it never grows past the
 * repository; it is written to a temporary file and renamed, and an
 * unreadable one is empty, never an error.
 */
export class ParseCache {
  private readonly used = new Map<string, unknown>();
  private added = false;

  private constructor(
    private readonly file: string | undefined,
    private readonly entries: ReadonlyMap<string, unknown>,
  ) {}

  /** The cache of the repository at `root`. */
  static async forRepository(root: string): Promise<ParseCache> {
    const file = path.join(root, ".mk", "cache", "parsed.json");
    let entries = new Map<string, unknown>();
    try {
      const index = JSON.parse(await readFile(file, "utf8")) as Index;
      if (index.mk === MK_VERSION && index.format === FORMAT) entries = new Map(Object.entries(index.entries));
    } catch {
      // No cache yet, or one that cannot be read: start afresh.
    }
    return new ParseCache(file, entries);
  }

  /** A cache that keeps nothing (--no-cache): every file is parsed. */
  static none(): ParseCache {
    return new ParseCache(undefined, new Map());
  }

  /**
   * What `parse` gives for `text` at `file`, from the cache when it holds
   * it. A result is kept only when `keep` says it may be (it must survive
   * JSON unchanged).
   */
  get<T>(kind: ParseKind, file: string, text: string, parse: () => T, keep: (result: T) => boolean = () => true): T {
    const key = this.file && sha256(`${kind}\0${file}\0${text}`);
    if (key && this.entries.has(key)) return this.hit(key) as T;
    const result = parse();
    if (key) this.keep(key, result, keep);
    return result;
  }

  /** get, for a parse that has to load its parser first (which a run that finds everything cached never does). */
  async getAsync<T>(kind: ParseKind, file: string, text: string, parse: () => Promise<T>): Promise<T> {
    const key = this.file && sha256(`${kind}\0${file}\0${text}`);
    if (key && this.entries.has(key)) return this.hit(key) as T;
    const result = await parse();
    if (key) this.keep(key, result, () => true);
    return result;
  }

  private hit(key: string): unknown {
    const value = this.entries.get(key);
    this.used.set(key, value);
    return value;
  }

  private keep<T>(key: string, result: T, keep: (result: T) => boolean): void {
    if (!keep(result)) return;
    this.used.set(key, result);
    this.added = true;
  }

  /** Write what this run used, when that differs from what was read; a cache that cannot be written is skipped. */
  async save(): Promise<void> {
    if (!this.file || (!this.added && this.used.size === this.entries.size)) return;
    const index: Index = { mk: MK_VERSION, format: FORMAT, entries: Object.fromEntries(this.used) };
    const temporary = `${this.file}.${process.pid}.tmp`;
    try {
      await mkdir(path.dirname(this.file), { recursive: true });
      await writeFile(temporary, JSON.stringify(index));
      await rename(temporary, this.file);
    } catch {
      // Only time is lost.
    }
  }
}
