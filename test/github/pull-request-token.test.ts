import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import { simpleGit } from "simple-git";
import { resolveTarget } from "../../cli/environments.js";
import { MkError } from "../../cli/errors.js";
import { initRepository } from "../../cli/init/scaffold.js";
import { PLAN_MARKER } from "../../cli/plan/render-markdown.js";
import { readRepository } from "../../cli/project/reader.js";
import { FakeGitHub } from "../helpers/fake-github.js";
import { runMk, STACK_LINE } from "../helpers/run-mk.js";

/**
 * Issue 17, item 3: a pull request cannot send a token anywhere new. A
 * campaigns repository (mk init's) on main, cloned the way actions/checkout
 * leaves it (origin/main fetched), with a pull-request branch on top; a
 * server on loopback that records every request stands in for the
 * attacker's, and must receive none.
 */
const BASE_URL = "https://mk.example.com";
const TOKEN = "prod-plan-token-0123456789abcdef";

let base: string;
let checkout: string;
let recorder: Server;
let recorded: { method: string; url: string; authorization: string | undefined }[];
let attackerUrl: string;
let github: FakeGitHub;
const startedIn = process.cwd();

const pullRequest = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ GITHUB_EVENT_NAME: "pull_request", GITHUB_BASE_REF: "main", GITHUB_HEAD_REF: "change-url", MK_PROD_TOKEN: TOKEN, ...extra });
const mkYaml = () => path.join(checkout, "mk.yaml");
const setProdUrl = async (url: string) => {
  const text = await readFile(mkYaml(), "utf8");
  await writeFile(mkYaml(), text.replace(/prod: \{ url: "[^"]*"/, `prod: { url: "${url}"`));
};
const project = async () => (await readRepository(checkout))[0].project!.spec;
const refusal = (pattern: RegExp) => (error: unknown) => error instanceof MkError && error.code === "MK100" && pattern.test(error.message);

before(async () => {
  base = await mkdtemp(path.join(tmpdir(), "mk-pr-token-"));
  const origin = path.join(base, "origin");
  initRepository(origin, { force: false });
  const git = simpleGit({ baseDir: origin });
  await git.init(["--initial-branch=main"]);
  await git.addConfig("user.name", "Mai Tran").addConfig("user.email", "mai@nomaddesk.example");
  await git.add(".").commit("Campaigns");
  checkout = path.join(base, "checkout");
  await simpleGit({ baseDir: base }).clone(origin, checkout);
  await simpleGit({ baseDir: checkout }).addConfig("user.name", "Mallory").addConfig("user.email", "mallory@example.test").checkoutLocalBranch("change-url");
  // localTarget also looks in the current folder's .mk/: make that the checkout's.
  process.chdir(checkout);

  recorded = [];
  recorder = createServer((req, res) => {
    recorded.push({ method: req.method ?? "", url: req.url ?? "", authorization: req.headers.authorization });
    res.writeHead(200, { "content-type": "application/json" }).end("{}");
  });
  await new Promise<void>((resolve) => recorder.listen(0, "127.0.0.1", resolve));
  attackerUrl = `http://127.0.0.1:${(recorder.address() as AddressInfo).port}`;
  github = new FakeGitHub();
  await github.start();
}, { timeout: 120_000 });

after(async () => {
  process.chdir(startedIn);
  await new Promise((resolve) => recorder.close(resolve));
  await github.stop();
  await rm(base, { recursive: true, force: true });
}, { timeout: 120_000 });

afterEach(async () => {
  await setProdUrl(BASE_URL);
  const received = recorded.splice(0);
  assert.deepEqual(received, [], "the recording server received a request");
}, { timeout: 120_000 });

describe("a pull request can never send a token anywhere new", { timeout: 180_000 }, () => {
  it("mk plan in a pull request that points environments.prod.url elsewhere: refused, no request, and the comment says why", async () => {
    await setProdUrl(attackerUrl);
    await simpleGit({ baseDir: checkout }).add("mk.yaml").commit("Move prod");
    const event = path.join(base, "event.json");
    await writeFile(event, JSON.stringify({ pull_request: { number: 42 } }));
    const markdown = path.join(base, "plan.md");
    const run = await runMk(["plan", "--env", "prod", "--markdown", markdown, "--github-comment", "--dir", checkout], {
      env: pullRequest({ GITHUB_ACTIONS: "true", GITHUB_EVENT_PATH: event, GITHUB_TOKEN: "gh-test-token", GITHUB_REPOSITORY: "nomad/campaigns", GITHUB_API_URL: github.url }),
    });

    assert.equal(run.code, 1, run.stderr);
    assert.equal(run.stdout, "");
    const message = `mk.yaml:25:16: this pull request changes environments.prod.url from ${BASE_URL} (on main) to ${attackerUrl}; in a pull request mk sends the token of "prod" only to the URL the base branch has, so there is no plan until the change is on main`;
    assert.match(run.stderr, /^Created the plan comment: \S+$/m);
    assert.ok(run.stderr.endsWith(`Error: MK100 ${message}\n`), run.stderr);
    assert.doesNotMatch(run.stderr, STACK_LINE);
    assert.deepEqual(recorded, []);

    const [comment] = github.comments;
    assert.equal(github.comments.length, 1);
    assert.equal(comment?.body, await readFile(markdown, "utf8"));
    assert.equal(comment?.body, `${PLAN_MARKER}\n### mk plan for \`prod\`: refused\n\n> [!CAUTION]\n> **MK100** ${message}\n\nmk validate found no errors (the validate job's annotations show any warnings); no token was sent, so there is no plan.\n`);
  });

  it("the base branch's URL resolves with the token, in any spelling of it; outside a pull request the checked-out mk.yaml is trusted", async () => {
    await setProdUrl("https://MK.example.com:443/");
    const target = await resolveTarget("prod", await project(), checkout, pullRequest());
    assert.deepEqual(target, { env: "prod", url: "https://MK.example.com:443", token: TOKEN });

    await setProdUrl(attackerUrl);
    const pushToMain = await resolveTarget("prod", await project(), checkout, { MK_PROD_TOKEN: TOKEN });
    assert.equal(pushToMain.url, attackerUrl, "without a pull request or MK_ENVIRONMENT_URL, mk.yaml as checked out says");
  });

  it("MK_ENVIRONMENT_URL, when the workflow passes it, is the only URL a token goes to, in a pull request or not", async () => {
    await setProdUrl(attackerUrl);
    for (const environment of [pullRequest({ MK_ENVIRONMENT_URL: BASE_URL }), { MK_PROD_TOKEN: TOKEN, MK_ENVIRONMENT_URL: BASE_URL }]) {
      await assert.rejects(
        resolveTarget("prod", await project(), checkout, environment),
        refusal(new RegExp(`^mk\\.yaml:25:16: environments\\.prod\\.url is ${attackerUrl}, but MK_ENVIRONMENT_URL \\(the URL the workflow trusts\\) is ${BASE_URL}; .*change the repository variable first$`)),
      );
    }
    await assert.rejects(resolveTarget("prod", await project(), checkout, pullRequest({ MK_ENVIRONMENT_URL: "mk.example.com" })), refusal(/MK_ENVIRONMENT_URL is "mk\.example\.com", not a URL/));
    const trusted = await resolveTarget("prod", await project(), checkout, pullRequest({ MK_ENVIRONMENT_URL: attackerUrl }));
    assert.equal(trusted.url, attackerUrl, "the variable wins over the base branch");
  });

  it("fails closed when the trusted URL cannot be read: base branch not fetched, no base branch named, environment new in the pull request", async () => {
    await assert.rejects(resolveTarget("prod", await project(), checkout, pullRequest({ GITHUB_BASE_REF: "release" })), refusal(/git cannot read mk\.yaml on origin\/release \(.+\); fetch the base branch before mk plan \(git fetch --depth=1 origin release\) or pass the trusted URL as MK_ENVIRONMENT_URL$/));
    await assert.rejects(resolveTarget("prod", await project(), checkout, pullRequest({ GITHUB_EVENT_NAME: "pull_request_review", GITHUB_BASE_REF: "" })), refusal(/^this pull_request_review run names no base branch \(GITHUB_BASE_REF\)/));

    const text = await readFile(mkYaml(), "utf8");
    await writeFile(mkYaml(), `${text}  preview: { url: "${attackerUrl}", tokenEnv: MK_PROD_TOKEN }\n`);
    try {
      await assert.rejects(resolveTarget("preview", await project(), checkout, pullRequest()), refusal(/mk\.yaml on origin\/main has no environment "preview" with a URL/));
    } finally {
      await writeFile(mkYaml(), text);
    }
  });

  it("a .mk/runtime.json that Git tracks is ignored for --env local (MK101, saying why); untracked, it is used", async () => {
    await mkdir(path.join(checkout, ".mk"), { recursive: true });
    await writeFile(path.join(checkout, ".mk", "runtime.json"), JSON.stringify({ url: attackerUrl, pid: 1, startedAt: "2026-01-01T00:00:00Z" }));
    const git = simpleGit({ baseDir: checkout });
    await git.raw(["add", "--force", ".mk/runtime.json"]);
    await assert.rejects(
      resolveTarget("local", await project(), checkout, { MK_API_TOKEN: TOKEN }),
      (error: unknown) => error instanceof MkError && error.code === "MK101" && /\.mk\/runtime\.json is tracked by Git, so mk ignores it: .*git rm --cached \.mk\/runtime\.json/.test(error.message),
    );
    await git.raw(["rm", "--cached", "--quiet", ".mk/runtime.json"]);
    assert.equal((await resolveTarget("local", await project(), checkout, { MK_API_TOKEN: TOKEN })).url, attackerUrl);
  });
});
