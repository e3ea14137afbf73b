import path from "node:path";
import { sha256 } from "../../runtime/state/canonical.js";
import { MJML_VERSION, MK_VERSION } from "../version.js";
import type { CompileJob } from "./compile-job.js";

/** What compiles templates: mk (its lint) and mjml. A new version of either compiles every template again. */
export interface CompilerVersions {
  mk: string;
  mjml: string;
}

export const COMPILER_VERSIONS: CompilerVersions = { mk: MK_VERSION, mjml: MJML_VERSION };

/**
 * The fingerprint of everything compiling `job` depends on: the template's
 * path, its text and every file it includes (handlebars expressions and
 * all), and the compiler versions. Equal fingerprints compile to the same
 * result, so a result recorded under one (by the runtime, or in .mk/cache/)
 * stands in for compiling.
 */
export function templateFingerprint(job: CompileJob, versions: CompilerVersions = COMPILER_VERSIONS): string {
  return sha256(JSON.stringify([versions.mk, versions.mjml, job.template, job.texts]));
}

/**
 * Equal for templates with the same text and includes in the same folder,
 * whatever their names: they compile to the same HTML (their problems name
 * their own file).
 */
export function contentKey(job: CompileJob): string {
  const texts = job.texts.map(([file, text]) => [file === job.template ? "" : file, text]);
  return sha256(JSON.stringify([MK_VERSION, MJML_VERSION, path.posix.dirname(job.template), texts]));
}
