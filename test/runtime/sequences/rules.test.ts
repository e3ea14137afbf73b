import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { SequenceWorker } from "../../../runtime/sequences/worker.js";
import { stopDatabase } from "../../helpers/database.js";
import { startRuntime, type TestRuntime } from "../../helpers/runtime.js";
import { addSubscribers, applyCampaigns, query, type SequenceFixture } from "../../helpers/sending.js";

after(() => stopDatabase(), { timeout: 120_000 });

const T0 = new Date("2026-11-23T08:00:00Z");
const DAY = 86_400_000;
const send = (subject: string) => ({ send: { template: "templates/hello.mjml", subject } });

const receipts: SequenceFixture = { name: "receipts", trigger: { event: "purchase" }, transactional: true, reenter: true, steps: [send("Your receipt")] };
const winback: SequenceFixture = { name: "winback", trigger: { event: "trial_ended" }, reenter: "after 30d", steps: [send("We miss you"), { wait: "1d" }, send("Last chance")] };
const tips: SequenceFixture = { name: "tips", trigger: { event: "joined" }, topic: "product-news", steps: [send("Tip 1"), { wait: "1d" }, send("Tip 2")] };
const checks: SequenceFixture = { name: "checks", trigger: { event: "quiz" }, steps: [{ if: { audience: "testers" }, then: "exit" }, send("Results")] };

/** Enrollment rules, worked by one SequenceWorker called directly on a moved clock. */
describe("sequence enrollment and exit rules", { timeout: 180_000 }, () => {
  let rt: TestRuntime;
  let now = T0;
  let key = 0;
  let worker: SequenceWorker;
  const fire = async (email: string, type: string, extra: Record<string, unknown> = {}) => {
    const r = await rt.api("/v1/events", { body: { events: [{ idempotencyKey: `e${++key}`, type, subscriber: { email }, occurredAt: now.toISOString(), ...extra }] } });
    assert.equal(r.body.accepted, 1, JSON.stringify(r.body));
  };
  const work = async () => {
    while ((await worker.runOnce()) > 0);
  };
  const enrollments = (sequence: string) =>
    query<{ email: string; status: string; exit_reason: string | null }>(
      rt.databaseUrl,
      "select s.email, e.status, e.exit_reason from enrollments e join subscribers s on s.id = e.subscriber_id where e.sequence = $1 order by e.enrolled_at, s.email",
      [sequence],
    );
  const sends = (sequence: string) =>
    query<{ email: string; subject: string }>(
      rt.databaseUrl,
      "select s.email, c.snapshot -> 'variants' -> 0 ->> 'subject' as subject from sends s join campaign_sends c on c.campaign = s.campaign where c.sequence = $1 order by s.created_at, s.email",
      [sequence],
    );

  before(async () => {
    rt = await startRuntime({}, undefined, { clock: () => now });
    worker = new SequenceWorker({ pool: rt.pool, clock: () => now, log: { info: () => {}, warn: () => {}, error: () => {} } });
    await addSubscribers(rt.databaseUrl, 3);
    await query(rt.databaseUrl, "insert into subscribers (email, first_name) values ('no-consent@example.test', 'Nope')");
    await applyCampaigns(rt, [], {}, { sequences: [receipts, winback, checks, tips], project: { topics: [{ name: "product-news", title: "Product news", default: "opt-in" }] } });
  }, { timeout: 120_000 });
  after(() => rt.close(), { timeout: 120_000 });

  it("a transactional sequence mails without marketing consent; reenter: true enrolls on every trigger", async () => {
    const amount = { amount: { value: 500, currency: "USD" } };
    await fire("no-consent@example.test", "purchase", amount);
    await fire("no-consent@example.test", "purchase", amount);
    assert.deepEqual((await enrollments("receipts")).map((e) => e.status), ["active", "active"]);
    await work();
    assert.deepEqual((await sends("receipts")).map((s) => [s.email, s.subject]), [
      ["no-consent@example.test", "Your receipt"],
      ["no-consent@example.test", "Your receipt"],
    ]);
    assert.deepEqual((await enrollments("receipts")).map((e) => e.status), ["completed", "completed"]);
  });

  it("reenter: after 30d enrolls again only 30 days after the last enrollment began", async () => {
    await fire("s1@example.test", "trial_ended");
    await work();
    now = new Date(T0.getTime() + DAY);
    await work();
    assert.deepEqual((await enrollments("winback")).map((e) => e.status), ["completed"]);
    now = new Date(T0.getTime() + 2 * DAY);
    await fire("s1@example.test", "trial_ended");
    assert.equal((await enrollments("winback")).length, 1, "within 30 days: not again");
    now = new Date(T0.getTime() + 31 * DAY);
    await fire("s1@example.test", "trial_ended");
    assert.deepEqual((await enrollments("winback")).map((e) => e.status), ["completed", "active"]);
  });

  it("consent withdrawn mid-journey ends a marketing sequence before its next mail", async () => {
    await fire("s2@example.test", "trial_ended");
    await work();
    await query(rt.databaseUrl, "update subscribers set consent = null where email = 's2@example.test'");
    now = new Date(now.getTime() + DAY);
    await work();
    const s2 = (await enrollments("winback")).find((e) => e.email === "s2@example.test")!;
    assert.deepEqual([s2.status, s2.exit_reason], ["exited", "no-consent"]);
    assert.deepEqual((await sends("winback")).filter((s) => s.email === "s2@example.test").map((s) => s.subject), ["We miss you"]);
  });

  it("marks enrollments failed, with the reason, when a step cannot run, and goes on with the rest", async () => {
    await fire("s3@example.test", "quiz");
    await fire("s3@example.test", "trial_ended");
    await work();
    const [quiz] = await enrollments("checks");
    assert.equal(quiz!.status, "failed");
    assert.match(quiz!.exit_reason!, /^step 1: audience "testers" does not exist/);
    assert.equal((await enrollments("winback")).find((e) => e.email === "s3@example.test")!.status, "active", "the other enrollment in the batch ran");
  });

  it("exposes active enrollments per sequence, steps due and timer lag as Prometheus metrics", async () => {
    // s3's winback waits until a day after its first mail; a day after that, nobody has worked it.
    now = new Date(now.getTime() + 2 * DAY);
    const metrics = await fetch(`${rt.url}/metrics`).then((r) => r.text());
    assert.match(metrics, /^mk_sequence_enrollments_active\{sequence="winback"\} 1$/m);
    assert.match(metrics, /^mk_sequence_timer_lag_seconds 86400$/m);
    assert.match(metrics, /^mk_sequence_steps_due 1$/m);
  });

  it("a sequence about a topic enrolls only those who consent to it, and ends when they leave it before the next mail", async () => {
    await query(rt.databaseUrl, "insert into subscribers (email, first_name, consent) values ('topical@example.test', 'Tia', 'marketing'), ('untopical@example.test', 'Uma', 'marketing')");
    await query(rt.databaseUrl, "insert into consent_events (subscriber_id, topic, action, source) select id, 'product-news', 'granted', 'api' from subscribers where email = 'topical@example.test'");
    await fire("topical@example.test", "joined");
    await fire("untopical@example.test", "joined");
    assert.deepEqual((await enrollments("tips")).map((e) => [e.email, e.status]), [["topical@example.test", "active"]], "untopical never chose the opt-in topic");
    await work();
    assert.deepEqual((await sends("tips")).map((s) => [s.email, s.subject]), [["topical@example.test", "Tip 1"]]);
    await query(rt.databaseUrl, "insert into consent_events (subscriber_id, topic, action, source) select id, 'product-news', 'withdrawn', 'preference-page' from subscribers where email = 'topical@example.test'");
    now = new Date(now.getTime() + DAY);
    await work();
    assert.deepEqual((await enrollments("tips")).map((e) => [e.email, e.status, e.exit_reason]), [["topical@example.test", "exited", "no-consent"]]);
    assert.equal((await sends("tips")).length, 1, "no Tip 2");
  });
});
