import assert from "node:assert/strict";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { applyRequest } from "../../../cli/plan/apply-plan.js";
import { desiredState } from "../../../cli/plan/desired-state.js";
import type { Plan } from "../../../cli/plan/make-plan.js";
import { writePlanFile } from "../../../cli/plan/plan-file.js";
import { planJson } from "../../../cli/plan/plan-json.js";
import { planRepository } from "../../../cli/plan/plan-repository.js";
import { renderPlanMarkdown } from "../../../cli/plan/render-markdown.js";
import { renderPlanText } from "../../../cli/plan/render-text.js";
import { formatProblems } from "../../../cli/output/problems.js";
import { COMPILER_VERSIONS, templateFingerprint } from "../../../cli/templates/fingerprint.js";
import { validateRepository } from "../../../cli/validation.js";
import { sha256 } from "../../../runtime/state/canonical.js";
import type { StateResponse } from "../../../schemas/api.js";
import { stopDatabase } from "../../helpers/database.js";
import { startRuntime, TOKEN, type TestRuntime } from "../../helpers/runtime.js";

/**
 * What `mk plan` prints and writes (text, warnings, --json, --out, --markdown)
 * for the example repository and every repository of the error corpus, byte
 * for byte as mk printed it before plans skipped compiling templates the
 * runtime already holds (issue 19). The golden files under
 * test/fixtures/plan-golden/ were written by this file's steps on the code
 * before that change (MK_WRITE_GOLDEN=1 writes them instead of comparing).
 * The runtime's address is the one input that differs from run to run; it
 * is set to http://runtime.test before rendering.
 */
const EXAMPLE = fileURLToPath(new URL("../../../example-campaigns/", import.meta.url));
const CORPUS = fileURLToPath(new URL("../../fixtures/invalid/", import.meta.url));
const GOLDEN = fileURLToPath(new URL("../../fixtures/plan-golden/", import.meta.url));
const WRITE = process.env["MK_WRITE_GOLDEN"] === "1";
const NOW = new Date("2026-12-01T00:00:00Z");
const URL_SHOWN = "http://runtime.test";

interface Output {
  stdout: string;
  stderr: string;
  json?: string;
  /** SHA-256 of the plan file's bytes (a file carries every compiled template, too big to keep here in full). */
  planFile?: string;
  markdown?: string;
}

let scratch: string;
let runtime: TestRuntime;

/** A copy of `source` outside any git repository, pointing `--env local` at the test runtime. */
async function copyRepository(source: string, name: string): Promise<string> {
  const dir = path.join(scratch, name);
  await rm(dir, { recursive: true, force: true });
  await cp(source, dir, { recursive: true, filter: (file) => !file.split(path.sep).includes(".mk") });
  await mkdir(path.join(dir, ".mk"), { recursive: true });
  await writeFile(path.join(dir, ".mk", "runtime.json"), JSON.stringify({ url: runtime.url, pid: process.pid, startedAt: NOW.toISOString() }));
  return dir;
}

/** `mk plan` on `dir`, rendered as the command renders it (no colour). */
async function plan(dir: string, cache = false): Promise<{ output: Output; plan?: Plan }> {
  const outcome = await planRepository({ dir, env: "local", now: NOW, cache, environment: { MK_API_TOKEN: TOKEN } });
  if (!outcome.plan) return { output: { stdout: `${formatProblems(outcome.problems, { color: false })}\n`, stderr: "" } };
  const shown: Plan = { ...outcome.plan, url: URL_SHOWN };
  const file = path.join(scratch, "plan.json");
  await writePlanFile(file, shown, NOW);
  return {
    plan: outcome.plan,
    output: {
      stdout: renderPlanText(shown, { color: false }),
      stderr: outcome.problems.length > 0 ? `${formatProblems(outcome.problems, { color: false })}\n` : "",
      json: `${JSON.stringify(planJson(shown), null, 2)}\n`,
      planFile: sha256(await readFile(file, "utf8")),
      markdown: renderPlanMarkdown(shown, shown.request.source.commit),
    },
  };
}

async function matchesGolden(name: string, output: Output): Promise<void> {
  const file = path.join(GOLDEN, `${name}.json`);
  if (WRITE) {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, `${JSON.stringify(output, null, 2)}\n`);
    return;
  }
  const golden = JSON.parse(await readFile(file, "utf8")) as Output;
  for (const key of ["stdout", "stderr", "json", "planFile", "markdown"] as const) assert.equal(output[key], golden[key], `${name}: ${key} differs from ${file}`);
}

before(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), "mk-plan-golden-"));
  runtime = await startRuntime();
}, { timeout: 120_000 });

after(async () => {
  await runtime?.app.close();
  await stopDatabase();
  await rm(scratch, { recursive: true, force: true });
}, { timeout: 60_000 });

describe("mk plan's output is unchanged byte for byte", { timeout: 240_000 }, () => {
  it("for the example and every corpus repository against an empty runtime, then applied and planned again", { timeout: 200_000 }, async () => {
    const cases = [["example-campaigns", EXAMPLE], ...(await readdir(CORPUS)).sort().map((name) => [name, path.join(CORPUS, name)])] as [string, string][];
    const applied: [string, string][] = [];
    for (const [name, source] of cases) {
      const dir = await copyRepository(source, name);
      const { output, plan: planned } = await plan(dir);
      await matchesGolden(`empty/${name}`, output);
      if (planned && planned.errors.length === 0) applied.push([name, dir]);
    }
    assert.ok(applied.length >= 5, `only ${applied.length} repositories planned`);

    // The example with an edited partial and template applied, then each repository applied in turn and planned again.
    const edited = await copyRepository(EXAMPLE, "example-edited");
    const footer = path.join(edited, "templates", "partials", "footer.mjml");
    await writeFile(footer, (await readFile(footer, "utf8")).replace("</mj-text>", " Edited.</mj-text>"));
    const welcome = path.join(edited, "templates", "welcome.mjml");
    await writeFile(welcome, (await readFile(welcome, "utf8")).replace("</mj-text>", " Edited.</mj-text>"));
    await apply((await plan(edited)).plan);
    for (const [name, dir] of applied) {
      const before = await plan(dir);
      await matchesGolden(`changed/${name}`, before.output);
      await apply(before.plan);
      const again = await plan(dir);
      await matchesGolden(`applied/${name}`, again.output);
    }
  });
});

/** What `mk apply` sends for `planned` (or `request`), which must have changes and no errors. */
async function apply(planned: Plan | undefined, request = planned && applyRequest(planned)): Promise<void> {
  assert.ok(planned && planned.errors.length === 0 && planned.changes.length > 0, "nothing to apply");
  const response = await runtime.api("/v1/apply", { body: request });
  assert.equal(response.status, 200, JSON.stringify(response.body));
}

/** The plan's Template resources, by name. */
function templateSpecs(planned: Plan): Map<string, { html: string; files: Record<string, string> }> {
  return new Map(planned.request.resources.filter((r) => r.kind === "Template").map((r) => [r.name, r.spec as { html: string; files: Record<string, string> }]));
}

describe("mk plan compiles only templates whose fingerprint the runtime has not recorded", { timeout: 240_000 }, () => {
  const FOOTER = "templates/partials/footer.mjml";
  let dir: string;
  let templates: number;
  let withFooter: number;

  before(async () => {
    await runtime.app.close();
    runtime = await startRuntime();
    dir = await copyRepository(EXAMPLE, "fingerprints");
  }, { timeout: 120_000 });

  it("records nothing from fingerprints of another mk or mjml version: every template compiles", { timeout: 120_000 }, async () => {
    const first = (await plan(dir)).plan!;
    const specs = templateSpecs(first);
    templates = specs.size;
    withFooter = [...specs.values()].filter((spec) => FOOTER in spec.files).length;
    assert.ok(templates >= 5 && withFooter >= 3 && withFooter < templates, `${templates} templates, ${withFooter} with the footer`);
    assert.deepEqual(first.templateWork, { compiled: templates, recorded: 0 });
    const job = (name: string) => ({ root: dir, template: name, texts: Object.entries(specs.get(name)!.files) });
    for (const f of first.fingerprints) assert.equal(f.fingerprint, templateFingerprint(job(f.name)), "the fingerprint is of the template's files and both versions");
    const older = { mk: "0.0.1", mjml: COMPILER_VERSIONS.mjml };
    const otherMjml = { mk: COMPILER_VERSIONS.mk, mjml: "4.0.0" };
    const fingerprints = first.fingerprints.map((f, i) => ({ ...f, fingerprint: templateFingerprint(job(f.name), i % 2 === 0 ? older : otherMjml) }));
    await apply(first, { ...first.request, fingerprints });
    assert.deepEqual((await plan(dir)).plan?.templateWork, { compiled: templates, recorded: 0 });
  });

  it("compiles nothing when nothing changed, and only the templates that include a changed partial", { timeout: 120_000 }, async () => {
    const footer = path.join(dir, FOOTER);
    const original = await readFile(footer, "utf8");
    await writeFile(footer, original.replace("</mj-text>", " Changed.</mj-text>"));
    const changed = (await plan(dir)).plan!;
    await apply(changed);
    const again = (await plan(dir)).plan!;
    assert.deepEqual(again.templateWork, { compiled: 0, recorded: templates });
    assert.deepEqual(again.changes, []);
    const state = (await runtime.api("/v1/state")).body as StateResponse;
    assert.deepEqual(state.fingerprints?.map((f) => f.name).sort(), [...templateSpecs(again).keys()].sort(), "one fingerprint per applied template, beside its resource");

    await writeFile(footer, original);
    const reverted = (await plan(dir)).plan!;
    assert.deepEqual(reverted.templateWork, { compiled: withFooter, recorded: templates - withFooter });
    assert.deepEqual(reverted.changes.map((c) => `${c.action} ${c.kind}`), Array(withFooter).fill("update Template"));
    // What it did not compile is what compiling gives: the same request as a plan that compiles everything (the first one).
    const full = await validateRepository({ dir, now: NOW });
    assert.deepEqual(reverted.request.resources, desiredState(full).resources);
    assert.deepEqual(reverted.request.templates, [], "the runtime holds their HTML since the first apply");
  });
});
