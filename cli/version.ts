import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** mk's own version, from the package.json above this file (in cli/ or in dist/cli/). */
export const MK_VERSION = ((): string => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, "package.json"))) dir = path.dirname(dir);
  return (JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as { version: string }).version;
})();

/** The version of the mjml package templates are compiled with. */
export const MJML_VERSION = (createRequire(import.meta.url)("mjml/package.json") as { version: string }).version;
