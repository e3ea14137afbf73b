import { readFileSync } from "node:fs";
import { mkdir, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import type { CompileJob, CompileResult } from "./compile-job.js";
import { templateFingerprint } from "./fingerprint.js";

/**
 * Compiled templates by content hash (`.mk/cache/`, on unless --no-cache),
 * like ESLint's --cache: the key is the template's fingerprint (every file
 * of its include graph plus the mk and mjml versions), so a changed partial
 * or an upgrade misses. Entries are written to a temporary file and
 * renamed, so readers never see half of one; an unreadable entry is a miss,
 * never an error.
 */
export class CompileCache {
  constructor(private readonly dir: string) {}

  /** The cache of a repository: `.mk/cache/templates/` under its root. */
  static forRepository(root: string): CompileCache {
    return new CompileCache(path.join(root, ".mk", "cache", "templates"));
  }

  key(job: CompileJob): string {
    return templateFingerprint(job);
  }

  async get(key: string): Promise<CompileResult | undefined> {
    try {
      // At once: reading a thousand entries asynchronously costs about eight times the CPU.
      return JSON.parse(readFileSync(this.file(key), "utf8")) as CompileResult;
    } catch {
      return undefined;
    }
  }

  async set(key: string, result: CompileResult): Promise<void> {
    const file = this.file(key);
    await mkdir(path.dirname(file), { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify(result));
    await rename(temporary, file);
  }

  private file(key: string): string {
    return path.join(this.dir, key.slice(0, 2), `${key}.json`);
  }
}
