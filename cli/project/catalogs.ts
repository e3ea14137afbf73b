import { readFileSync } from "node:fs";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { catalogFile, flattenCatalog, type Catalog, type NestedCatalog } from "../../schemas/locales.js";
import { problem, type Problem } from "../problems.js";
import type { ParseCache } from "./parse-cache.js";
import { refusalMessage, resolveRepositoryFile } from "./repository-paths.js";
import { parseYamlSource, parseYamlSourceCached, type YamlSource } from "./yaml-source.js";
import { zodProblems } from "./zod-problems.js";

/** Where a repository keeps its message catalogs: `locales/<code>.yaml`. */
export const CATALOG_FOLDER = "locales";

/** One message catalog of the repository, `locales/th.yaml`: its locale is its file name. */
export interface CatalogSource {
  /** The locale code as the file name spells it (th, pt-BR). */
  code: string;
  file: string;
  source: YamlSource;
  /** Dotted keys and their ICU messages. */
  messages: Catalog;
}

/**
 * Every catalog in locales/ (not its subfolders): plain nested keys, no
 * apiVersion or kind, so translators and translation tools can edit them as
 * they edit any YAML catalog. A file that does not parse or is no catalog is
 * a problem and is left out.
 */
export async function readCatalogs(root: string, cache?: ParseCache): Promise<[CatalogSource[], Problem[]]> {
  const files = await listCatalogFiles(root);
  const catalogs: CatalogSource[] = [];
  const problems: Problem[] = [];
  for (const file of files) {
    const located = await resolveRepositoryFile(root, file);
    if (located.status === "refused") {
      problems.push(problem("MK047", { file, line: 1, col: 1 }, refusalMessage(file, located.refusal)));
      continue;
    }
    if (located.status !== "readable") continue;
    const text = readFileSync(located.realPath, "utf8");
    const [source, parseProblems] = cache ? parseYamlSourceCached(cache, file, text) : parseYamlSource(file, text);
    problems.push(...parseProblems);
    if (!source) continue;
    const data = source.data ?? {};
    const result = catalogFile.safeParse(data);
    if (!result.success) {
      problems.push(...zodProblems(source, catalogFile, result.error.issues));
      continue;
    }
    const code = path.posix.basename(file).replace(/\.ya?ml$/, "");
    catalogs.push({ code, file, source, messages: flattenCatalog(result.data as NestedCatalog) });
  }
  return [catalogs, problems];
}

async function listCatalogFiles(root: string): Promise<string[]> {
  try {
    const entries = await readdir(path.join(root, CATALOG_FOLDER), { withFileTypes: true });
    return entries
      .filter((entry) => (entry.isFile() || entry.isSymbolicLink()) && /\.ya?ml$/.test(entry.name))
      .map((entry) => `${CATALOG_FOLDER}/${entry.name}`)
      .sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
}
