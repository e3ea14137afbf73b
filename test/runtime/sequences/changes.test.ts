import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { stopDatabase } from "../../helpers/database.js";
import { startRuntime, type TestRuntime } from "../../helpers/runtime.js";
import { addSubscribers, applyCampaigns, applyRequest, query, type SequenceFixture } from "../../helpers/sending.js";
import { waitFor } from "../../helpers/wait-for.js";

after(() => stopDatabase(), { timeout: 120_000 });

const T0 = new Date("2026-11-23T08:00:00Z");
const DAY = 86_400_000;
const welcome = { name: "welcome", send: { template: "templates/hello.mjml", subject: "Welcome" } };
const pause = { name: "pause", wait: "1d" };
const tips = (subject: string) => ({ name: "tips", send: { template: "templates/tips.mjml", subject } });
const sequence = (steps: Record<string, unknown>[], extra: Record<string, unknown> = {}): SequenceFixture => ({ name: "onboarding", trigger: { event: "signup" }, steps, ...extra });

describe("changing a live sequence through apply", { timeout: 180_000 }, () => {
  let rt: TestRuntime;
  let now = T0;
  let tipsHtml = "<html><body>Tips</body></html>";
  let key = 0;
  const apply = (sequences: SequenceFixture[], allowExitActive = false) => applyCampaigns(rt, [], {}, { sequences, templates: { "templates/tips.mjml": tipsHtml }, allowExitActive });
  const signup = async (...emails: string[]) => {
    const events = emails.map((email) => ({ idempotencyKey: `k${++key}`, type: "signup", subscriber: { email }, occurredAt: now.toISOString() }));
    assert.equal((await rt.api("/v1/events", { body: { events } })).body.accepted, emails.length);
  };
  const enrollments = () =>
    query<{ email: string; version: number; step: number; status: string; exit_reason: string | null }>(
      rt.databaseUrl,
      "select s.email, e.version, e.step, e.status, e.exit_reason from enrollments e join subscribers s on s.id = e.subscriber_id order by s.email",
    );
  const waiting = async (n: number) => waitFor(async () => (await enrollments()).filter((e) => e.status === "active" && e.step === 2).length === n, 30_000, `${n} enrollments waiting`);

  before(async () => {
    rt = await startRuntime({ MK_WORKERS: "1" }, undefined, { clock: () => now });
    await addSubscribers(rt.databaseUrl, 5);
  }, { timeout: 120_000 });
  after(() => rt.close(), { timeout: 120_000 });

  it("keeps active enrollments on the version they started on; new ones start on the new version", async () => {
    assert.deepEqual((await apply([sequence([welcome, pause, tips("Tips v1")])])).sequenceVersions, { onboarding: 1 });
    await signup("s1@example.test", "s2@example.test");
    await waiting(2);
    assert.deepEqual((await apply([sequence([welcome, pause, tips("Tips v2")])])).sequenceVersions, { onboarding: 2 });
    await signup("s3@example.test");
    await waiting(3);
    assert.deepEqual((await enrollments()).map((e) => [e.email, e.version]), [["s1@example.test", 1], ["s2@example.test", 1], ["s3@example.test", 2]]);
    assert.deepEqual((await rt.api("/v1/state")).body.sequences, { onboarding: { active: 3, byVersion: { "1": 2, "2": 1 } } });
  });

  it("with migrate: by-step-name, moves them to the step of the same name in the new version", async () => {
    const extra = { name: "extra", send: { template: "templates/hello.mjml", subject: "Extra" } };
    const result = await apply([sequence([welcome, extra, pause, tips("Tips v3")], { migrate: "by-step-name" })]);
    assert.deepEqual(result.sequenceVersions, { onboarding: 3 });
    assert.equal(result.enrollmentsMigrated, 3);
    assert.deepEqual((await enrollments()).map((e) => [e.version, e.step]), [[3, 3], [3, 3], [3, 3]], "at tips, which is step 4 now");
    const [moved] = await query<{ outcome: string }>(rt.databaseUrl, "select outcome from enrollment_history where kind = 'migrate' order by id limit 1");
    assert.equal(moved!.outcome, "from v1 step 3 (tips)");

    now = new Date(T0.getTime() + DAY);
    await waitFor(async () => (await enrollments()).every((e) => e.status === "completed"), 30_000, "completion");
    await waitFor(async () => (await query(rt.databaseUrl, "select 1 from outbox where subject = 'Tips v3'")).length === 3, 30_000, "tips v3");
    const subjects = await query<{ subject: string; n: number }>(rt.databaseUrl, "select subject, count(*)::int as n from outbox group by subject order by subject");
    assert.deepEqual(subjects, [{ subject: "Tips v3", n: 3 }, { subject: "Welcome", n: 3 }], "nobody got the step they had passed, nor an old version's");
  });

  it("makes a new version when only a template a step sends changes", async () => {
    tipsHtml = "<html><body>Better tips</body></html>";
    const result = await apply([sequence([welcome, { name: "extra", send: { template: "templates/hello.mjml", subject: "Extra" } }, pause, tips("Tips v3")], { migrate: "by-step-name" })]);
    assert.deepEqual(result.sequenceVersions, { onboarding: 4 });
    const same = await apply([sequence([welcome, { name: "extra", send: { template: "templates/hello.mjml", subject: "Extra" } }, pause, tips("Tips v3")], { migrate: "by-step-name" })]);
    assert.equal(same.sequenceVersions, undefined, "nothing changed, no version");
  });

  it("makes a new version when only a catalog changes: its send steps' snapshots hold the applied catalogs", async () => {
    const steps = [welcome, { name: "extra", send: { template: "templates/hello.mjml", subject: "Extra" } }, pause, tips("Tips v3")];
    const withCatalog = (greeting: string) =>
      applyCampaigns(rt, [], {}, {
        sequences: [sequence(steps, { migrate: "by-step-name" })],
        templates: { "templates/tips.mjml": tipsHtml },
        project: { defaults: { from: "Nomad Desk <hello@nomaddesk.example>", timezone: "Europe/Lisbon", postalAddress: "1 Rua, Lisbon", locale: "en" }, locales: { supported: ["en"], missing: "error" } },
        resources: [{ kind: "Catalog", name: "en", spec: { messages: { greeting } } }],
      });
    const first = (await withCatalog("Hello")).sequenceVersions?.["onboarding"];
    assert.ok(first !== undefined && first > 4, "the project's locales make a version");
    assert.deepEqual((await withCatalog("Hello again")).sequenceVersions, { onboarding: first + 1 }, "the catalog alone changed");
    assert.equal((await withCatalog("Hello again")).sequenceVersions, undefined, "nothing changed, no version");
  });

  it("refuses a sequence it could not run, naming the request field", async () => {
    const bad = await applyRequest(rt, [], {}, { sequences: [sequence([welcome, { wait: "2 days" }], { reenter: "sometimes" })], templates: { "templates/tips.mjml": tipsHtml } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, "invalid_request");
    const paths = bad.body.error.fields.map((f: { path: string }) => f.path);
    assert.deepEqual(paths, ["resources[1].spec.reenter", "resources[1].spec.steps[1].wait"], "resources[0] is the extra template");
  });

  it("refuses to delete a sequence with active enrollments unless told to, then ends them", async () => {
    await signup("s4@example.test");
    await waitFor(async () => (await enrollments()).some((e) => e.email === "s4@example.test" && e.status === "active" && e.step === 3), 30_000, "s4 waiting");
    const refused = await applyRequest(rt, [], {}, { sequences: [], templates: { "templates/tips.mjml": tipsHtml } });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error.code, "sequence_active");
    assert.match(refused.body.error.message, /sequence "onboarding" has 1 active enrollment; .*--allow-exit-active/);

    const result = await apply([], true);
    assert.equal(result.enrollmentsExited, 1);
    const s4 = (await enrollments()).find((e) => e.email === "s4@example.test")!;
    assert.deepEqual([s4.status, s4.exit_reason], ["exited", "sequence-deleted"]);

    // A signup now enrolls nobody; the report still reads the deleted sequence's history.
    await signup("s5@example.test");
    assert.equal((await enrollments()).length, 4);
    const report = await rt.api("/v1/reports/sequences/onboarding");
    assert.equal(report.status, 200);
    assert.equal(report.body.applied, false);
    assert.deepEqual(report.body.exitReasons, { "sequence-deleted": 1 });
    assert.equal(report.body.completed, 3);
  });
});
