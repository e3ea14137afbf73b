import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { validateWorkflow } from "@action-validator/core";
import { parse } from "yaml";
import { SCAFFOLD_DIR } from "../../cli/init/scaffold.js";
import { REPO_ROOT } from "../helpers/run-mk.js";

interface Step {
  if?: string;
  run?: string;
  uses?: string;
  env?: Record<string, string>;
}
interface Job {
  if?: string;
  needs?: string;
  environment?: string;
  permissions?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions: Record<string, string>;
  concurrency?: { group: string; "cancel-in-progress": boolean };
  jobs: Record<string, Job>;
}

const PROJECT_WORKFLOWS = path.join(REPO_ROOT, ".github", "workflows");
const SCAFFOLD_WORKFLOWS = path.join(SCAFFOLD_DIR, ".github", "workflows");

function workflowsIn(dir: string): Array<{ file: string; source: string }> {
  return readdirSync(dir)
    .filter((name) => name.endsWith(".yml"))
    .map((name) => ({ file: path.join(dir, name), source: readFileSync(path.join(dir, name), "utf8") }));
}

function load(dir: string, name: string): Workflow {
  return parse(readFileSync(path.join(dir, name), "utf8")) as Workflow;
}

function allSteps(workflow: Workflow): Step[] {
  return Object.values(workflow.jobs).flatMap((job) => job.steps);
}

describe("GitHub workflows", { timeout: 180_000 }, () => {
  test("every workflow, the project's and the ones mk init writes, passes action-validator", () => {
    const workflows = [...workflowsIn(PROJECT_WORKFLOWS), ...workflowsIn(SCAFFOLD_WORKFLOWS)];
    assert.equal(workflows.length, 8);
    for (const { file, source } of workflows) {
      assert.deepEqual(validateWorkflow(source).errors, [], path.relative(REPO_ROOT, file));
    }
  });

  test("the linter catches a broken workflow, so a pass means something", () => {
    const broken = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    stepz: []\n";
    assert.ok(validateWorkflow(broken).errors.length > 0);
  });

  for (const dir of [SCAFFOLD_WORKFLOWS, PROJECT_WORKFLOWS]) {
    const where = dir === SCAFFOLD_WORKFLOWS ? "mk init's" : "the reusable";

    test(`${where} plan workflow: validate for everyone, plan and comment only for same-repository pull requests`, () => {
      const plan = load(dir, "mk-plan.yml");
      assert.deepEqual(plan.permissions, { contents: "read" });
      const job = plan.jobs["plan"]!;
      assert.equal(job.needs, "validate");
      assert.equal(job.if, "github.event.pull_request.head.repo.full_name == github.repository");
      assert.ok(job.steps.some((step) => step.run?.includes("mk plan --env") && step.run.includes("--github-comment")));
      if (dir === SCAFFOLD_WORKFLOWS) {
        assert.equal(plan.jobs["validate"]?.permissions, undefined, "validate gets only the workflow's read permission");
        assert.deepEqual(job.permissions, { contents: "read", "pull-requests": "write" });
      } else {
        // The check runs "mk" and "mk plan": a same-repository pull request's validate posts one, a fork's (read-only token) does not try.
        const validate = plan.jobs["validate"]!;
        assert.deepEqual(validate.permissions, { contents: "read", checks: "write" });
        assert.deepEqual(job.permissions, { contents: "read", "pull-requests": "write", checks: "write" });
        assert.ok(job.steps.some((step) => step.run?.includes("mk plan --env") && step.run.includes("--github-check")));
        const checked = validate.steps.find((step) => step.run === "npx mk validate --github-check");
        const plain = validate.steps.find((step) => step.run === "npx mk validate");
        assert.deepEqual([checked?.if, plain?.if], ["github.event.pull_request.head.repo.full_name == github.repository", "github.event.pull_request.head.repo.full_name != github.repository"]);
        assert.equal(checked?.env?.["GITHUB_TOKEN"], "${{ github.token }}");
      }
    });

    test(`${where} plan job holds only the plan-scoped token, fetches the base branch before planning, and passes the trusted URL`, () => {
      const job = load(dir, "mk-plan.yml").jobs["plan"]!;
      const planStep = job.steps.findIndex((step) => step.run?.includes("mk plan --env"));
      const fetch = job.steps.findIndex((step) => /^git fetch .*origin "\+refs\/heads\/\$GITHUB_BASE_REF:refs\/remotes\/origin\/\$GITHUB_BASE_REF"$/.test(step.run ?? ""));
      assert.ok(fetch >= 0 && fetch < planStep, "origin/<base> is fetched before mk plan");
      const env = job.steps[planStep]?.env ?? {};
      const secrets = Object.values(env).join(" ").match(/secrets\.[\w-]+/g);
      assert.deepEqual(secrets, dir === SCAFFOLD_WORKFLOWS ? ["secrets.MK_PROD_PLAN_TOKEN", "secrets.GITHUB_TOKEN"] : ["secrets.mk-plan-token"]);
      assert.equal(env["MK_ENVIRONMENT_URL"], dir === SCAFFOLD_WORKFLOWS ? "${{ vars.MK_PROD_URL }}" : "${{ inputs.environment-url }}");
      assert.equal(job.environment, undefined, "a pull request's job never enters the environment that holds the apply token");
    });

    test(`${where} apply workflow never overlaps itself and applies without a prompt`, () => {
      const apply = load(dir, "mk-apply.yml");
      assert.equal(apply.concurrency?.["cancel-in-progress"], false);
      assert.match(apply.concurrency?.group ?? "", /^mk-apply-/);
      assert.ok(allSteps(apply).some((step) => step.run?.includes("mk apply --env") && step.run.includes("--auto-approve")));
    });

    test(`${where} apply and send jobs run in a GitHub Environment that holds their apply-scoped token`, () => {
      for (const [name, environment, secret] of [["mk-apply.yml", "prod", "MK_PROD_APPLY_TOKEN"], ["mk-send.yml", "prod-send", "MK_PROD_SEND_TOKEN"]] as const) {
        const workflow = load(dir, name);
        const [job] = Object.values(workflow.jobs);
        const env = job!.steps.find((step) => step.env)?.env ?? {};
        if (dir === SCAFFOLD_WORKFLOWS) {
          assert.equal(job!.environment, environment, name);
          assert.equal(env["MK_PROD_TOKEN"], `\${{ secrets.${secret} }}`, name);
          assert.equal(env["MK_ENVIRONMENT_URL"], "${{ vars.MK_PROD_URL }}", name);
        } else {
          const inputs = (workflow.on["workflow_call"] as { inputs: Record<string, { default: string }> }).inputs;
          assert.equal(job!.environment, "${{ inputs.github-environment }}", name);
          assert.deepEqual([inputs["github-environment"]?.default, inputs["token-secret"]?.default], [environment, secret], name);
          assert.equal(env["MK_TOKEN"], "${{ secrets[inputs.token-secret] }}", name);
        }
      }
    });

    test(`${where} send workflow runs mk send --due`, () => {
      const send = load(dir, "mk-send.yml");
      assert.ok(allSteps(send).some((step) => step.run?.includes("mk send --due")));
    });

    test(`${where} workflows pass secrets only through env:, never into a command line`, () => {
      for (const { file, source } of workflowsIn(dir).filter(({ file }) => path.basename(file).startsWith("mk-"))) {
        const workflow = parse(source) as Workflow;
        for (const step of allSteps(workflow)) {
          assert.doesNotMatch(step.run ?? "", /\$\{\{\s*(secrets|github\.token)/, `${path.basename(file)}: ${step.run}`);
        }
        assert.match(source, /secrets[.[]/, `${path.basename(file)} uses a secret`);
      }
    });
  }

  test("mk init's workflows run on their own triggers; the project's are reusable", () => {
    assert.deepEqual(Object.keys(load(SCAFFOLD_WORKFLOWS, "mk-plan.yml").on), ["pull_request"]);
    assert.deepEqual(load(SCAFFOLD_WORKFLOWS, "mk-apply.yml").on, { push: { branches: ["main"] } });
    assert.deepEqual(load(SCAFFOLD_WORKFLOWS, "mk-send.yml").on, { schedule: [{ cron: "*/15 * * * *" }], workflow_dispatch: null });
    const plan = load(PROJECT_WORKFLOWS, "mk-plan.yml").on["workflow_call"] as { inputs: Record<string, unknown>; secrets: Record<string, { required: boolean }> };
    assert.deepEqual(Object.keys(plan.inputs).sort(), ["environment", "environment-url", "node-version", "token-env", "working-directory"]);
    assert.deepEqual(Object.keys(plan.secrets), ["mk-plan-token"]);
    assert.equal(plan.secrets["mk-plan-token"]?.required, true);
    for (const name of ["mk-apply.yml", "mk-send.yml"]) {
      const call = load(PROJECT_WORKFLOWS, name).on["workflow_call"] as { inputs: Record<string, unknown>; secrets?: unknown };
      assert.deepEqual(Object.keys(call.inputs).sort(), ["environment", "environment-url", "github-environment", "node-version", "token-env", "token-secret", "working-directory"]);
      assert.equal(call.secrets, undefined, `${name}: the token comes from the GitHub Environment (secrets: inherit), not from the caller`);
    }
  });

  test("the reusable proof workflow sends proofs on its label only, for same-repository pull requests only, with its apply-scoped staging token in a GitHub Environment", () => {
    const proof = load(PROJECT_WORKFLOWS, "mk-proof.yml");
    assert.deepEqual(Object.keys(proof.on), ["workflow_call"], "never pull_request_target: a fork's code would run with the token");
    assert.deepEqual(proof.permissions, { contents: "read" });
    const inputs = (proof.on["workflow_call"] as { inputs: Record<string, { default: string }> }).inputs;
    assert.deepEqual(
      ["label", "environment", "token-env", "github-environment", "token-secret"].map((name) => inputs[name]?.default),
      ["mk:proof", "staging", "MK_STAGING_TOKEN", "staging-proof", "MK_STAGING_PROOF_TOKEN"],
    );
    const job = proof.jobs["proof"]!;
    for (const condition of ["github.event_name == 'pull_request'", "github.event.action == 'labeled'", "github.event.label.name == inputs.label", "github.event.pull_request.head.repo.full_name == github.repository"]) {
      assert.ok(job.if?.includes(condition), `job.if lacks ${condition}`);
    }
    assert.equal(job.environment, "${{ inputs.github-environment }}");
    const step = job.steps.find((s) => s.run?.includes("mk send test"))!;
    assert.equal(step.env?.["MK_TOKEN"], "${{ secrets[inputs.token-secret] }}");
    assert.match(step.run!, /mk plan --env "\$MK_ENV" --json --out /);
    assert.match(step.run!, /mk send test "\$campaign" --to "\$to" \$variants --env "\$MK_ENV"/);
    assert.ok(step.run!.includes('"--all-variants"'), "campaigns with variants get a proof of each");
  });

  test("the project's CI runs Node 20, 22 and 24, as root, with nothing skipped", () => {
    const ci = load(PROJECT_WORKFLOWS, "ci.yml") as Workflow & { jobs: { test: Job & { strategy: { matrix: { node: number[] } }; env?: Record<string, string>; services?: unknown } } };
    assert.deepEqual(ci.jobs.test.strategy.matrix.node, [20, 22, 24]);
    // As root, like this project's CI: the newcomer test needs it. Redis comes from .ci/run (apt), not a
    // service container: the Redis outage test stops and starts its own, and npm test fails a skipped test.
    assert.ok(
      ci.jobs.test.steps.some((step) => /^sudo --preserve-env env "PATH=\$PATH" bash \.ci\/run$/.test(String((step as { run?: string }).run ?? ""))),
      "a step runs .ci/run as root",
    );
    assert.equal(ci.jobs.test.services, undefined);
    assert.equal(ci.jobs.test.env?.["MK_TEST_REDIS_URL"], undefined);
  });
});
