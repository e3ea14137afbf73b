import { readFile } from "node:fs/promises";
import type { Octokit } from "@octokit/rest";
import { MkError } from "./errors.js";
import { PLAN_MARKER } from "./plan/render-markdown.js";

/** GitHub's limit on a comment body. */
export const MAX_COMMENT_CHARS = 65_536;

export interface RepositoryTarget {
  octokit: Octokit;
  owner: string;
  repo: string;
}

export interface PullRequestTarget extends RepositoryTarget {
  pr: number;
}

/** The parts of the event at GITHUB_EVENT_PATH mk reads. */
export interface GitHubEvent {
  pull_request?: { number?: number; head?: { sha?: string } };
  issue?: { number?: number };
  number?: number;
}

/**
 * The repository to talk to, from the environment GitHub Actions sets:
 * GITHUB_TOKEN, GITHUB_REPOSITORY (owner/name) and GITHUB_API_URL (GitHub
 * Enterprise).
 */
export async function repositoryTarget(env: NodeJS.ProcessEnv): Promise<RepositoryTarget> {
  const token = env["GITHUB_TOKEN"];
  if (!token) throw new MkError("MK081", "set GITHUB_TOKEN (in a workflow: env: GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }})");
  const [owner, repo] = (env["GITHUB_REPOSITORY"] ?? "").split("/");
  if (!owner || !repo) throw new MkError("MK081", "set GITHUB_REPOSITORY to owner/name (GitHub Actions sets it)");
  // Loaded here, not at start-up: mk plan without --github-comment or --github-check never needs it.
  const { Octokit: Client } = await import("@octokit/rest");
  const octokit = new Client({ auth: token, baseUrl: env["GITHUB_API_URL"] ?? "https://api.github.com", userAgent: "mk-campaigns", log: quiet });
  return { octokit, owner, repo };
}

/** The pull request to comment on: the repository, and the number from GITHUB_EVENT_PATH unless `pr` is given. */
export async function pullRequestTarget(env: NodeJS.ProcessEnv, pr?: number): Promise<PullRequestTarget> {
  const target = await repositoryTarget(env);
  const number = pr ?? eventNumber(await readEvent(env["GITHUB_EVENT_PATH"]));
  if (!number) throw new MkError("MK081", "no pull request: pass --pr N, or run in a pull_request workflow (GITHUB_EVENT_PATH)");
  return { ...target, pr: number };
}

function eventNumber(event: GitHubEvent | undefined): number | undefined {
  return event?.pull_request?.number ?? event?.issue?.number ?? event?.number;
}

const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/** The workflow's event, or undefined without one (or when it cannot be read: the caller says what is missing). */
export async function readEvent(file: string | undefined): Promise<GitHubEvent | undefined> {
  if (!file) return undefined;
  try {
    return JSON.parse(await readFile(file, "utf8")) as GitHubEvent;
  } catch {
    return undefined;
  }
}

/** A body GitHub accepts: over the limit, cut at a line with a note pointing to the job summary. */
export function fitComment(body: string): string {
  return fitMarkdown(body, MAX_COMMENT_CHARS, "a comment");
}

/** Markdown cut to `limit` characters at a line, saying it is too long for `where` (a comment, a check run's output). */
export function fitMarkdown(body: string, limit: number, where: string): string {
  if (body.length <= limit) return body;
  const note = `\n\n…\n\n> The plan is too long for ${where}; the whole plan is in the workflow run's job summary.\n`;
  const cut = body.lastIndexOf("\n", limit - note.length - 20);
  const head = body.slice(0, cut);
  // Close a code block or details section left open by the cut.
  const fences = (head.match(/^```/gm) ?? []).length;
  const closing = `${fences % 2 === 1 ? "\n```" : ""}${head.lastIndexOf("<details>") > head.lastIndexOf("</details>") ? "\n</details>" : ""}`;
  return head + closing + note;
}

/**
 * The sticky plan comment: the pull request's comment that carries the
 * marker is updated (every page of comments is searched); without one, one is
 * created. Returns what was done and the comment's URL.
 */
export async function upsertPlanComment(target: PullRequestTarget, body: string): Promise<{ action: "created" | "updated"; url: string }> {
  const { octokit, owner, repo, pr } = target;
  const text = fitComment(body.includes(PLAN_MARKER) ? body : `${PLAN_MARKER}\n${body}`);
  try {
    const comments = await octokit.paginate(octokit.rest.issues.listComments, { owner, repo, issue_number: pr, per_page: 100 });
    const existing = comments.find((c) => c.body?.includes(PLAN_MARKER));
    if (existing) {
      const { data } = await octokit.rest.issues.updateComment({ owner, repo, comment_id: existing.id, body: text });
      return { action: "updated", url: data.html_url };
    }
    const { data } = await octokit.rest.issues.createComment({ owner, repo, issue_number: pr, body: text });
    return { action: "created", url: data.html_url };
  } catch (error) {
    const where = `${owner}/${repo}#${pr}`;
    throw githubError(error, where, {
      403: `GitHub refused to comment on ${where} (403): the token needs pull-requests: write (a pull request from a fork gets a read-only token)`,
      404: `GitHub has no pull request ${where} the token can see (404): check GITHUB_REPOSITORY, the number, and the token's access`,
    });
  }
}

/**
 * A failed GitHub request as an MK082 error that says what to do: the
 * rate limit, a refused or unknown token, and `refused`'s messages for a
 * 403 (what to grant) and a 404, which depend on what was asked.
 */
export function githubError(error: unknown, where: string, refused: { 403: string; 404: string }): Error {
  const status = (error as { status?: number }).status;
  const headers = (error as { response?: { headers?: Record<string, string | undefined> } }).response?.headers ?? {};
  if ((status === 403 || status === 429) && (headers["x-ratelimit-remaining"] === "0" || status === 429)) {
    const reset = Number(headers["x-ratelimit-reset"]);
    const when = Number.isFinite(reset) && reset > 0 ? ` until ${new Date(reset * 1000).toISOString()}` : "";
    return new MkError("MK082", `GitHub's rate limit is used up${when}; run the job again later`);
  }
  if (status === 403) return new MkError("MK082", refused[403]);
  if (status === 404) return new MkError("MK082", refused[404]);
  if (status === 401) return new MkError("MK082", "GitHub refused GITHUB_TOKEN (401): it is wrong or expired");
  if (status !== undefined) return new MkError("MK082", `GitHub answered ${status} for ${where}: ${(error as Error).message}`);
  return new MkError("MK082", `cannot reach GitHub for ${where}: ${(error as Error).message}`);
}
