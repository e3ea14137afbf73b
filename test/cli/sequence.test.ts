import assert from "node:assert/strict";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import type { SequenceReport } from "../../schemas/report.js";
import { initAndUp, type LocalRepository } from "../helpers/local-repository.js";
import { STACK_LINE } from "../helpers/run-mk.js";
import { waitFor } from "../helpers/wait-for.js";

/** A sequence on mk init's repository, through mk plan, mk apply and mk report, on mk up's runtime and its workers. */
const SEQUENCE = (tipsSubject: string, extra = "") => `apiVersion: mk/v1
kind: Sequence
name: onboarding
trigger: { event: signup }
audience: everyone-opted-in
steps:
  - name: welcome
    send: { template: templates/welcome.mjml, subject: "Welcome, {{subscriber.firstName}}", preheader: "Glad you are here" }
  - name: pause
    wait: 2d
    until: "09:00"
  - name: bought
    if: { event: purchase, within: 2d }
    then: exit
  - name: tips
    send: { template: templates/welcome.mjml, subject: "${tipsSubject}", preheader: "Five of them" }
${extra}`;

let repo: string;
let mk: LocalRepository["mk"];
let stop: LocalRepository["stop"];
let api: LocalRepository["api"];
const file = () => path.join(repo, "sequences", "onboarding.yaml");

before(async () => {
  ({ repo, mk, stop, api } = await initAndUp("mk-sequence-"));
  await mkdir(path.join(repo, "sequences"));
  await writeFile(file(), SEQUENCE("Tips for your first week"));
}, { timeout: 120_000 });
after(() => stop(), { timeout: 120_000 });

describe("a sequence through mk plan, mk apply and mk report sequence", { timeout: 180_000 }, () => {
  it("plans and applies it, saying which version new enrollments start on", async () => {
    const plan = await mk("plan");
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, /\+ sequence "onboarding"/);
    const applied = await mk("apply", "--auto-approve");
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /Sequence "onboarding" is at version 1; new enrollments start on it\./);
  });

  it("enrolls on signup and sends the welcome through mk up's workers", async () => {
    const people = ["email,firstName,consent,timezone", "ana@example.test,Ana,marketing,Asia/Bangkok", "bo@example.test,Bo,marketing,", "cy@example.test,Cy,,"];
    await writeFile(path.join(repo, "people.csv"), `${people.join("\n")}\n`);
    assert.equal((await mk("subscribers", "import", path.join(repo, "people.csv"))).code, 0);
    const at = new Date().toISOString();
    const result = await api("/v1/events", { events: ["ana", "bo", "cy"].map((who) => ({ idempotencyKey: `signup-${who}`, type: "signup", subscriber: { email: `${who}@example.test` }, occurredAt: at })) });
    assert.equal(result.accepted, 3);
    await waitFor(async () => (await api("/v1/outbox?limit=10")).length === 2, 30_000, "two welcome messages");
    const subjects = (await api("/v1/outbox?limit=10")).map((m: { subject: string }) => m.subject).sort();
    assert.deepEqual(subjects, ["Welcome, Ana", "Welcome, Bo"]);
  });

  it("reports enrollments and the funnel as a table, JSON and one HTML file", async () => {
    const table = await mk("report", "sequence", "onboarding");
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^Sequence onboarding: version 1, 2 enrollments\n {2}2 active · 0 completed · 0 exited · 0 failed/);
    assert.match(table.stdout, /1 welcome\s+│\s+send "Welcome, \{\{subscriber\.firstName\}\}" \(templates\/welcome\.mjml\)\s+│\s+2\s+│\s+2\s+│/);
    assert.match(table.stdout, /2 pause\s+│\s+wait 2d until 09:00\s+│\s+2\s+│/);

    const json = await mk("report", "sequence", "onboarding", "--format", "json");
    const report = JSON.parse(json.stdout) as SequenceReport;
    assert.equal(report.enrolled, 2);
    assert.deepEqual(report.steps.map((s) => [s.step, s.kind, s.reached]), [[1, "send", 2], [2, "wait", 2], [3, "if", 0], [4, "send", 0]]);
    const shorthand = await mk("report", "sequence", "onboarding", "--json");
    assert.deepEqual([shorthand.code, shorthand.stderr], [0, ""]);
    assert.equal((JSON.parse(shorthand.stdout) as SequenceReport).enrolled, 2, "--json is --format json");
    assert.match((await mk("report", "sequence", "onboarding", "--json", "--format", "html")).stderr, /^Error: MK093 [^\n]+\n$/);

    const out = path.join(repo, "onboarding.html");
    const html = await mk("report", "sequence", "onboarding", "--format", "html", "--out", out);
    assert.equal(html.code, 0, html.stderr);
    const page = await readFile(out, "utf8");
    assert.match(page, /<title>Sequence report: onboarding<\/title>/);
    assert.match(page, /Welcome, \{\{subscriber\.firstName\}\}/);
    assert.doesNotMatch(page, /<script|https?:\/\/(?!example)/, "self-contained: nothing to run or fetch");

    const unknown = await mk("report", "sequence", "nope");
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^Error: MK090 no sequence "nope" has been applied\n$/);
    assert.doesNotMatch(unknown.stderr, STACK_LINE);
  });

  it("shows one subscriber's journey: where they are and every step they took", async () => {
    const table = await mk("report", "sequence", "onboarding", "--subscriber", "Ana@example.test");
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.split("\n");
    assert.match(lines[0]!, /^onboarding v1 for Ana@example\.test, enrolled \d{4}-\d\d-\d\d \d\d:\d\d UTC by event signup-ana: active, next step 3 \(bought\) at \d{4}-\d\d-\d\d 02:00 UTC$/);
    assert.match(lines[1]!, /^ {2}\S+ \S+ UTC {2}step 1 \(welcome\) {2}send {6}queued$/);
    assert.match(lines[2]!, /^ {2}\S+ \S+ UTC {2}step 2 \(pause\) {4}wait {6}until \S+T02:00:00\.000Z$/, "09:00 in Ana's zone, Bangkok");
    for (const format of [["--format", "json"], ["--json"]]) {
      const json = JSON.parse((await mk("report", "sequence", "onboarding", "--subscriber", "ana@example.test", ...format)).stdout);
      assert.deepEqual(json.map((j: { status: string; history: { kind: string }[] }) => [j.status, j.history.map((h) => h.kind)]), [["active", ["send", "wait"]]]);
    }
    assert.equal((await mk("report", "sequence", "onboarding", "--subscriber", "cy@example.test")).stdout, "cy@example.test has never been enrolled in onboarding.\n");
    const html = await mk("report", "sequence", "onboarding", "--subscriber", "ana@example.test", "--format", "html");
    assert.equal(html.code, 1);
    assert.match(html.stderr, /^Error: MK092 /);
  });

  it("plans a change step by step, with the active enrollments it leaves on their version", async () => {
    await writeFile(file(), SEQUENCE("Five tips for your first week", "reenter: after 30d\n"));
    const plan = await mk("plan");
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, /# sequence "onboarding" will be updated in place \(2 active enrollments stay on the version they started; new enrollments start on this one\)/);
    assert.match(plan.stdout, /~ reenter = false -> "after 30d"/);
    assert.match(plan.stdout, /~ step 4 \(tips\): send "Five tips for your first week" \(templates\/welcome\.mjml\)\n\s+~ send\.subject = "Tips for your first week" -> "Five tips for your first week"/);
    const applied = await mk("apply", "--auto-approve");
    assert.match(applied.stdout, /Sequence "onboarding" is at version 2/);
  });

  it("will not delete it while enrollments are active, unless --allow-exit-active", async () => {
    await rm(file());
    const plan = await mk("plan");
    assert.equal(plan.code, 1);
    assert.match(plan.stdout, /Error: sequence "onboarding" has 2 active enrollments; deleting it ends them where they are\. Pass --allow-exit-active/);
    const apply = await mk("apply", "--auto-approve");
    assert.equal(apply.code, 1, "apply plans the same and stops");

    const allowed = await mk("plan", "--allow-exit-active");
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.match(allowed.stdout, /# sequence "onboarding" will be deleted \(ends 2 active enrollments\)/);
    const applied = await mk("apply", "--auto-approve", "--allow-exit-active");
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /2 active enrollments ended with their deleted sequence\./);
    const report = JSON.parse((await mk("report", "sequence", "onboarding", "--format", "json")).stdout) as SequenceReport;
    assert.deepEqual([report.applied, report.active, report.exitReasons], [false, 0, { "sequence-deleted": 2 }]);
  });
});
