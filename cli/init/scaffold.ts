import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { PACKAGE_ROOT } from "../../runtime/package-root.js";
import { MkError } from "../errors.js";
import { MK_VERSION } from "../version.js";

/** The starter repository `mk init` copies, shipped inside the package. */
export const SCAFFOLD_DIR = path.join(PACKAGE_ROOT, "cli", "init", "scaffold");

/**
 * npm leaves `.gitignore` files out of published packages, so the scaffold
 * keeps it under another name and init gives it its real one.
 */
const RENAMED: Record<string, string> = { gitignore: ".gitignore" };

export interface InitResult {
  /** Files written, relative to the target, in the order written. */
  readonly written: string[];
  /** What happened to package.json: made, mk added to it, or already there. */
  readonly packageJson: "created" | "updated" | "unchanged";
}

/** Every file of the scaffold as (source path, path in the new repository). */
function scaffoldFiles(): Array<{ source: string; target: string }> {
  const entries = readdirSync(SCAFFOLD_DIR, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => {
      const source = path.join(entry.parentPath, entry.name);
      const relative = path.relative(SCAFFOLD_DIR, source).split(path.sep).join("/");
      const base = path.posix.basename(relative);
      const renamed = RENAMED[base];
      return { source, target: renamed ? path.posix.join(path.posix.dirname(relative), renamed) : relative };
    })
    .sort((a, b) => a.target.localeCompare(b.target));
}

/**
 * Write a working campaigns repository into `dir` (made if missing). Existing
 * files are never overwritten unless `force`; an existing package.json is
 * never replaced, only given mk as a dev dependency.
 */
export function initRepository(dir: string, options: { force: boolean }): InitResult {
  const target = path.resolve(dir);
  if (existsSync(target) && !lstatSync(target).isDirectory()) {
    throw new MkError("MK084", `${dir} exists and is not a folder`);
  }
  const files = scaffoldFiles();
  const clashes = files.filter((file) => existsSync(path.join(target, file.target))).map((file) => file.target);
  if (clashes.length > 0 && !options.force) {
    throw new MkError("MK083", `${dir} already has ${clashes.join(", ")}; run again with --force to overwrite them`);
  }

  // Read package.json before writing anything, so a broken one stops init with nothing half-written.
  const packageJson = packageJsonFor(target);
  try {
    for (const file of files) {
      const destination = path.join(target, file.target);
      mkdirSync(path.dirname(destination), { recursive: true });
      writeFileSync(destination, readFileSync(file.source));
    }
    if (packageJson.text !== undefined) writeFileSync(path.join(target, "package.json"), packageJson.text);
  } catch (error) {
    throw new MkError("MK084", `cannot write into ${dir}: ${(error as Error).message}`);
  }
  return { written: files.map((file) => file.target), packageJson: packageJson.status };
}

/** The package.json to write: a new one pinning mk, or an existing one with mk added to its dev dependencies. */
function packageJsonFor(target: string): { status: InitResult["packageJson"]; text?: string } {
  const file = path.join(target, "package.json");
  const range = `^${MK_VERSION}`;
  if (!existsSync(file)) {
    const name = path.basename(target).toLowerCase().replace(/[^a-z0-9._-]+/g, "-").replace(/^[._-]+/, "") || "campaigns";
    const manifest = { name, private: true, scripts: { validate: "mk validate", plan: "mk plan" }, devDependencies: { mk: range } };
    return { status: "created", text: `${JSON.stringify(manifest, null, 2)}\n` };
  }
  let manifest: { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
  try {
    manifest = JSON.parse(readFileSync(file, "utf8")) as typeof manifest;
  } catch (error) {
    throw new MkError("MK084", `package.json is not valid JSON (${(error as Error).message}); add mk to its devDependencies by hand`);
  }
  if (manifest.dependencies?.["mk"] || manifest.devDependencies?.["mk"]) return { status: "unchanged" };
  manifest.devDependencies = { ...manifest.devDependencies, mk: range };
  return { status: "updated", text: `${JSON.stringify(manifest, null, 2)}\n` };
}
