import { readFile } from "node:fs/promises";
import path from "node:path";
import { MkError } from "./errors.js";
import { fileAtRevision } from "./git.js";
import { PROJECT_FILE } from "./project/reader.js";
import { locate, parseYamlSource } from "./project/yaml-source.js";

/** A repository variable the workflow passes: the one URL the environment it targets may have. */
export const TRUSTED_URL_VARIABLE = "MK_ENVIRONMENT_URL";

/**
 * Refuses (MK100) to send the token of `env` to `url` unless that is the URL
 * the run can trust: MK_ENVIRONMENT_URL when the workflow passes it, else in
 * a pull request the URL mk.yaml has on the base branch (origin/<GITHUB_BASE_REF>),
 * which the pull request cannot change. A pull request whose trusted URL
 * cannot be read is refused too. Outside a pull request, without the
 * variable, mk.yaml as checked out is trusted.
 */
export async function assertTrustedUrl(env: string, url: string, root: string, environment: NodeJS.ProcessEnv): Promise<void> {
  const fromVariable = environment[TRUSTED_URL_VARIABLE];
  if (fromVariable) {
    if (!URL.canParse(fromVariable)) throw new MkError("MK100", `${TRUSTED_URL_VARIABLE} is "${fromVariable}", not a URL; it must be the URL of environment "${env}", so no token is sent`);
    if (sameUrl(fromVariable, url)) return;
    throw new MkError(
      "MK100",
      `${await urlLocation(root, env)}: environments.${env}.url is ${url}, but ${TRUSTED_URL_VARIABLE} (the URL the workflow trusts) is ${fromVariable}; mk sends the token of "${env}" to no other URL. If the runtime moved, change the repository variable first`,
    );
  }
  if (!inPullRequest(environment)) return;

  const base = environment["GITHUB_BASE_REF"];
  if (!base) {
    throw new MkError("MK100", `this ${environment["GITHUB_EVENT_NAME"] ?? "pull request"} run names no base branch (GITHUB_BASE_REF), so mk cannot tell which URL environment "${env}" may have and sends no token; pass the trusted URL as ${TRUSTED_URL_VARIABLE}`);
  }
  const revision = `origin/${base}`;
  const trusted = await baseUrl(root, revision, env);
  if (sameUrl(trusted, url)) return;
  throw new MkError(
    "MK100",
    `${await urlLocation(root, env)}: this pull request changes environments.${env}.url from ${trusted} (on ${base}) to ${url}; in a pull request mk sends the token of "${env}" only to the URL the base branch has, so there is no plan until the change is on ${base}`,
  );
}

/** pull_request and pull_request_target set GITHUB_BASE_REF; the pull_request_review events do not, and are refused for it. */
function inPullRequest(environment: NodeJS.ProcessEnv): boolean {
  return Boolean(environment["GITHUB_BASE_REF"]) || (environment["GITHUB_EVENT_NAME"] ?? "").startsWith("pull_request");
}

/** environments.<env>.url of mk.yaml at `revision`; MK100 when it cannot be read. */
async function baseUrl(root: string, revision: string, env: string): Promise<string> {
  const refuse = (why: string) =>
    new MkError("MK100", `in a pull request mk sends the token of "${env}" only to the URL mk.yaml has on the base branch, and ${why}; fetch the base branch before mk plan (git fetch --depth=1 origin ${revision.slice("origin/".length)}) or pass the trusted URL as ${TRUSTED_URL_VARIABLE}`);
  let text: string;
  try {
    text = await fileAtRevision(root, revision, PROJECT_FILE);
  } catch (error) {
    const reason = ((error as Error).message.split("\n").find((line) => line.trim()) ?? "").replace(/^fatal: /, "");
    throw refuse(`git cannot read ${PROJECT_FILE} on ${revision} (${reason})`);
  }
  const { parse } = await import("yaml");
  let url: unknown;
  try {
    url = (parse(text) as { environments?: Record<string, { url?: unknown }> } | null)?.environments?.[env]?.url;
  } catch {
    throw refuse(`${PROJECT_FILE} on ${revision} is not valid YAML`);
  }
  if (typeof url !== "string" || !URL.canParse(url)) throw refuse(`${PROJECT_FILE} on ${revision} has no environment "${env}" with a URL`);
  return url;
}

/** Equal as URLs: case of the host, default port and trailing slashes do not matter. */
function sameUrl(a: string, b: string): boolean {
  const normal = (value: string) => {
    const url = new URL(value);
    url.hash = "";
    return url.href.replace(/\/+$/, "");
  };
  return URL.canParse(a) && URL.canParse(b) && normal(a) === normal(b);
}

/** "mk.yaml:22:9", where the checked-out mk.yaml sets the environment's URL. */
async function urlLocation(root: string, env: string): Promise<string> {
  const text = await readFile(path.join(root, PROJECT_FILE), "utf8").catch(() => undefined);
  const [source] = text === undefined ? [undefined] : parseYamlSource(PROJECT_FILE, text);
  if (!source) return PROJECT_FILE;
  const at = locate(source, ["environments", env, "url"]);
  return `${at.file}:${at.line}:${at.col}`;
}
