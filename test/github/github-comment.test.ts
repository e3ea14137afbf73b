import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { MkError } from "../../cli/errors.js";
import { fitComment, MAX_COMMENT_CHARS, pullRequestTarget, upsertPlanComment } from "../../cli/github.js";
import { PLAN_MARKER } from "../../cli/plan/render-markdown.js";
import { FakeGitHub } from "../helpers/fake-github.js";
import { runMk } from "../helpers/run-mk.js";

let github: FakeGitHub;
const env = () => ({ GITHUB_TOKEN: "gh-test-token", GITHUB_REPOSITORY: "nomad/campaigns", GITHUB_API_URL: github.url });

before(async () => {
  github = new FakeGitHub();
  await github.start();
}, { timeout: 120_000 });
after(() => github.stop(), { timeout: 120_000 });
beforeEach(() => {
  github.comments.length = 0;
  github.requests.length = 0;
  github.failWith = undefined;
}, { timeout: 120_000 });

describe("the sticky plan comment, through Octokit against a local fake of GitHub", { timeout: 180_000 }, () => {
  it("creates one comment, then updates that same one (found on page 2), never a second", async () => {
    github.addComments(150);
    const target = await pullRequestTarget(env(), 42);
    const first = await upsertPlanComment(target, `${PLAN_MARKER}\nPlan: 1 to add`);
    assert.equal(first.action, "created");
    assert.deepEqual(github.requests.map((r) => r.method), ["GET", "GET", "POST"]);

    github.requests.length = 0;
    const second = await upsertPlanComment(target, `${PLAN_MARKER}\nPlan: 2 to add`);
    assert.equal(second.action, "updated");
    assert.equal(second.url, first.url);
    assert.deepEqual(github.requests.map((r) => `${r.method} ${r.path}`), [
      "GET /repos/nomad/campaigns/issues/42/comments?per_page=100",
      "GET /repos/nomad/campaigns/issues/42/comments?per_page=100&page=2",
      `PATCH /repos/nomad/campaigns/issues/comments/151`,
    ]);
    const marked = github.comments.filter((c) => c.body.includes(PLAN_MARKER));
    assert.equal(marked.length, 1);
    assert.match(marked[0]?.body ?? "", /Plan: 2 to add/);
  });

  it("turns 403, 404 and an exhausted rate limit into errors that say what to do", async () => {
    const target = await pullRequestTarget(env(), 42);
    const expectError = async (pattern: RegExp) =>
      assert.rejects(upsertPlanComment(target, "plan"), (e: unknown) => e instanceof MkError && e.code === "MK082" && pattern.test(e.message));
    github.failWith = 403;
    await expectError(/403\): the token needs pull-requests: write/);
    github.failWith = 404;
    await expectError(/no pull request nomad\/campaigns#42 the token can see \(404\)/);
    github.failWith = "rate-limit";
    await expectError(/rate limit is used up until 2030-03-17T17:46:40\.000Z/);
    assert.equal(github.comments.length, 0);
  });

  it("reads the pull request from GITHUB_EVENT_PATH and names what is missing", async () => {
    const { writeFile, mkdtemp } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const dir = await mkdtemp(`${tmpdir()}/mk-gh-`);
    await writeFile(`${dir}/event.json`, JSON.stringify({ pull_request: { number: 42 } }));
    assert.equal((await pullRequestTarget({ ...env(), GITHUB_EVENT_PATH: `${dir}/event.json` })).pr, 42);
    await assert.rejects(pullRequestTarget({ ...env(), GITHUB_TOKEN: "" }, 1), /MK081|GITHUB_TOKEN/);
    await assert.rejects(pullRequestTarget({ ...env(), GITHUB_REPOSITORY: "" }, 1), /owner\/name/);
    await assert.rejects(pullRequestTarget(env()), /pass --pr N/);
  });

  it("mk github comment says what it did; --json as { action, url } alone", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "mk-gh-"));
    const body = path.join(dir, "plan.md");
    await writeFile(body, `${PLAN_MARKER}\nPlan: 1 to add`);
    const created = await runMk(["github", "comment", "--pr", "42", "--body-file", body], { cwd: dir, env: env() });
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /^Created the plan comment: \S+\n$/);
    const updated = await runMk(["github", "comment", "--pr", "42", "--body-file", body, "--json"], { cwd: dir, env: env() });
    assert.deepEqual([updated.code, updated.stderr], [0, ""]);
    assert.deepEqual(JSON.parse(updated.stdout), { action: "updated", url: created.stdout.trim().split(": ")[1] });
    assert.equal(github.comments.length, 1);
  });

  it("cuts a body over 65,536 characters at a line, closes what it cut open, and says so", () => {
    const long = `${PLAN_MARKER}\n<details>\n\n\`\`\`diff\n${"+ line\n".repeat(20_000)}\`\`\`\n</details>\n`;
    const fitted = fitComment(long);
    assert.ok(fitted.length <= MAX_COMMENT_CHARS);
    assert.match(fitted, /\n```\n<\/details>\n\n…\n\n> The plan is too long for a comment; the whole plan is in the workflow run's job summary\.\n$/);
    assert.equal(fitComment("short"), "short");
  });
});
