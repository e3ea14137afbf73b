import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { after, describe, it } from "node:test";
import { FileClock } from "../../helpers/clock.js";
import { stopDatabase } from "../../helpers/database.js";
import { startRuntime } from "../../helpers/runtime.js";
import { startWorkerProcess } from "../../helpers/worker-process.js";
import { addSubscribers, applyCampaigns, query } from "../../helpers/sending.js";

const WORKER = fileURLToPath(new URL("../../helpers/sequence-worker-process.ts", import.meta.url));
const ROUNDS = Number(process.env["MK_CRASH_ROUNDS"] ?? 4);
const ENROLLMENTS = 2000;
const MINUTE = 60_000;
/** Signups come in 20 batches, 30 s of the sequence's clock apart. */
const SIGNUP_BATCHES = 20;
const SIGNUP_GAP = MINUTE / 2;
/**
 * The journey, from the first signup to the last enrollment's last step:
 * 10 minutes of signups, then two waits of 10 minutes. Each round moves the
 * clock on by JOURNEY / (ROUNDS + 1), so every round has steps falling due
 * (and a worker to kill while it runs them), and the last round still ends
 * before the last enrollments' final step: each kill lands mid-journey
 * however fast the machine is.
 */
const JOURNEY = 30 * MINUTE;
const CLOCK = new FileClock(path.join(mkdtempSync(path.join(tmpdir(), "mk-seq-clock-")), "now"));

after(async () => {
  await stopDatabase();
  rmSync(path.dirname(CLOCK.file), { recursive: true, force: true });
}, { timeout: 120_000 });

const startWorker = (databaseUrl: string) => startWorkerProcess(WORKER, databaseUrl, { MK_WORKERS: "2", MK_TEST_CLOCK_FILE: CLOCK.file });

const progress = async (databaseUrl: string) =>
  (await query<{ steps: number; completed: number }>(databaseUrl, "select (select count(*)::int from enrollment_history) as steps, (select count(*)::int from enrollments where status = 'completed') as completed"))[0]!;

describe("sequence crash safety", { timeout: 360_000 }, () => {
  it(`a worker SIGKILLed ${ROUNDS} times between and during steps: every enrollment resumes where it was, no step twice, none skipped`, { timeout: 300_000 }, async (t) => {
    const origin = Date.now();
    CLOCK.set(origin);
    const rt = await startRuntime({}, undefined, { clock: CLOCK.now });
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
      const perBatch = ENROLLMENTS / SIGNUP_BATCHES;
      for (let batch = 0; batch < SIGNUP_BATCHES; batch++) {
        CLOCK.set(origin + batch * SIGNUP_GAP);
        const events = Array.from({ length: perBatch }, (_, i) => ({
          idempotencyKey: `signup-${batch * perBatch + i + 1}`,
          type: "signup",
          subscriber: { email: `s${batch * perBatch + i + 1}@example.test` },
          occurredAt: CLOCK.now().toISOString(),
        }));
        assert.equal((await rt.api("/v1/events", { body: { events } })).body.accepted, events.length);
      }

      const seen: string[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        CLOCK.set(origin + ((round + 1) * JOURNEY) / (ROUNDS + 1));
        const before = (await progress(rt.databaseUrl)).steps;
        const child = await startWorker(rt.databaseUrl);
        // Once this worker has committed something, kill it at a random moment soon after: mid-batch or between steps.
        const committed = Date.now() + 60_000;
        while ((await progress(rt.databaseUrl)).steps === before) {
          assert.ok(Date.now() < committed, `round ${round + 1}: the worker committed nothing in 60 s (after each kill so far: ${seen.join(", ")})`);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 300));
        child.kill("SIGKILL");
        await once(child, "exit");
        const p = await progress(rt.databaseUrl);
        seen.push(`${p.steps} steps/${p.completed} done`);
      }
      t.diagnostic(`after each kill: ${seen.join(", ")}`);
      assert.ok((await progress(rt.databaseUrl)).completed < ENROLLMENTS, `the kills landed mid-journey (${seen.join(", ")})`);

      // The rest of the journey for a last worker: the clock moves a wait's length every 250 ms until all is done.
      let now = origin + JOURNEY;
      const child = await startWorker(rt.databaseUrl);
      const deadline = Date.now() + 180_000;
      const finished = async () => {
        const [row] = await query<{ active: number; unsent: number }>(
          rt.databaseUrl,
          "select (select count(*)::int from enrollments where status <> 'completed') as active, (select count(*)::int from sends where status <> 'sent') as unsent",
        );
        return row!.active === 0 && row!.unsent === 0;
      };
      while (!(await finished()) && Date.now() < deadline) {
        CLOCK.set((now += 10 * MINUTE));
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
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
