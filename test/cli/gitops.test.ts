import assert from "node:assert/strict";
import { chmod, cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { simpleGit } from "simple-git";
import { initRepository } from "../../cli/init/scaffold.js";
import { startLocalRuntime, type LocalRuntime } from "../../cli/local/up.js";
import { planRepository } from "../../cli/plan/plan-repository.js";
import { RuntimeClient } from "../../cli/runtime-client.js";
import { REPO_ROOT, runMk, STACK_LINE } from "../helpers/run-mk.js";

/**
 * The GitOps loop end to end: a copy of example-campaigns (its 2027 dates
 * moved to 2099, so the test does not age), a runtime from mk up's own
 * code on embedded PostgreSQL, and the real mk binary for every step.
 */
let repo: string;
let local: LocalRuntime;

before(async () => {
  repo = await mkdtemp(path.join(tmpdir(), "mk-gitops-"));
  await chmod(repo, 0o755);
  await cp(path.join(REPO_ROOT, "example-campaigns"), repo, { recursive: true });
  for (const file of ["campaigns/bangkok-coworking-launch.yaml", "campaigns/lisbon-guide-newsletter.yaml", "campaigns/trial-winback.yaml"]) {
    const text = await readFile(path.join(repo, file), "utf8");
    await writeFile(path.join(repo, file), text.replaceAll("2027-", "2099-"));
  }
  const git = simpleGit({ baseDir: repo });
  await git.init(["--initial-branch=main"]);
  await git.add(".");
  await git.addConfig("user.name", "Mai Tran").addConfig("user.email", "mai@nomaddesk.example");
  await git.commit("Campaigns for the new year");
  local = await startLocalRuntime({ dataDir: path.join(repo, ".mk"), port: 0 });
}, { timeout: 120_000 });

after(async () => {
  await local.stop();
  await rm(repo, { recursive: true, force: true });
}, { timeout: 120_000 });

const mk = (...args: string[]) => runMk([...args, "--dir", repo]);
const edit = async (file: string, from: string, to: string) => {
  const text = await readFile(path.join(repo, file), "utf8");
  assert.ok(text.includes(from), `${file} has no ${from}`);
  await writeFile(path.join(repo, file), text.replace(from, to));
};

describe("validate → plan → apply → plan → edit → stale plan → new plan", { timeout: 180_000 }, () => {
  it("validates clean", async () => {
    const run = await mk("validate");
    assert.equal(run.stdout, "✔ 0 errors, 0 warnings\n");
  });

  it("plans every resource as a create (exit 2)", async () => {
    const run = await mk("plan", "--detailed-exitcode");
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stdout, /^Planned against "local" \(http:\/\/127\.0\.0\.1:\d+\) at serial 0\.$/m);
    assert.match(run.stdout, /# campaign "trial-winback" will be created \(0 recipients, est\. \$0\.00\)\n {2}\+ campaign "trial-winback"\n/);
    assert.match(run.stdout, /^ {6}\+ subject = "Your desk is still here"$/m);
    assert.match(run.stdout, /# audience "asia-buyers" will be created \(0 subscribers now\)/);
    assert.match(run.stdout, /\+ template "templates\/welcome\.mjml"\n {6}\+ html = "[0-9a-f]{12}"\n {6}\+ templates\/partials\/footer\.mjml/);
    assert.match(run.stdout, /\nPlan: 16 to add, 0 to change, 0 to delete\.\n$/);

    const json = await mk("plan", "--detailed-exitcode", "--json");
    assert.equal(json.code, 2, json.stderr);
    const plan = JSON.parse(json.stdout) as { env: string; url: string; baseSerial: number; summary: object; changes: { action: string }[]; errors: unknown[] };
    assert.deepEqual([plan.env, plan.url, plan.baseSerial, plan.summary, plan.errors], ["local", local.url, 0, { add: 16, change: 0, delete: 0 }, []]);
    assert.equal(plan.changes.filter((c) => c.action === "create").length, 16);
  });

  it("refuses to apply without a terminal unless --auto-approve", async () => {
    const run = await mk("apply");
    assert.equal(run.code, 1);
    assert.match(run.stderr, /MK079 .*--auto-approve/);
    assert.equal((await mk("status", "--json")).stdout.includes('"serial": 0'), true);
  });

  it("applies, recording the git source, and then plans no changes (exit 0)", async () => {
    const applied = await mk("apply", "--auto-approve");
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /Apply complete! Resources: 16 added, 0 changed, 0 deleted\. State serial 1\.\nSequence "onboarding" is at version 1; new enrollments start on it\.\n$/);
    const again = await mk("plan", "--detailed-exitcode");
    assert.equal(again.code, 0);
    assert.match(again.stdout, /No changes\. The runtime matches the repository\./);

    const json = await mk("apply", "--auto-approve", "--json");
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), { serial: 1, added: 0, changed: 0, deleted: 0 });
    assert.match(json.stderr, /No changes\. The runtime matches the repository\./, "the plan is shown on stderr");
  });

  it("shows an edit as ~ with the field diff, and a template edit as an MJML diff", async () => {
    await edit("campaigns/trial-winback.yaml", 'subject: "Your desk is still here"', 'subject: "Your desk misses you"');
    await edit("templates/partials/footer.mjml", "View in your browser", "Open in your browser");
    const run = await mk("plan", "--detailed-exitcode", "--out", path.join(repo, "old-plan.json"));
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stdout, / {2}~ campaign "trial-winback"\n {6}~ subject = "Your desk is still here" -> "Your desk misses you"\n/);
    assert.match(run.stdout, /~ template "templates\/welcome\.mjml"\n {6}~ html = "[0-9a-f]{12}" -> "[0-9a-f]{12}"\n {6}~ templates\/partials\/footer\.mjml\n(.*\n)*? {10}-.*View in your browser.*\n {10}\+.*Open in your browser/);
    assert.match(run.stdout, /Plan: 0 to add, 6 to change, 0 to delete\./);
    assert.match(run.stderr, /Saved the plan to .*old-plan\.json/);
  });

  it("refuses the old plan file once the state has moved, and applies a new one", async () => {
    await edit("audiences/everyone-opted-in.yaml", "Every subscriber who opted in to marketing mail", "Everyone who opted in");
    assert.equal((await mk("apply", "--auto-approve")).code, 0);

    const stale = await mk("apply", path.join(repo, "old-plan.json"));
    assert.equal(stale.code, 1);
    assert.match(stale.stderr, /MK075 the state moved from serial 1 to 2 since this plan was made; run mk plan again/);
    assert.doesNotMatch(stale.stderr, STACK_LINE);

    await edit("campaigns/trial-winback.yaml", "maxRecipients: 5000", "maxRecipients: 4000");
    const planned = await mk("plan", "--out", path.join(repo, "new-plan.json"));
    assert.match(planned.stdout, /~ budget\.maxRecipients = 5000 -> 4000/);
    const applied = await mk("apply", path.join(repo, "new-plan.json"));
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /Apply complete! Resources: 0 added, 1 changed, 0 deleted\. State serial 3\./);
    assert.equal((await mk("plan", "--detailed-exitcode")).code, 0);
  });

  it("refuses a plan file that was edited", async () => {
    const file = path.join(repo, "new-plan.json");
    const plan = JSON.parse(await readFile(file, "utf8")) as { baseSerial: number };
    await writeFile(file, JSON.stringify({ ...plan, baseSerial: 3 }));
    const run = await mk("apply", file);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /MK078 .* was changed after mk plan wrote it/);
  });

  it("lists the applies in history and the serial in status", async () => {
    const history = JSON.parse((await mk("history", "--json")).stdout) as { serial: number; author: string; branch: string; dirty: boolean; commit: string }[];
    assert.deepEqual(history.map((a) => a.serial), [3, 2, 1]);
    const head = await simpleGit({ baseDir: repo }).revparse(["HEAD"]);
    assert.deepEqual(history.map((a) => [a.commit, a.author, a.branch, a.dirty]), [
      [head, "Mai Tran <mai@nomaddesk.example>", "main", true],
      [head, "Mai Tran <mai@nomaddesk.example>", "main", true],
      [head, "Mai Tran <mai@nomaddesk.example>", "main", false],
    ]);
    const table = await mk("history");
    assert.match(table.stdout, /serial/);
    const status = await mk("status");
    assert.match(status.stdout, /^Serial {7}3$/m);
    assert.match(status.stdout, /^Health {7}ok$/m);
    const json = await mk("status", "--json");
    assert.deepEqual([json.code, json.stderr], [0, ""]);
    const { lastApply, ...rest } = JSON.parse(json.stdout) as { lastApply: { serial: number; commit: string } };
    assert.deepEqual(rest, { env: "local", url: local.url, status: "ok", serial: 3 });
    assert.deepEqual([lastApply.serial, lastApply.commit], [3, head]);
  });

  it("shows drift (another branch applied something else) as a change back to the repository", async () => {
    const client = new RuntimeClient({ env: "local", url: local.url, token: local.token });
    const state = await client.state();
    const resources = state.resources.map(({ kind, name, spec }) =>
      kind === "Campaign" && name === "trial-winback" ? { kind, name, spec: { ...spec, subject: "Changed on another branch" } } : { kind, name, spec },
    );
    await client.apply({ baseSerial: state.serial, resources, templates: [], source: { commit: null, author: null, branch: "other", dirty: null } });
    const run = await mk("plan", "--detailed-exitcode");
    assert.equal(run.code, 2);
    assert.match(run.stdout, /~ subject = "Changed on another branch" -> "Your desk misses you"/);
    assert.match(run.stdout, /Plan: 0 to add, 1 to change, 0 to delete\./);
    assert.equal((await mk("apply", "--auto-approve")).code, 0);
  });

  it("writes the plan as Markdown, and to the job summary in GitHub Actions", async () => {
    await edit("campaigns/trial-winback.yaml", "maxRecipients: 4000", "maxRecipients: 3000");
    const summary = path.join(repo, "summary.md");
    const file = path.join(repo, "plan.md");
    const run = await runMk(["plan", "--dir", repo, "--markdown", file], { env: { GITHUB_STEP_SUMMARY: summary } });
    assert.equal(run.code, 0, run.stderr);
    const markdown = await readFile(file, "utf8");
    assert.equal(await readFile(summary, "utf8"), markdown);
    assert.match(markdown, /^<!-- mk-plan -->\n### mk plan for `local`\n\n\*\*Plan: 0 to add, 1 to change, 0 to delete\.\*\* Planned at `[0-9a-f]{7}` against serial \d+\./);
    assert.match(markdown, /\| ✏️ update \| campaign `trial-winback` \| 0 recipients \| \$0\.00 \|/);
    assert.match(markdown, /<details><summary>✏️ update campaign <code>trial-winback<\/code><\/summary>\n\n```diff\n[^]*~ budget\.maxRecipients = 4000 -> 3000\n```/);
  });

  it("says which token is wrong, without a stack trace", async () => {
    const run = await runMk(["plan", "--dir", repo], { env: { MK_API_TOKEN: "x".repeat(40) } });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /MK074 the runtime of "local" refused the API token/);
  });

  it("names the environments when asked for an unknown one, and the variable when a token is missing", async () => {
    const unknown = await mk("plan", "--env", "staging2");
    assert.match(unknown.stderr, /MK072 no environment "staging2" in mk\.yaml; environments are staging, prod, local/);
    const missing = await mk("plan", "--env", "prod");
    assert.match(missing.stderr, /MK071 set MK_PROD_TOKEN to the API token of environment "prod"/);
  });

  it("with --json, keeps stdout for JSON: the problems that stop plan and apply go to stderr", async () => {
    await edit("campaigns/trial-winback.yaml", "subject:", "subjct:");
    for (const command of [["plan"], ["apply", "--auto-approve"]]) {
      const run = await mk(...command, "--json");
      assert.deepEqual([run.code, run.stdout], [1, ""], command[0]);
      assert.match(run.stderr, /^campaigns\/trial-winback\.yaml:\d+:\d+ +error +MK011 +unknown key "subjct"; did you mean "subject"\?$/m);
    }
    await edit("campaigns/trial-winback.yaml", "subjct:", "subject:");
  });
});

describe("a pull request's plan against the environment URL its base branch has", { timeout: 180_000 }, () => {
  it("plans against the runtime with the token (the URL is unchanged from main)", async () => {
    const base = await mkdtemp(path.join(tmpdir(), "mk-gitops-pr-"));
    try {
      const origin = path.join(base, "origin");
      initRepository(origin, { force: false });
      const text = await readFile(path.join(origin, "mk.yaml"), "utf8");
      await writeFile(path.join(origin, "mk.yaml"), text.replace('url: "https://mk.example.com"', `url: "${local.url}"`));
      const git = simpleGit({ baseDir: origin });
      await git.init(["--initial-branch=main"]);
      await git.addConfig("user.name", "Mai Tran").addConfig("user.email", "mai@nomaddesk.example");
      await git.add(".").commit("Campaigns");
      const checkout = path.join(base, "checkout");
      await simpleGit({ baseDir: base }).clone(origin, checkout);

      const environment = { GITHUB_EVENT_NAME: "pull_request", GITHUB_BASE_REF: "main", MK_PROD_TOKEN: local.token };
      const outcome = await planRepository({ dir: checkout, env: "prod", environment });
      assert.deepEqual(outcome.problems, []);
      assert.deepEqual([outcome.plan?.env, outcome.plan?.url], ["prod", local.url]);
      assert.ok(outcome.plan?.changes.some((change) => change.kind === "Campaign" && change.name === "welcome" && change.action === "create"));
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });
});
