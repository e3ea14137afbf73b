import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { PACKAGE_ROOT } from "../runtime/package-root.js";

/** mk's own version. */
export const MK_VERSION = (JSON.parse(readFileSync(path.join(PACKAGE_ROOT, "package.json"), "utf8")) as { version: string }).version;

/** The version of the mjml package templates are compiled with. */
export const MJML_VERSION = (createRequire(import.meta.url)("mjml/package.json") as { version: string }).version;
