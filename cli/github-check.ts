import { MkError } from "./errors.js";
import { fitMarkdown, githubError, readEvent, repositoryTarget, type RepositoryTarget } from "./github.js";
import { workspacePath } from "./output/annotations.js";
import { formatSummary } from "./output/problems.js";
import { countBySeverity, PROBLEM_CODES, type Problem } from "./problems.js";

/** GitHub's limits: annotations in one create or update request, characters of a check run's output text. */
export const MAX_ANNOTATIONS_PER_REQUEST = 50;
export const MAX_OUTPUT_CHARS = 65_535;

/** One annotation as GitHub's check-runs API takes it. */
export interface CheckAnnotation {
  /** Relative to the checkout (GITHUB_WORKSPACE), with forward slashes. */
  path: string;
  start_line: number;
  end_line: number;
  /** Only when start_line and end_line are the same line, as GitHub requires. */
  start_column?: number;
  end_column?: number;
  annotation_level: "failure" | "warning" | "notice";
  title: string;
  message: string;
}

export type CheckConclusion = "success" | "neutral" | "failure";

export interface CheckRun {
  name: string;
  headSha: string;
  title: string;
  /** Markdown: a few lines. */
  summary: string;
  /** Markdown: the details (the plan), cut to GitHub's limit. */
  text?: string;
  annotations: readonly CheckAnnotation[];
  conclusion: CheckConclusion;
}

/**
 * Where a check run goes: the repository (GITHUB_TOKEN, GITHUB_REPOSITORY,
 * GITHUB_API_URL) and the commit. In a pull_request workflow that is the
 * pull request's head (from GITHUB_EVENT_PATH), not GITHUB_SHA: there
 * GITHUB_SHA is the merge commit GitHub made, whose checks the pull request
 * does not show.
 */
export async function checkRunContext(env: NodeJS.ProcessEnv): Promise<{ target: RepositoryTarget; headSha: string }> {
  const target = await repositoryTarget(env);
  const event = await readEvent(env["GITHUB_EVENT_PATH"]);
  const headSha = event?.pull_request?.head?.sha ?? env["GITHUB_SHA"];
  if (!headSha) throw new MkError("MK081", "no commit for the check run: run in a pull_request workflow (GITHUB_EVENT_PATH) or set GITHUB_SHA");
  return { target, headSha };
}

/**
 * Creates the check run, completed with its conclusion. GitHub takes at most
 * 50 annotations a request and appends those of each update to the run's,
 * so more are sent as the run in progress, then updates of 50, the last of
 * which completes it. Returns the run's id and URL.
 */
export async function createCheckRun(target: RepositoryTarget, run: CheckRun): Promise<{ id: number; url: string }> {
  const { octokit, owner, repo } = target;
  const batches: CheckAnnotation[][] = [];
  for (let i = 0; i < run.annotations.length; i += MAX_ANNOTATIONS_PER_REQUEST) batches.push(run.annotations.slice(i, i + MAX_ANNOTATIONS_PER_REQUEST));
  const [first = [], ...rest] = batches;
  const text = run.text === undefined ? {} : { text: fitMarkdown(run.text, MAX_OUTPUT_CHARS, "a check run's output") };
  const output = (annotations: CheckAnnotation[]) => ({ title: run.title, summary: run.summary, ...text, annotations });
  const completed = { status: "completed" as const, conclusion: run.conclusion };
  try {
    const { data } = await octokit.rest.checks.create({
      owner,
      repo,
      name: run.name,
      head_sha: run.headSha,
      ...(rest.length === 0 ? completed : { status: "in_progress" as const }),
      output: output(first),
    });
    for (const [i, batch] of rest.entries()) {
      await octokit.rest.checks.update({ owner, repo, check_run_id: data.id, ...(i === rest.length - 1 ? completed : {}), output: output(batch) });
    }
    return { id: data.id, url: data.html_url ?? "" };
  } catch (error) {
    const where = `${owner}/${repo}`;
    throw githubError(error, where, {
      403: `GitHub refused to create the check run "${run.name}" on ${where} (403): the token needs checks: write (in the workflow: permissions: checks: write; a pull request from a fork gets a read-only token)`,
      404: `GitHub has no repository ${where} the token can see (404): check GITHUB_REPOSITORY and the token's access`,
    });
  }
}

/**
 * mk validate's check run "mk": every problem an annotation on its line and
 * column, the counts as title, a table of codes as summary; failure on any
 * error, neutral on warnings alone, else success.
 */
export function validateCheckRun(problems: readonly Problem[], at: { headSha: string; root: string; workspace: string }): CheckRun {
  const { errors, warnings } = countBySeverity(problems);
  const counts = formatSummary(problems, { color: false });
  const byCode = new Map<Problem["code"], number>();
  for (const p of problems) byCode.set(p.code, (byCode.get(p.code) ?? 0) + 1);
  const table = ["", "| code | severity | problem | count |", "|---|---|---|---:|"];
  for (const [code, count] of [...byCode].sort(([a], [b]) => a.localeCompare(b))) {
    table.push(`| ${code} | ${PROBLEM_CODES[code].severity} | ${PROBLEM_CODES[code].title.replaceAll("|", "\\|")} | ${count} |`);
  }
  return {
    name: "mk",
    headSha: at.headSha,
    title: counts,
    summary: [`mk validate: ${counts}`, ...(problems.length > 0 ? table : [])].join("\n"),
    annotations: problems.map((p) => ({
      path: workspacePath(p.file, at.root, at.workspace),
      start_line: p.line,
      end_line: p.line,
      start_column: p.col,
      end_column: p.col,
      annotation_level: p.severity === "error" ? "failure" : "warning",
      title: p.code,
      message: p.message,
    })),
    conclusion: errors > 0 ? "failure" : warnings > 0 ? "neutral" : "success",
  };
}

/** mk plan's check run "mk plan": the plan's Markdown as its text, its one-line summary as title and summary. */
export function planCheckRun(markdown: string, at: { headSha: string; headline: string; failed: boolean }): CheckRun {
  return { name: "mk plan", headSha: at.headSha, title: at.headline, summary: at.headline, text: markdown, annotations: [], conclusion: at.failed ? "failure" : "success" };
}
