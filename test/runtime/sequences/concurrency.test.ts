import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { stopDatabase } from "../../helpers/database.js";
import { startRuntime } from "../../helpers/runtime.js";
import { addSubscribers, applyCampaigns, query } from "../../helpers/sending.js";
import { waitFor } from "../../helpers/wait-for.js";

after(() => stopDatabase(), { timeout: 120_000 });

const SUBSCRIBERS = 300;
const T0 = new Date("2026-11-23T08:00:00Z");
const DAY = 86_400_000;

describe("two runtimes ingesting the same triggers at once", { timeout: 300_000 }, () => {
  it("enroll each subscriber once and send one message per step", { timeout: 120_000 }, async () => {
    let now = T0;
    const clock = () => now;
    const a = await startRuntime({ MK_WORKERS: "2" }, undefined, { clock });
    const b = await startRuntime({ MK_WORKERS: "2" }, a.databaseUrl, { clock });
    try {
      await addSubscribers(a.databaseUrl, SUBSCRIBERS);
      await applyCampaigns(a, [], { maxPerSecond: 100_000 }, {
        sequences: [
          {
            name: "trial",
            trigger: { event: "trial_started" },
            steps: [
              { send: { template: "templates/hello.mjml", subject: "Day 0" } },
              { wait: "1d" },
              { send: { template: "templates/hello.mjml", subject: "Day 1" } },
              { wait: "1d" },
              { send: { template: "templates/hello.mjml", subject: "Day 2" } },
            ],
          },
        ],
      });
      // Each subscriber's trigger three times on each runtime, and a second, different trigger of theirs on the other.
      const trigger = (i: number, key: string) => ({ idempotencyKey: key, type: "trial_started", subscriber: { email: `s${i}@example.test` }, occurredAt: T0.toISOString() });
      const batch = (keyOf: (i: number) => string) => Array.from({ length: SUBSCRIBERS }, (_, i) => trigger(i + 1, keyOf(i + 1)));
      const posts = [
        ...Array.from({ length: 3 }, () => a.api("/v1/events", { body: { events: batch((i) => `trial-${i}`) } })),
        ...Array.from({ length: 3 }, () => b.api("/v1/events", { body: { events: batch((i) => `trial-${i}`) } })),
        b.api("/v1/events", { body: { events: batch((i) => `trial-again-${i}`).reverse() } }),
      ];
      const results = await Promise.all(posts);
      for (const r of results) assert.equal(r.status, 200, JSON.stringify(r.body));
      const accepted = results.slice(0, 6).reduce((sum, r) => sum + r.body.accepted, 0);
      assert.equal(accepted, SUBSCRIBERS, "each key stored once across both runtimes");

      const [counts] = await query<{ enrollments: number; subscribers: number }>(
        a.databaseUrl,
        "select count(*)::int as enrollments, count(distinct subscriber_id)::int as subscribers from enrollments",
      );
      assert.deepEqual(counts, { enrollments: SUBSCRIBERS, subscribers: SUBSCRIBERS }, "one enrollment each: the second trigger came while they were active");

      const outbox = async () => Object.fromEntries((await query<{ subject: string; n: number }>(a.databaseUrl, "select subject, count(*)::int as n from outbox group by subject")).map((r) => [r.subject, r.n]));
      await waitFor(async () => (await outbox())["Day 0"] === SUBSCRIBERS, 60_000, "day 0 messages");
      now = new Date(T0.getTime() + DAY);
      await waitFor(async () => (await outbox())["Day 1"] === SUBSCRIBERS, 60_000, "day 1 messages");
      now = new Date(T0.getTime() + 2 * DAY);
      await waitFor(async () => (await query(a.databaseUrl, "select 1 from enrollments where status = 'completed'")).length === SUBSCRIBERS, 60_000, "completion");
      await waitFor(async () => (await outbox())["Day 2"] === SUBSCRIBERS, 60_000, "day 2 messages");
      await new Promise((resolve) => setTimeout(resolve, 700));
      assert.deepEqual(await outbox(), { "Day 0": SUBSCRIBERS, "Day 1": SUBSCRIBERS, "Day 2": SUBSCRIBERS });
      const [per] = await query<{ max: number }>(a.databaseUrl, "select max(n)::int as max from (select count(*) as n from outbox group by recipient, subject) x");
      assert.equal(per!.max, 1, "nobody got a step twice");
    } finally {
      await b.close();
      await a.close();
    }
  });
});
