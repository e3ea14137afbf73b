import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { createCheckRun, MAX_OUTPUT_CHARS } from "../../cli/github-check.js";
import { repositoryTarget } from "../../cli/github.js";
import { stopDatabase } from "../helpers/database.js";
import { FakeGitHub, type FakeAnnotation } from "../helpers/fake-github.js";
import { runMk, STACK_LINE } from "../helpers/run-mk.js";
import { startRuntime, TOKEN, type TestRuntime } from "../helpers/runtime.js";
import { tempRepo } from "../helpers/temp-repo.js";

/**
 * Issue 22, item 4: mk validate --github-check and mk plan --github-check,
 * the real binary and the real Octokit against a local fake of GitHub's
 * check-runs API that refuses more than 50 annotations a request, as GitHub does.
 */
/** One warning, MK056. Copied for each run: validate writes its cache into the repository. */
const WARNINGS_ONLY = fileURLToPath(new URL("../fixtures/invalid/no-preheader/", import.meta.url));
const HEAD_SHA = "0123456789abcdef0123456789abcdef01234567";
/** Each campaign has two problems: MK021 (an unknown audience, an error) and MK056 (no preheader, a warning). */
const BROKEN_CAMPAIGNS = 60;

let github: FakeGitHub;
let scratch: string;
let event: string;

interface ProblemJson {
  file: string;
  line: number;
  col: number;
  severity: "error" | "warning";
  code: string;
  message: string;
}

const githubEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  GITHUB_TOKEN: "gh-test-token",
  GITHUB_REPOSITORY: "nomad/campaigns",
  GITHUB_API_URL: github.url,
  GITHUB_EVENT_PATH: event,
  GITHUB_SHA: "feedfacefeedfacefeedfacefeedfacefeedface",
  ...extra,
});
const checkRequests = () => github.requests.filter((r) => r.path.includes("/check-runs"));
const annotationsOf = (body: unknown) => ((body as { output?: { annotations?: FakeAnnotation[] } }).output?.annotations ?? []);

before(async () => {
  github = new FakeGitHub();
  await github.start();
  scratch = await mkdtemp(path.join(tmpdir(), "mk-check-run-"));
  event = path.join(scratch, "event.json");
  // The pull request's head, not GITHUB_SHA (the merge commit): the check run must be on the commit the pull request shows.
  await writeFile(event, JSON.stringify({ pull_request: { number: 42, head: { sha: HEAD_SHA } } }));
}, { timeout: 120_000 });

after(async () => {
  await github.stop();
  await rm(scratch, { recursive: true, force: true });
}, { timeout: 120_000 });

beforeEach(() => {
  github.requests.length = 0;
  github.checkRuns.length = 0;
  github.failWith = undefined;
}, { timeout: 120_000 });

describe("mk validate --github-check", { timeout: 180_000 }, () => {
  it("120 problems: a check run created with 50 annotations, then updates of 50 and 20, the last completing it as failure; every problem exactly once", async () => {
    const repo = await tempRepo();
    try {
      for (let i = 1; i <= BROKEN_CAMPAIGNS; i++) {
        await repo.write(`campaigns/broken-${String(i).padStart(3, "0")}.yaml`, 'apiVersion: mk/v1\nkind: Campaign\nsubject: "Hi"\ntemplate: templates/hello.mjml\naudience: nobody\n');
      }
      // The checkout is the folder above, as when the campaigns repository is a folder of the one GitHub checked out.
      const workspace = path.dirname(repo.root);
      const folder = path.basename(repo.root);
      const json = await runMk(["validate", "--json", "--dir", repo.root]);
      const problems = JSON.parse(json.stdout) as ProblemJson[];
      assert.equal(problems.length, 2 * BROKEN_CAMPAIGNS);

      const run = await runMk(["validate", "--github-check", "--dir", repo.root], { env: githubEnv({ GITHUB_ACTIONS: "true", GITHUB_WORKSPACE: workspace }) });
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stdout, /\n✖ 60 errors, 60 warnings\n$/);
      assert.doesNotMatch(run.stdout, /^::/m, "the check run carries the annotations, not workflow commands as well");
      assert.match(run.stderr, /^Created the check run "mk": https:\/\/github\.example\/nomad\/campaigns\/runs\/\d+\n$/);

      const requests = checkRequests();
      assert.deepEqual(requests.map((r) => `${r.method} ${r.path.replace(/\d+$/, "ID")}`), ["POST /repos/nomad/campaigns/check-runs", "PATCH /repos/nomad/campaigns/check-runs/ID", "PATCH /repos/nomad/campaigns/check-runs/ID"]);
      assert.deepEqual(requests.map((r) => annotationsOf(r.body).length), [50, 50, 20]);
      const bodies = requests.map((r) => r.body as { name?: string; head_sha?: string; status?: string; conclusion?: string; output: { title: string; summary: string } });
      assert.deepEqual(bodies.map((b) => [b.status, b.conclusion]), [["in_progress", undefined], [undefined, undefined], ["completed", "failure"]]);
      assert.deepEqual([bodies[0]?.name, bodies[0]?.head_sha], ["mk", HEAD_SHA]);
      for (const body of bodies) assert.equal(body.output.title, "✖ 60 errors, 60 warnings");
      assert.equal(
        bodies[0]?.output.summary,
        "mk validate: ✖ 60 errors, 60 warnings\n\n| code | severity | problem | count |\n|---|---|---|---:|\n| MK021 | error | unknown reference | 60 |\n| MK056 | warning | no preheader | 60 |",
      );

      const expected = problems.map((p) => ({
        path: `${folder}/${p.file}`,
        start_line: p.line,
        end_line: p.line,
        start_column: p.col,
        end_column: p.col,
        annotation_level: p.severity === "error" ? "failure" : "warning",
        title: p.code,
        message: p.message,
      }));
      const sent = requests.flatMap((r) => annotationsOf(r.body));
      assert.deepEqual(sent, expected, "every problem, in order, each once, with its file, line, column, level, code and message");
      const [checkRun] = github.checkRuns;
      assert.equal(github.checkRuns.length, 1);
      assert.deepEqual([checkRun?.status, checkRun?.conclusion, checkRun?.annotations], ["completed", "failure", expected]);
    } finally {
      await repo.remove();
    }
  });

  it("warnings only: one request, neutral, exit 0; a clean repository: success with no annotations, on GITHUB_SHA outside a pull request", async () => {
    const [warnedRepo, repo] = [await tempRepo(WARNINGS_ONLY), await tempRepo()];
    try {
      const warned = await runMk(["validate", "--github-check", "--dir", warnedRepo.root], { env: githubEnv({ GITHUB_WORKSPACE: warnedRepo.root }) });
      assert.equal(warned.code, 0, warned.stderr);
      assert.match(warned.stdout, /⚠ 0 errors, 1 warning\n$/);
      const clean = await runMk(["validate", "--github-check", "--dir", repo.root], { env: githubEnv({ GITHUB_EVENT_PATH: "", GITHUB_WORKSPACE: repo.root }) });
      assert.equal(clean.code, 0, clean.stderr);
    } finally {
      await Promise.all([warnedRepo.remove(), repo.remove()]);
    }

    assert.deepEqual(checkRequests().map((r) => r.method), ["POST", "POST"], "one request each: no update when everything fits in the first");
    const [warnings, success] = github.checkRuns;
    assert.deepEqual([warnings?.head_sha, warnings?.status, warnings?.conclusion, warnings?.output.title], [HEAD_SHA, "completed", "neutral", "⚠ 0 errors, 1 warning"]);
    assert.deepEqual(
      warnings?.annotations.map((a) => [a.path, a.annotation_level, a.title]),
      [["campaigns/hello.yaml", "warning", "MK056"]],
    );
    assert.deepEqual(
      [success?.head_sha, success?.conclusion, success?.annotations, success?.output],
      ["feedfacefeedfacefeedfacefeedfacefeedface", "success", [], { title: "✔ 0 errors, 0 warnings", summary: "mk validate: ✔ 0 errors, 0 warnings" }],
    );
  });

  it("403: one line saying to grant checks: write, no stack trace, the problems still printed, nothing created, exit 1", async () => {
    github.failWith = 403;
    const repo = await tempRepo(WARNINGS_ONLY);
    const run = await runMk(["validate", "--github-check", "--dir", repo.root], { env: githubEnv({ GITHUB_WORKSPACE: repo.root }) }).finally(() => repo.remove());
    assert.equal(run.code, 1, "a check run that was asked for and refused fails the job");
    assert.match(run.stdout, /^campaigns\/hello\.yaml:\d+:\d+ {2}warning {2}MK056 .*\n⚠ 0 errors, 1 warning\n$/);
    assert.equal(
      run.stderr,
      'Error: MK082 GitHub refused to create the check run "mk" on nomad/campaigns (403): the token needs checks: write (in the workflow: permissions: checks: write; a pull request from a fork gets a read-only token)\n',
    );
    assert.doesNotMatch(run.stderr, STACK_LINE);
    assert.deepEqual(checkRequests().map((r) => r.method), ["POST"]);
    assert.equal(github.checkRuns.length, 0);
  });

  it("without a commit to put it on, says so (MK081) before asking GitHub anything", async () => {
    const repo = await tempRepo(WARNINGS_ONLY);
    const run = await runMk(["validate", "--github-check", "--dir", repo.root], { env: githubEnv({ GITHUB_EVENT_PATH: "", GITHUB_SHA: "" }) }).finally(() => repo.remove());
    assert.equal(run.code, 1);
    assert.equal(run.stderr, "Error: MK081 no commit for the check run: run in a pull_request workflow (GITHUB_EVENT_PATH) or set GITHUB_SHA\n");
    assert.deepEqual(github.requests, []);
  });
});

describe("createCheckRun against the fake", { timeout: 180_000 }, () => {
  it("the fake refuses 51 annotations in one request as GitHub does, so the batches above mean something", async () => {
    const { octokit } = await repositoryTarget(githubEnv());
    const annotation = { path: "campaigns/a.yaml", start_line: 1, end_line: 1, annotation_level: "warning" as const, message: "m" };
    await assert.rejects(
      octokit.rest.checks.create({ owner: "nomad", repo: "campaigns", name: "mk", head_sha: HEAD_SHA, output: { title: "t", summary: "s", annotations: Array(51).fill(annotation) } }),
      (error: { status?: number; message?: string }) => error.status === 422 && /No more than 50 items are allowed; 51 were supplied/.test(error.message ?? ""),
    );
    assert.equal(github.checkRuns.length, 0);
  });

  it("cuts output text over 65,535 characters at a line and says so", async () => {
    const target = await repositoryTarget(githubEnv());
    const text = `### mk plan\n\n\`\`\`diff\n${"+ line\n".repeat(20_000)}\`\`\`\n`;
    await createCheckRun(target, { name: "mk plan", headSha: HEAD_SHA, title: "Plan", summary: "Plan", text, annotations: [], conclusion: "success" });
    const sent = github.checkRuns[0]?.output.text ?? "";
    assert.ok(sent.length <= MAX_OUTPUT_CHARS, String(sent.length));
    assert.match(sent, /\n```\n\n…\n\n> The plan is too long for a check run's output; the whole plan is in the workflow run's job summary\.\n$/);
  });
});

describe("mk plan --github-check", { timeout: 180_000 }, () => {
  let runtime: TestRuntime;

  before(async () => {
    runtime = await startRuntime();
  }, { timeout: 120_000 });

  after(async () => {
    await runtime?.app.close();
    await stopDatabase();
  }, { timeout: 60_000 });

  it('creates the check run "mk plan" with the plan\'s Markdown as its output, beside the plan comment', async () => {
    const repo = await tempRepo();
    try {
      await mkdir(path.join(repo.root, ".mk"), { recursive: true });
      await writeFile(path.join(repo.root, ".mk", "runtime.json"), JSON.stringify({ url: runtime.url, pid: process.pid, startedAt: new Date().toISOString() }));
      const markdown = path.join(repo.root, "plan.md");
      const run = await runMk(["plan", "--env", "local", "--markdown", markdown, "--github-comment", "--github-check", "--dir", repo.root], { env: githubEnv({ MK_API_TOKEN: TOKEN }) });
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stderr, /^Created the plan comment: \S+\nCreated the check run "mk plan": https:\/\/github\.example\/nomad\/campaigns\/runs\/\d+\n$/);

      const plan = await readFile(markdown, "utf8");
      assert.match(plan, /\*\*Plan: 4 to add, 0 to change, 0 to delete\.\*\*/);
      assert.equal(github.comments[0]?.body, plan);
      const [checkRun] = github.checkRuns;
      assert.equal(github.checkRuns.length, 1);
      assert.deepEqual(
        [checkRun?.name, checkRun?.head_sha, checkRun?.status, checkRun?.conclusion, checkRun?.annotations],
        ["mk plan", HEAD_SHA, "completed", "success", []],
      );
      assert.deepEqual(checkRun?.output, { title: "Plan: 4 to add, 0 to change, 0 to delete.", summary: "Plan: 4 to add, 0 to change, 0 to delete.", text: plan });
    } finally {
      await repo.remove();
    }
  });
});
