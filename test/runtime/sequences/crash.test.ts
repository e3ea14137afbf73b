import assert from "node:assert/strict";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { after, describe, it } from "node:test";
import { fastClock } from "../../helpers/clock.js";
import { stopDatabase } from "../../helpers/database.js";
import { startRuntime } from "../../helpers/runtime.js";
import { startWorkerProcess } from "../../helpers/worker-process.js";
import { addSubscribers, applyCampaigns, query } from "../../helpers/sending.js";

const WORKER = fileURLToPath(new URL("../../helpers/sequence-worker-process.ts", import.meta.url));
const ROUNDS = Number(process.env["MK_CRASH_ROUNDS"] ?? 4);
const ENROLLMENTS = 2000;
/** A minute of the sequence's clock passes in 100 ms. */
const SPEED = 600;

after(() => stopDatabase());

const startWorker = (databaseUrl: string, origin: number) =>
  startWorkerProcess(WORKER, databaseUrl, { MK_WORKERS: "2", MK_TEST_CLOCK_ORIGIN: String(origin), MK_TEST_CLOCK_SPEED: String(SPEED) });

const progress = async (databaseUrl: string) =>
  (await query<{ steps: number; completed: number }>(databaseUrl, "select (select count(*)::int from enrollment_history) as steps, (select count(*)::int from enrollments where status = 'completed') as completed"))[0]!;

describe("sequence crash safety", () => {
  it(`a worker SIGKILLed ${ROUNDS} times between and during steps: every enrollment resumes where it was, no step twice, none skipped`, { timeout: 300_000 }, async (t) => {
    const origin = Date.now();
    const rt = await startRuntime({}, undefined, { clock: fastClock(origin, SPEED) });
    try {
      await addSubscribers(rt.databaseUrl, ENROLLMENTS);
      await applyCampaigns(rt, [], { maxPerSecond: 100_000 }, {
        sequences: [
          {
            name: "drip",
            trigger: { event: "signup" },
            steps: [
              { name: "one", send: { template: "templates/hello.mjml", subject: "One" } },
              { wait: "10m" },
              { name: "two", send: { template: "templates/hello.mjml", subject: "Two" } },
              { wait: "10m" },
              { name: "three", send: { template: "templates/hello.mjml", subject: "Three" } },
            ],
          },
        ],
      });
      for (let start = 1; start <= ENROLLMENTS; start += 1000) {
        const events = Array.from({ length: Math.min(1000, ENROLLMENTS - start + 1) }, (_, i) => ({
          idempotencyKey: `signup-${start + i}`,
          type: "signup",
          subscriber: { email: `s${start + i}@example.test` },
          occurredAt: new Date().toISOString(),
        }));
        assert.equal((await rt.api("/v1/events", { body: { events } })).body.accepted, events.length);
      }

      const seen: string[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const before = (await progress(rt.databaseUrl)).steps;
        const child = await startWorker(rt.databaseUrl, origin);
        // Once this worker has committed something, kill it at a random moment soon after: mid-batch or between steps.
        while ((await progress(rt.databaseUrl)).steps === before) await new Promise((resolve) => setTimeout(resolve, 20));
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 300));
        child.kill("SIGKILL");
        await once(child, "exit");
        const p = await progress(rt.databaseUrl);
        seen.push(`${p.steps} steps/${p.completed} done`);
      }
      t.diagnostic(`after each kill: ${seen.join(", ")}`);
      assert.ok((await progress(rt.databaseUrl)).completed < ENROLLMENTS, `the kills landed mid-journey (${seen.join(", ")})`);

      const child = await startWorker(rt.databaseUrl, origin);
      const deadline = Date.now() + 180_000;
      const finished = async () => {
        const [row] = await query<{ active: number; unsent: number }>(
          rt.databaseUrl,
          "select (select count(*)::int from enrollments where status <> 'completed') as active, (select count(*)::int from sends where status <> 'sent') as unsent",
        );
        return row!.active === 0 && row!.unsent === 0;
      };
      while (!(await finished()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
      child.kill("SIGKILL");
      await once(child, "exit");

      const statuses = await query<{ status: string; n: number }>(rt.databaseUrl, "select status, count(*)::int as n from enrollments group by status");
      assert.deepEqual(statuses, [{ status: "completed", n: ENROLLMENTS }]);
      // Every enrollment took every step once, in order.
      const paths = await query<{ path: string; n: number }>(
        rt.databaseUrl,
        "select path, count(*)::int as n from (select string_agg(step || ':' || kind, ',' order by id) as path from enrollment_history group by enrollment_id) p group by path",
      );
      assert.deepEqual(paths, [{ path: "0:send,1:wait,2:send,3:wait,4:send,5:complete", n: ENROLLMENTS }]);
      // One message per enrollment and step, each in the outbox once.
      const [mail] = await query<{ sends: number; distinct_steps: number; outbox: number; subjects: string }>(
        rt.databaseUrl,
        `select (select count(*)::int from sends) as sends,
           (select count(distinct (enrollment_id, campaign))::int from sends) as distinct_steps,
           (select count(*)::int from outbox) as outbox,
           (select string_agg(subject || '=' || n, ',' order by subject) from (select subject, count(*) as n from outbox group by subject) s) as subjects`,
      );
      assert.deepEqual(mail, { sends: 3 * ENROLLMENTS, distinct_steps: 3 * ENROLLMENTS, outbox: 3 * ENROLLMENTS, subjects: `One=${ENROLLMENTS},Three=${ENROLLMENTS},Two=${ENROLLMENTS}` });
    } finally {
      await rt.close();
    }
  });
});
