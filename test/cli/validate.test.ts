import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import { readProject, readRepository } from "../../cli/project/reader.js";
import { problemsAgainstRuntime } from "../../cli/project/schedules.js";
import type { AppliedResource } from "../../schemas/api.js";
import { validateRepository } from "../../cli/validation.js";
import { REPO_ROOT, runMk, STACK_LINE } from "../helpers/run-mk.js";
import { MINIMAL, tempRepo } from "../helpers/temp-repo.js";

const EXAMPLE = path.join(REPO_ROOT, "example-campaigns");
/** The example repository schedules its campaigns in 2027. */
const NOW = new Date("2026-11-23T00:00:00Z");

const at = (problems: readonly { file: string; line: number; col: number; code: string }[]) =>
  problems.map((p) => `${p.file}:${p.line}:${p.col} ${p.code}`);

describe("validateRepository", { timeout: 240_000 }, () => {
  it("finds example-campaigns valid whatever the date: its scheduled campaigns allow a past time", async () => {
    // Two days after its latest schedule.at (every one of them past, whatever the zone), and long after.
    const [repo] = await readRepository(EXAMPLE);
    const days = repo.campaigns.flatMap((c) => (c.spec.schedule ? [Date.parse(`${c.spec.schedule.at.slice(0, 10)}T00:00:00Z`)] : []));
    assert.ok(days.length >= 3, "the example schedules campaigns");
    for (const now of [new Date(Math.max(...days) + 2 * 86_400_000), new Date("2100-06-01T00:00:00Z")]) {
      const { problems, pastSchedules } = await validateRepository({ dir: EXAMPLE, now });
      assert.deepEqual(problems, [], `on ${now.toISOString()}: no MK035`);
      assert.deepEqual(pastSchedules, [], `on ${now.toISOString()}: nothing mk plan would refuse (MK026)`);
    }
  });

  it("finds nothing wrong with example-campaigns, and reads all of it", async () => {
    const { repo, problems, messages, templates } = await validateRepository({ dir: EXAMPLE, now: NOW });
    assert.deepEqual(problems, []);
    assert.ok(repo);
    assert.equal(repo.project?.spec.name, "nomad-desk");
    assert.ok(repo.audiences.length >= 3);
    assert.ok(repo.campaigns.length >= 4);
    assert.ok(repo.sequences.length >= 1);
    assert.ok(messages.some((m) => m.variant !== null), "the A/B test has one message per variant");
    for (const compiled of templates.values()) assert.match(compiled.html ?? "", /^<!doctype html>/i);
  });

  it("finds mk.yaml from a folder inside the repository", async () => {
    const { repo, problems } = await validateRepository({ dir: path.join(EXAMPLE, "templates", "partials"), now: NOW });
    assert.equal(repo?.root, EXAMPLE.replace(/\/$/, ""));
    assert.deepEqual(problems, []);
  });

  it("readProject reads mk.yaml alone, with the project and problems readRepository gives it", async () => {
    const [project, none] = await readProject(EXAMPLE);
    const read = (await readRepository(EXAMPLE))[0].project;
    assert.deepEqual([project?.name, project?.source.file, project?.spec, none], [read?.name, read?.source.file, read?.spec, []]);
    const repo = await tempRepo();
    try {
      await repo.write("campaigns/broken.yaml", "apiVersion: mk/v1\nkind: Campaign\nsubject: [\n");
      assert.equal((await readProject(repo.root))[0]?.spec.name, (await readRepository(repo.root))[0].project?.spec.name, "a broken campaign does not matter");
      await repo.write("mk.yaml", "apiVersion: mk/v1\nkind: Project\nname: Not A Name\n");
      const [broken, problems] = await readProject(repo.root);
      assert.equal(broken, undefined);
      assert.ok(problems.length > 0);
      assert.deepEqual(problems, (await readRepository(repo.root))[1].filter((p) => p.file === "mk.yaml"));
    } finally {
      await repo.remove();
    }
  });

  it("says MK004 when there is no mk.yaml in the folder or above it", async () => {
    const empty = await mkdtemp(path.join(tmpdir(), "mk-empty-"));
    try {
      const { repo, problems } = await validateRepository({ dir: empty });
      assert.equal(repo, undefined);
      assert.deepEqual(problems.map((p) => p.code), ["MK004"]);
      assert.match(problems[0]?.message ?? "", /mk init/);
    } finally {
      await rm(empty, { recursive: true });
    }
  });

  it("warns offline of a schedule in the past (mk plan decides), compares with the time it is given, and lets allowPast through", { timeout: 30_000 }, async () => {
    const repo = await tempRepo();
    try {
      const schedule = (extra: string) =>
        repo.write(
          "campaigns/hello.yaml",
          `apiVersion: mk/v1\nkind: Campaign\nsubject: Hi\npreheader: Hello\ntemplate: templates/hello.mjml\naudience: everyone\nschedule:\n  at: "2026-12-01T09:00:00"\n  timezone: Asia/Bangkok\n${extra}`,
        );
      await schedule("");
      assert.deepEqual(at((await validateRepository({ dir: repo.root, now: new Date("2026-11-30T00:00:00Z") })).problems), []);
      const late = await validateRepository({ dir: repo.root, now: new Date("2026-12-01T03:00:00Z") });
      assert.deepEqual(at(late.problems), ["campaigns/hello.yaml:8:7 MK035"]);
      assert.equal(late.problems[0]?.severity, "warning");
      assert.equal(
        late.problems[0]?.message,
        "schedule.at 2026-12-01T09:00:00 is in the past (2026-12-01T09:00:00+07:00); mk plan will refuse it unless the runtime has already started this campaign or holds it at that time: " +
          "set a future time, or schedule.allowPast: true to send it at the next mk send --due",
      );
      assert.deepEqual(late.pastSchedules.map((p) => p.campaign), ["hello"]);
      await schedule("  allowPast: true\n");
      assert.deepEqual(at((await validateRepository({ dir: repo.root, now: new Date("2026-12-01T03:00:00Z") })).problems), []);
      // UTC+14: 09:00 on 1 December there was 19:00 UTC on 30 November, a time still ahead in UTC itself.
      await repo.write(
        "campaigns/hello.yaml",
        'apiVersion: mk/v1\nkind: Campaign\nsubject: Hi\npreheader: Hello\ntemplate: templates/hello.mjml\naudience: everyone\nschedule:\n  at: "2026-12-01T09:00:00"\n  timezone: Pacific/Kiritimati\n',
      );
      assert.deepEqual(at((await validateRepository({ dir: repo.root, now: new Date("2026-11-30T19:30:00Z") })).problems), ["campaigns/hello.yaml:8:7 MK035"]);
      assert.deepEqual(at((await validateRepository({ dir: repo.root, now: new Date("2026-11-30T18:30:00Z") })).problems), []);
    } finally {
      await repo.remove();
    }
  });

  it("against a runtime, makes a past schedule MK026 only for a campaign that runtime has neither started nor holds at that time", { timeout: 30_000 }, async () => {
    const repo = await tempRepo();
    try {
      const campaign = (name: string, at: string, extra = "") =>
        repo.write(
          `campaigns/${name}.yaml`,
          `apiVersion: mk/v1\nkind: Campaign\nsubject: Hi\npreheader: Hello\ntemplate: templates/hello.mjml\naudience: everyone\nschedule:\n  at: "${at}"\n${extra}`,
        );
      await campaign("sent", "2026-11-01T09:00:00Z");
      await campaign("unsent", "2026-11-02T09:00:00", "  timezone: recipient\n");
      await campaign("no-such-day", "2026-02-30T09:00:00", "  allowPast: true\n");
      const { problems, pastSchedules } = await validateRepository({ dir: repo.root, now: new Date("2026-12-01T00:00:00Z") });
      assert.deepEqual(at(problems), ["campaigns/no-such-day.yaml:8:7 MK010", "campaigns/sent.yaml:8:7 MK035", "campaigns/unsent.yaml:8:7 MK035"]);

      const applied = (name: string, spec: AppliedResource["spec"], startedAt: string | null): AppliedResource => ({ kind: "Campaign", name, spec, hash: "h", startedAt });
      const sent = applied("sent", { schedule: { at: "2026-11-01T09:00:00Z" } }, "2026-11-01T09:00:00Z");
      const online = problemsAgainstRuntime(problems, pastSchedules, [sent], "prod");
      assert.deepEqual(at(online), ["campaigns/no-such-day.yaml:8:7 MK010", "campaigns/unsent.yaml:8:7 MK026"]);
      assert.equal(online[1]?.severity, "error");
      assert.equal(
        online[1]?.message,
        'schedule.at 2026-11-02T09:00:00 is in the past in every time zone and campaign "unsent" has not started sending on "prod"; ' +
          "set a future time, or schedule.allowPast: true to send it at the next mk send --due",
      );
      // Applied with this very time but not started yet: due, and the next mk send --due starts it; no reason to stop another change.
      const due = applied("unsent", { schedule: { at: "2026-11-02T09:00:00", timezone: "recipient" } }, null);
      assert.deepEqual(at(problemsAgainstRuntime(problems, pastSchedules, [sent, due], "prod")), ["campaigns/no-such-day.yaml:8:7 MK010"]);
      // Applied for a later time, now moved into the past: new to the runtime, so refused.
      const moved = applied("unsent", { schedule: { at: "2027-01-01T09:00:00", timezone: "recipient" } }, null);
      assert.deepEqual(at(problemsAgainstRuntime(problems, pastSchedules, [sent, moved], "prod")), ["campaigns/no-such-day.yaml:8:7 MK010", "campaigns/unsent.yaml:8:7 MK026"]);
    } finally {
      await repo.remove();
    }
  });

  it("reports problems from every file at once, sorted by file, line and column", async () => {
    const repo = await tempRepo();
    try {
      await repo.write("audiences/b.yaml", "apiVersion: mk/v1\nkind: Audience\nwhere:\n  country: { in: [ZZ] }\n");
      await repo.write("campaigns/a.yaml", "apiVersion: mk/v1\nkind: Campaign\nsubject: Hi\ntemplate: templates/nope.mjml\naudience: nobody\n");
      const { problems } = await validateRepository({ dir: repo.root });
      assert.deepEqual(at(problems), ["audiences/b.yaml:4:19 MK025", "campaigns/a.yaml:4:11 MK022", "campaigns/a.yaml:5:11 MK021"]);
    } finally {
      await repo.remove();
    }
  });

  it("MK103: conditions nested more than 32 levels deep, at the first one too deep", async () => {
    const repo = await tempRepo();
    try {
      const nots = (levels: number) => Array.from({ length: levels - 1 }, (_, i) => `${"  ".repeat(i + 1)}not:\n`).join("") + `${"  ".repeat(levels)}tag: x\n`;
      await repo.write("audiences/deep.yaml", `apiVersion: mk/v1\nkind: Audience\nwhere:\n${nots(33)}`);
      await repo.write("audiences/deep-enough.yaml", `apiVersion: mk/v1\nkind: Audience\nwhere:\n${nots(32)}`);
      const { problems } = await validateRepository({ dir: repo.root });
      assert.deepEqual(at(problems), ["audiences/deep.yaml:36:67 MK103"]);
      assert.match(problems[0]?.message ?? "", /more than 32 levels deep/);
    } finally {
      await repo.remove();
    }
  });

  it("MK102: audiences and sequence steps too large once references are expanded, reported where they pass the limit", async () => {
    const repo = await tempRepo();
    try {
      // l01 … l12 each refer to the one below twice: l11 is the first over 10,000 nodes, l12 is too large because of it.
      const level = (i: number) => `l${String(i).padStart(2, "0")}`;
      await repo.write("audiences/l00.yaml", "apiVersion: mk/v1\nkind: Audience\nwhere:\n  consent: marketing\n");
      for (let i = 1; i <= 12; i++) {
        await repo.write(`audiences/${level(i)}.yaml`, `apiVersion: mk/v1\nkind: Audience\nwhere:\n  any:\n    - audience: ${level(i - 1)}\n    - all: [{ audience: ${level(i - 1)} }, { tag: vip }]\n`);
      }
      await repo.write(
        "sequences/winback.yaml",
        "apiVersion: mk/v1\nkind: Sequence\ntrigger: { event: signup }\nsteps:\n  - wait: 1d\n  - if: { not: { any: [{ audience: l10 }, { audience: l10 }] } }\n    then: exit\n  - if: { audience: l12 }\n    then: exit\n",
      );
      const { problems } = await validateRepository({ dir: repo.root });
      assert.deepEqual(at(problems), ["audiences/l11.yaml:5:17 MK102", "sequences/winback.yaml:6:36 MK102"]);
      assert.match(problems[0]?.message ?? "", /^audience "l11" expands to 12,283 condition nodes, more than the 10,000 allowed: it refers to audience "l10" 2 times, and each reference brings in its 6,139 condition nodes/);
      assert.match(problems[1]?.message ?? "", /^sequence "winback" step 2 expands to 12,282 condition nodes/);
    } finally {
      await repo.remove();
    }
  });

  it("never throws, whatever a campaign file holds", async () => {
    const repo = await tempRepo();
    try {
      const yamlish = fc.oneof(
        fc.string(),
        fc.jsonValue().map((v) => `apiVersion: mk/v1\nkind: Campaign\n${JSON.stringify(v)}`),
        fc
          .dictionary(fc.constantFrom("subject", "template", "audience", "schedule", "variants", "budget", "geofence", "data", "nme"), fc.jsonValue())
          .map((o) => `apiVersion: mk/v1\nkind: Campaign\n${Object.entries(o).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join("\n")}\n`),
      );
      await fc.assert(
        fc.asyncProperty(yamlish, async (text) => {
          await repo.write("campaigns/fuzz.yaml", text);
          const { problems } = await validateRepository({ dir: repo.root });
          for (const p of problems) {
            assert.ok(p.line >= 1 && p.col >= 1, `bad position ${JSON.stringify(p)}`);
            assert.match(p.code, /^MK\d{3}$/);
          }
        }),
        { numRuns: 300 },
      );
    } finally {
      await repo.remove();
    }
  });
});

describe("mk validate (the binary)", { timeout: 180_000 }, () => {
  it("prints the summary alone and exits 0 for a clean repository", async () => {
    const run = await runMk(["validate", "--dir", MINIMAL]);
    assert.equal(run.stdout, "✔ 0 errors, 0 warnings\n");
    assert.equal(run.code, 0);
  });

  it("--json prints an empty array for a clean repository", async () => {
    const run = await runMk(["validate", "--json", "--dir", MINIMAL]);
    assert.deepEqual(JSON.parse(run.stdout), []);
    assert.equal(run.code, 0);
  });

  it("explains a missing mk.yaml without a stack trace", async () => {
    const empty = await mkdtemp(path.join(tmpdir(), "mk-empty-"));
    try {
      const run = await runMk(["validate"], { cwd: empty });
      assert.equal(run.code, 1);
      assert.match(run.stdout, /^mk\.yaml:1:1 {2}error {4}MK004 {2}no mk\.yaml in /m);
      assert.doesNotMatch(run.stdout + run.stderr, STACK_LINE);
    } finally {
      await rm(empty, { recursive: true });
    }
  });

  it("in GitHub Actions, adds each problem as an annotation on its line, relative to the checkout", async () => {
    const dir = path.join(REPO_ROOT, "test/fixtures/invalid/many-problems");
    const run = await runMk(["validate", "--dir", dir], { env: { GITHUB_ACTIONS: "true", GITHUB_WORKSPACE: REPO_ROOT } });
    assert.equal(run.code, 1);
    const annotations = run.stdout.split("\n").filter((l) => l.startsWith("::"));
    assert.deepEqual(annotations.map((l) => l.slice(0, l.indexOf("::", 2))), [
      "::error file=test/fixtures/invalid/many-problems/audiences/thailand.yaml,line=6,col=27,title=MK025",
      "::error file=test/fixtures/invalid/many-problems/campaigns/goodbye.yaml,line=5,col=11,title=MK022",
      "::error file=test/fixtures/invalid/many-problems/campaigns/hello.yaml,line=6,col=11,title=MK021",
      "::error file=test/fixtures/invalid/many-problems/campaigns/welcome.yaml,line=7,col=1,title=MK011",
      "::error file=test/fixtures/invalid/many-problems/templates/hello.mjml,line=1,col=1,title=MK050",
    ]);
    assert.match(annotations[2] ?? "", /::audience "thailnd" does not exist; did you mean "thailand"\?$/);
    const warning = await runMk(["validate", "--dir", path.join(REPO_ROOT, "test/fixtures/invalid/http-link")], { env: { GITHUB_ACTIONS: "true", GITHUB_WORKSPACE: REPO_ROOT } });
    assert.match(warning.stdout, /^::warning file=test\/fixtures\/invalid\/http-link\/templates\/hello\.mjml,line=5,col=9,title=MK054::/m);
  });

  it("rejects an unknown flag with a usage message, not a stack trace", async () => {
    const run = await runMk(["validate", "--frobnicate"]);
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /frobnicate/);
    assert.doesNotMatch(run.stderr, STACK_LINE);
  });
});
