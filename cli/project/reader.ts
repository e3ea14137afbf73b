import { readFileSync } from "node:fs";
import { readdir } from "node:fs/promises";
import path from "node:path";
import type { z } from "zod";
import { NAME_PATTERN } from "../../schemas/common.js";
import { KIND_FOLDERS, KINDS, type Kind } from "../../schemas/kinds.js";
import { problem, type Problem } from "../problems.js";
import { readCatalogs, type CatalogSource } from "./catalogs.js";
import { refusalMessage, resolveRepositoryFile } from "./repository-paths.js";
import type { ParseCache } from "./parse-cache.js";
import { locate, parseYamlSource, parseYamlSourceCached, type YamlSource } from "./yaml-source.js";
import { suggest, zodProblems } from "./zod-problems.js";

export const PROJECT_FILE = "mk.yaml";

type Specs = { [K in Kind]: z.infer<(typeof KINDS)[K]> };

/** One parsed and schema-valid file of a campaigns repository. */
export interface Resource<K extends Kind = Kind> {
  kind: K;
  name: string;
  source: YamlSource;
  spec: Specs[K];
}

export interface Repository {
  /** Absolute path of the folder holding mk.yaml. */
  root: string;
  project: Resource<"Project"> | undefined;
  audiences: Resource<"Audience">[];
  campaigns: Resource<"Campaign">[];
  sequences: Resource<"Sequence">[];
  /** Transactional messages, messages/<name>.yaml. */
  messages: Resource<"Message">[];
  /** Message catalogs, locales/<code>.yaml, in file order. */
  catalogs: CatalogSource[];
  /**
   * Names of resources whose file has problems and so is left out, by kind:
   * a reference to one of them is not reported again as unknown.
   */
  failed: Record<Kind, Set<string>>;
}

/**
 * Read every file of the repository at `root`. Files that fail to parse or
 * fail their schema are left out of the result and reported as problems;
 * everything else is returned, so later checks can still run. Files the
 * cache holds unchanged are not parsed again.
 */
export async function readRepository(root: string, cache?: ParseCache): Promise<[Repository, Problem[]]> {
  const repo: Repository = {
    root,
    project: undefined,
    audiences: [],
    campaigns: [],
    sequences: [],
    messages: [],
    catalogs: [],
    failed: { Project: new Set(), Audience: new Set(), Campaign: new Set(), Sequence: new Set(), Message: new Set() },
  };
  const problems: Problem[] = [];

  const folders = Object.values(KIND_FOLDERS);
  const files = [PROJECT_FILE, ...(await Promise.all(folders.map((folder) => listYaml(root, folder)))).flat()];
  const [read, [catalogs, catalogProblems]] = await Promise.all([Promise.all(files.map(async (file) => readResource(root, file, cache))), readCatalogs(root, cache)]);
  repo.catalogs = catalogs;
  problems.push(...catalogProblems);

  read.forEach((result, i) => {
    if (!result) return;
    const [resource, fileProblems, data] = result;
    problems.push(...fileProblems);
    if (!resource) {
      const file = files[i] as string;
      repo.failed[expectedKind(file)].add(intendedName(file, data));
      return;
    }
    switch (resource.kind) {
      case "Project":
        repo.project = resource as Resource<"Project">;
        break;
      case "Audience":
        repo.audiences.push(resource as Resource<"Audience">);
        break;
      case "Campaign":
        repo.campaigns.push(resource as Resource<"Campaign">);
        break;
      case "Sequence":
        repo.sequences.push(resource as Resource<"Sequence">);
        break;
      case "Message":
        repo.messages.push(resource as Resource<"Message">);
        break;
    }
  });
  return [repo, problems];
}

/**
 * Read mk.yaml alone, for commands that only need the project (where the
 * runtime is): the same parse and checks as readRepository gives it, without
 * reading the rest of the repository.
 */
export async function readProject(root: string): Promise<[Resource<"Project"> | undefined, Problem[]]> {
  const [resource, problems] = (await readResource(root, PROJECT_FILE)) ?? [undefined, []];
  return [resource as Resource<"Project"> | undefined, problems];
}

async function listYaml(root: string, folder: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(path.join(root, folder), { recursive: true, withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  return entries
    .filter((entry) => (entry.isFile() || entry.isSymbolicLink()) && /\.ya?ml$/.test(entry.name))
    .map((entry) => toPosix(path.relative(root, path.join(entry.parentPath, entry.name))))
    .sort();
}

/** The resource, or the problems that kept it out (with whatever data could be parsed). */
type ReadResult = [Resource | undefined, Problem[], unknown?];

/**
 * Undefined when a listed file is not there to read (a symbolic link to
 * nothing, or to a folder). A link out of the repository or into .git/ or
 * .mk/ is refused unread.
 */
async function readResource(root: string, file: string, cache?: ParseCache): Promise<ReadResult | undefined> {
  const located = await resolveRepositoryFile(root, file);
  if (located.status === "refused") return [undefined, [problem("MK047", { file, line: 1, col: 1 }, refusalMessage(file, located.refusal))]];
  const text = located.status === "readable" ? readText(located.realPath) : undefined;
  if (text === undefined) {
    return file === PROJECT_FILE ? [undefined, [problem("MK004", { file, line: 1, col: 1 }, "mk.yaml is missing from the repository root")]] : undefined;
  }
  const [source, parseProblems] = cache ? parseYamlSourceCached(cache, file, text) : parseYamlSource(file, text);
  if (!source) return [undefined, parseProblems];

  const kind = checkHeader(source);
  if (typeof kind !== "string") return [undefined, kind, source.data];

  const schema = KINDS[kind];
  const result = schema.safeParse(source.data);
  if (!result.success) return [undefined, zodProblems(source, schema, result.error.issues), source.data];

  const spec = result.data as Specs[Kind];
  const nameProblem = kind === "Project" ? defaultProjectName(root, spec) : defaultName(source, spec);
  if (nameProblem) return [undefined, [nameProblem], source.data];
  return [{ kind, name: spec.name as string, source, spec }, []];
}

/** Read at once: for the thousands of small files of a repository, an asynchronous read costs about eight times the CPU. */
function readText(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "EISDIR") return undefined;
    throw error;
  }
}

/** apiVersion and kind first: without them the rest of the file can't be read. */
function checkHeader(source: YamlSource): Kind | Problem[] {
  const data = source.data;
  const at = (key: string) => locate(source, [key]);
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    return [problem("MK002", locate(source, []), "expected a mapping with apiVersion: mk/v1 and kind")];
  }
  const record = data as Record<string, unknown>;
  const problems: Problem[] = [];
  if (record["apiVersion"] === undefined) {
    problems.push(problem("MK002", locate(source, []), "apiVersion is required; add apiVersion: mk/v1"));
  } else if (record["apiVersion"] !== "mk/v1") {
    problems.push(problem("MK002", at("apiVersion"), `apiVersion ${JSON.stringify(record["apiVersion"])} is not supported; use mk/v1`));
  }

  const expected = expectedKind(source.file);
  const kind = record["kind"];
  if (kind === undefined) {
    problems.push(problem("MK002", locate(source, []), `kind is required; add kind: ${expected}`));
  } else if (typeof kind !== "string" || !Object.hasOwn(KINDS, kind)) {
    const hint = typeof kind === "string" ? suggest(kind, Object.keys(KINDS)) : undefined;
    problems.push(
      problem("MK002", at("kind"), `unknown kind ${JSON.stringify(kind)}${hint ? `; did you mean "${hint}"?` : `; expected ${expected}`}`),
    );
  } else if (kind !== expected) {
    const where = kind === "Project" ? "mk.yaml at the repository root" : `${KIND_FOLDERS[kind as keyof typeof KIND_FOLDERS]}/`;
    problems.push(problem("MK003", at("kind"), `${kind} files belong in ${where}, not in ${source.file}`));
  }
  return problems.length > 0 ? problems : (kind as Kind);
}

/** The name a file that failed to load was meant to have: its `name:` if readable, else its file name. */
function intendedName(file: string, data: unknown): string {
  const name = data !== null && typeof data === "object" ? (data as Record<string, unknown>)["name"] : undefined;
  return typeof name === "string" ? name : path.posix.basename(file).replace(/\.ya?ml$/, "");
}

function expectedKind(file: string): Kind {
  if (file === PROJECT_FILE) return "Project";
  const folder = file.split("/")[0];
  const entry = Object.entries(KIND_FOLDERS).find(([, dir]) => dir === folder);
  return (entry?.[0] ?? "Project") as Kind;
}

/** `name` defaults to the file name without its extension. */
function defaultName(source: YamlSource, spec: { name?: string | undefined }): Problem | undefined {
  if (spec.name !== undefined) return undefined;
  const base = path.posix.basename(source.file).replace(/\.ya?ml$/, "");
  if (!NAME_PATTERN.test(base)) {
    return problem(
      "MK013",
      locate(source, []),
      `the file name "${base}" is not a valid name (lower-case letters, digits and dashes); rename the file or set name:`,
    );
  }
  spec.name = base;
  return undefined;
}

/** A project's name defaults to its folder's name, made into a valid name. */
function defaultProjectName(root: string, spec: { name?: string | undefined }): undefined {
  if (spec.name !== undefined) return undefined;
  const slug = path
    .basename(root)
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63);
  spec.name = NAME_PATTERN.test(slug) ? slug : "project";
  return undefined;
}

export function toPosix(p: string): string {
  return p.split(path.sep).join("/");
}
