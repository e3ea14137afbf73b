import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Project } from "../schemas/index.js";
import { MkError } from "./errors.js";
import { isTracked } from "./git.js";
import { assertTrustedUrl } from "./trusted-url.js";

/** A runtime the CLI talks to. */
export interface Target {
  env: string;
  url: string;
  token: string;
}

/** What `mk up` writes into its data folder so that `--env local` finds it. */
export interface LocalRuntimeFile {
  url: string;
  pid: number;
  startedAt: string;
}

export const LOCAL_ENV = "local";
export const DATA_DIR = ".mk";
export const LOCAL_RUNTIME_FILE = "runtime.json";
export const LOCAL_TOKEN_FILE = "api-token";
/** The local runtime's MK_SIGNING_SECRET (unsubscribe and tracking links), generated once. */
export const LOCAL_SIGNING_SECRET_FILE = "signing-secret";
/** The local runtime's MK_LEDGER_KEY (keys the tax ledger's hash chain), generated once. */
export const LOCAL_LEDGER_KEY_FILE = "ledger-key";

/**
 * The URL and token of an environment: `local` is the runtime `mk up` started
 * (found through `.mk/runtime.json` in the repository or the current folder,
 * unless Git tracks that file); any other name comes from mk.yaml, its token
 * from the variable `tokenEnv` names, and only for a URL the run trusts
 * (assertTrustedUrl: in a pull request, the base branch's). Every command
 * that sends a token finds its target here.
 */
export async function resolveTarget(env: string, project: Project, root: string, environment: NodeJS.ProcessEnv = process.env): Promise<Target> {
  if (env === LOCAL_ENV) return localTarget(root, environment);
  const configured = project.environments[env];
  if (!configured) {
    const names = [...Object.keys(project.environments), LOCAL_ENV].join(", ");
    throw new MkError("MK072", `no environment "${env}" in mk.yaml; environments are ${names}`);
  }
  const token = environment[configured.tokenEnv];
  if (!token) throw new MkError("MK071", `set ${configured.tokenEnv} to the API token of environment "${env}" (${configured.url})`);
  await assertTrustedUrl(env, configured.url, root, environment);
  return { env, url: configured.url.replace(/\/+$/, ""), token };
}

async function localTarget(root: string, environment: NodeJS.ProcessEnv): Promise<Target> {
  const tracked: string[] = [];
  for (const dir of [...new Set([path.join(root, DATA_DIR), path.resolve(DATA_DIR)])]) {
    let file: LocalRuntimeFile;
    try {
      file = JSON.parse(await readFile(path.join(dir, LOCAL_RUNTIME_FILE), "utf8")) as LocalRuntimeFile;
    } catch {
      continue;
    }
    // mk up writes it; a committed one (a pull request can add it) could point the token anywhere.
    if (await isTracked(dir, LOCAL_RUNTIME_FILE)) {
      tracked.push(path.join(dir, LOCAL_RUNTIME_FILE));
      continue;
    }
    const token = environment["MK_API_TOKEN"] || (await readFile(path.join(dir, LOCAL_TOKEN_FILE), "utf8").catch(() => "")).trim();
    if (!token) throw new MkError("MK071", `no API token for the local runtime: set MK_API_TOKEN, or restart mk up to write ${path.join(dir, LOCAL_TOKEN_FILE)}`);
    return { env: LOCAL_ENV, url: file.url, token };
  }
  if (tracked.length > 0) {
    throw new MkError(
      "MK101",
      `${tracked.join(" and ")} is tracked by Git, so mk ignores it: it is what mk up writes, and a committed one could send the token to any server. Untrack it (git rm --cached ${tracked.map((file) => path.relative(process.cwd(), file)).join(" ")}; keep .mk/ in .gitignore) and start mk up`,
    );
  }
  throw new MkError("MK070", "no local runtime is running here: start one with `mk up` in another terminal, or choose an environment with --env");
}
