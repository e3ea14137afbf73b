import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { stopDatabase } from "../../helpers/database.js";
import { startRuntime, type TestRuntime } from "../../helpers/runtime.js";
import { addSubscribers, applyCampaigns, query, type SequenceFixture } from "../../helpers/sending.js";
import { waitFor } from "../../helpers/wait-for.js";

after(() => stopDatabase(), { timeout: 120_000 });

const T0 = new Date("2026-11-23T08:00:00Z");
const DAY = 86_400_000;
const TIPS_HTML = "<html><body><p>Tips for {{subscriber.firstName}} from {{campaign.name}}</p></body></html>";

const onboarding: SequenceFixture = {
  name: "onboarding",
  trigger: { event: "signup" },
  audience: "everyone",
  steps: [
    { name: "welcome", send: { template: "templates/hello.mjml", subject: "Welcome, {{subscriber.firstName}}" } },
    { name: "pause", wait: "2d" },
    { name: "bought", if: { event: "purchase", within: "2d" }, then: "exit" },
    { name: "tips", send: { template: "templates/tips.mjml", subject: "Five tips for your first week" } },
  ],
};

interface Enrollment {
  id: string;
  email: string;
  status: string;
  step: number;
  next_run_at: Date | null;
  exit_reason: string | null;
}

describe("a sequence on a moved clock: signup, welcome, two days, tips unless bought", { timeout: 180_000 }, () => {
  let rt: TestRuntime;
  let now = T0;
  let key = 0;
  const event = (email: string, type: string, at: Date, extra: Record<string, unknown> = {}) => ({
    idempotencyKey: `${type}-${email}-${++key}`,
    type,
    subscriber: { email },
    occurredAt: at.toISOString(),
    ...extra,
  });
  const ingest = async (events: unknown[]) => {
    const result = await rt.api("/v1/events", { body: { events } });
    assert.equal(result.status, 200, JSON.stringify(result.body));
    return result.body as { accepted: number; duplicates: number };
  };
  const enrollments = () =>
    query<Enrollment>(
      rt.databaseUrl,
      "select e.id, s.email, e.status, e.step, e.next_run_at, e.exit_reason from enrollments e join subscribers s on s.id = e.subscriber_id order by s.email, e.enrolled_at",
    );
  const outbox = () => query<{ recipient: string; subject: string; campaign: string; html: string }>(rt.databaseUrl, "select recipient, subject, campaign, html from outbox order by recipient, created_at");
  const history = (id: string) => query<{ step: number; kind: string; outcome: string; at: Date }>(rt.databaseUrl, "select step, kind, outcome, at from enrollment_history where enrollment_id = $1 order by id", [id]);

  before(async () => {
    rt = await startRuntime({ MK_WORKERS: "1" }, undefined, { clock: () => now });
    await addSubscribers(rt.databaseUrl, 4);
    await query(rt.databaseUrl, "insert into subscribers (email, first_name) values ('no-consent@example.test', 'Nope')");
    const applied = await applyCampaigns(rt, [], {}, { sequences: [onboarding], templates: { "templates/tips.mjml": TIPS_HTML } });
    assert.deepEqual(applied.sequenceVersions, { onboarding: 1 });
  }, { timeout: 120_000 });
  after(() => rt.close(), { timeout: 120_000 });

  it("enrolls on signup and sends the welcome at once", async () => {
    const result = await ingest([event("s1@example.test", "signup", T0), event("s2@example.test", "signup", T0), event("no-consent@example.test", "signup", T0)]);
    assert.equal(result.accepted, 3);
    await waitFor(async () => (await outbox()).length === 2, 30_000, "two welcome messages");
    const messages = await outbox();
    assert.deepEqual(messages.map((m) => [m.recipient, m.subject, m.campaign]), [
      ["s1@example.test", "Welcome, Name1", "onboarding/v1/step-1"],
      ["s2@example.test", "Welcome, Name2", "onboarding/v1/step-1"],
    ]);
    const rows = await enrollments();
    assert.deepEqual(rows.map((r) => r.email), ["s1@example.test", "s2@example.test"], "no marketing consent: not enrolled in a marketing sequence");
    for (const row of rows) {
      assert.equal(row.status, "active");
      assert.equal(row.step, 2, "past the send and the wait");
      assert.equal(row.next_run_at?.toISOString(), new Date(T0.getTime() + 2 * DAY).toISOString());
    }
  });

  it("does nothing while the wait lasts", async () => {
    now = new Date(T0.getTime() + DAY);
    await ingest([event("s2@example.test", "purchase", now, { amount: { value: 1999, currency: "USD" } })]);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal((await outbox()).length, 2);
    assert.deepEqual((await enrollments()).map((r) => r.status), ["active", "active"]);
  });

  it("after two days: tips for the one who did not buy, an exit with its reason for the one who did", async () => {
    now = new Date(T0.getTime() + 2 * DAY);
    await waitFor(async () => (await enrollments()).every((r) => r.status !== "active"), 30_000, "both enrollments to end");
    await waitFor(async () => (await outbox()).length === 3, 30_000, "the tips message");
    const [s1, s2] = await enrollments();
    assert.equal(s1!.status, "completed");
    assert.equal(s2!.status, "exited");
    assert.equal(s2!.exit_reason, "condition: step 3 (bought)");

    const messages = await outbox();
    assert.deepEqual(messages.map((m) => [m.recipient, m.subject]), [
      ["s1@example.test", "Welcome, Name1"],
      ["s1@example.test", "Five tips for your first week"],
      ["s2@example.test", "Welcome, Name2"],
    ]);
    assert.match(messages[1]!.html, /Tips for Name1 from onboarding/, "campaign.name is the sequence's name in its templates");

    const at = (ms: number) => new Date(T0.getTime() + ms).toISOString();
    assert.deepEqual((await history(s1!.id)).map((h) => [h.step, h.kind, h.outcome, h.at.toISOString()]), [
      [0, "send", "queued", at(0)],
      [1, "wait", `until ${at(2 * DAY)}`, at(0)],
      [2, "if", "not matched", at(2 * DAY)],
      [3, "send", "queued", at(2 * DAY)],
      [4, "complete", "completed", at(2 * DAY)],
    ]);
    assert.deepEqual((await history(s2!.id)).map((h) => [h.step, h.kind, h.outcome]), [
      [0, "send", "queued"],
      [1, "wait", `until ${at(2 * DAY)}`],
      [2, "if", "matched"],
      [2, "exit", "condition: step 3 (bought)"],
    ]);
  });

  it("reports enrollments by status and exit reason, and a funnel per step", async () => {
    const report = await rt.api("/v1/reports/sequences/onboarding");
    assert.equal(report.status, 200, JSON.stringify(report.body));
    const body = report.body;
    assert.equal(body.enrolled, 2);
    assert.equal(body.completed, 1);
    assert.equal(body.exited, 1);
    assert.deepEqual(body.exitReasons, { "condition: step 3 (bought)": 1 });
    assert.deepEqual(
      body.steps.map((s: { step: number; kind: string; reached: number; sent: number; exited: number }) => [s.step, s.kind, s.reached, s.sent, s.exited]),
      [
        [1, "send", 2, 2, 0],
        [2, "wait", 2, 0, 0],
        [3, "if", 2, 0, 1],
        [4, "send", 1, 1, 0],
      ],
    );
    assert.equal((await rt.api("/v1/reports/sequences/nope")).status, 404);
  });

  it("enrolls once per event however often it arrives, and not again while active", async () => {
    const signup = event("s3@example.test", "signup", now);
    await ingest([signup, signup]);
    await Promise.all([ingest([signup]), ingest([signup]), ingest([event("s3@example.test", "signup", now)])]);
    const s3 = (await enrollments()).filter((r) => r.email === "s3@example.test");
    assert.equal(s3.length, 1);
    await waitFor(async () => (await outbox()).filter((m) => m.recipient === "s3@example.test").length === 1, 30_000, "s3's welcome");
    await new Promise((resolve) => setTimeout(resolve, 700));
    assert.equal((await outbox()).filter((m) => m.recipient === "s3@example.test").length, 1);
  });

  it("an unsubscribe ends the enrollment at once, with its reason", async () => {
    await query(rt.databaseUrl, "insert into suppressions (email, reason, source) values ('s3@example.test', 'unsubscribe', 'test')");
    const s3 = (await enrollments()).find((r) => r.email === "s3@example.test")!;
    assert.equal(s3.status, "exited");
    assert.equal(s3.exit_reason, "unsubscribe");
    assert.equal(s3.next_run_at, null);
  });

  it("enrolls again once the previous enrollment ended (reenter: false means not while active)", async () => {
    await ingest([event("s1@example.test", "signup", now)]);
    const s1 = (await enrollments()).filter((r) => r.email === "s1@example.test");
    assert.deepEqual(s1.map((r) => r.status), ["completed", "active"]);
  });
});
