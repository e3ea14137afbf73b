import { rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { Registry } from "prom-client";
import { startEmbeddedPostgres } from "../runtime/db/embedded.js";
import { migrate } from "../runtime/db/migrate.js";
import { ingestEvents } from "../runtime/events/ingest.js";
import { createSending } from "../runtime/sending/service.js";
import { SequenceWorker } from "../runtime/sequences/worker.js";
import { sha256 } from "../runtime/state/canonical.js";
import { applyState } from "../runtime/state/store.js";
import { loadConfig } from "../runtime/config.js";
import type { Bench } from "./run.js";

const WORK = fileURLToPath(new URL("./.work/sequences/", import.meta.url));
const ENROLLMENTS = 10_000;
const BATCH = 500;
const HTML = '<html><body><p>Hi {{subscriber.firstName}}</p><a href="https://nomaddesk.example/offer">Offer</a><a href="{{unsubscribeUrl}}">Unsubscribe</a></body></html>';
const quiet = { info: () => {}, warn: () => {}, error: (object: object, message: string) => console.error(message, object) };
/** The sequence's clock runs 60,000× fast from the enrollments on: the 1-minute wait lasts a millisecond. */
const T0 = new Date("2026-11-23T08:00:00Z");
const origin = Date.now();
const clock = () => new Date(T0.getTime() + (Date.now() - origin) * 60_000);

async function ingest(pool: pg.Pool, type: string, prefix: string): Promise<number> {
  const started = performance.now();
  for (let start = 1; start <= ENROLLMENTS; start += BATCH) {
    const events = Array.from({ length: BATCH }, (_, i) => ({
      idempotencyKey: `${prefix}-${start + i}`,
      type,
      subscriber: { email: `s${start + i}@bench.example` },
      occurredAt: T0.toISOString(),
    }));
    await ingestEvents(pool, events, { deadLetter: true, attributionWindowMs: 7 * 86_400_000, clock: () => T0 });
  }
  return (ENROLLMENTS * 1000) / (performance.now() - started);
}

/** Run `workers` sequence workers until every enrollment completed; steps per second. */
async function runWorkers(pool: pg.Pool, workers: number): Promise<number> {
  const started = performance.now();
  const all = Array.from({ length: workers }, () => new SequenceWorker({ pool, clock, log: quiet, idleMs: 20 }));
  all.forEach((w) => w.start());
  for (;;) {
    const { rows } = await pool.query<{ n: number }>("select count(*)::int as n from enrollments where status = 'active'");
    if (rows[0]!.n === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const elapsed = performance.now() - started;
  await Promise.all(all.map((w) => w.stop()));
  const { rows } = await pool.query<{ n: number }>("select count(*)::int as n from enrollment_history where kind in ('send', 'wait', 'if')");
  return (rows[0]!.n * 1000) / elapsed;
}

async function reset(pool: pg.Pool): Promise<void> {
  await pool.query("delete from outbox; delete from sends; delete from enrollments; delete from event_keys; delete from events");
}

/**
 * Sequences: 10,000 enrollments through a three-step sequence (send, wait
 * 1 minute, send) by two workers and by one, side by side; the cost of
 * enrolling at ingest (trigger events against events that trigger nothing);
 * and the same journey end to end with two send workers writing the outbox.
 */
const bench: Bench = async (report) => {
  report({ name: `(sequences: ${ENROLLMENTS.toLocaleString("en")} enrollments, send → wait 1m → send)`, value: "" });
  await rm(WORK, { recursive: true, force: true });
  const db = await startEmbeddedPostgres(WORK);
  try {
    await migrate(db.url);
    const pool = new pg.Pool({ connectionString: db.url, max: 12 });
    // PostgreSQL stopping at the end closes idle connections: not a failure of the bench.
    pool.on("error", () => {});
    await applyState(pool, {
      baseSerial: 0,
      source: { commit: null, author: null, branch: null, dirty: false },
      templates: [{ hash: sha256(HTML), html: HTML }],
      resources: [
        { kind: "Project", name: "bench", spec: { name: "bench", defaults: { from: "Bench <b@bench.example>", timezone: "UTC", postalAddress: "1 Bench St" }, sending: { provider: "outbox", maxPerSecond: 1_000_000, pricePer1000Usd: 0.1 } } },
        { kind: "Template", name: "templates/t.mjml", spec: { html: sha256(HTML), files: {} } },
        {
          kind: "Sequence",
          name: "drip",
          spec: {
            trigger: { event: "signup" },
            steps: [
              { name: "hello", send: { template: "templates/t.mjml", subject: "Hello {{subscriber.firstName}}" } },
              { wait: "1m" },
              { name: "again", send: { template: "templates/t.mjml", subject: "Again, {{subscriber.firstName}}" } },
            ],
          },
        },
      ],
    });
    await pool.query(
      `insert into subscribers (email, first_name, timezone, consent)
       select 's' || i || '@bench.example', 'Name' || i, (array['Europe/Lisbon','Asia/Bangkok','America/New_York'])[1 + i % 3], 'marketing'
       from generate_series(1, $1) as i`,
      [ENROLLMENTS],
    );

    // 1. Ingest: events that trigger nothing, then the signups that enroll.
    const plain = await ingest(pool, "page_view", "view");
    const enrolling = await ingest(pool, "signup", "signup");
    report({ name: "ingest, events that trigger nothing", value: `${Math.round(plain).toLocaleString("en")} events/s` });
    report({
      name: "ingest, signups that enroll (event + enrollment)",
      value: `${Math.round(enrolling).toLocaleString("en")} events/s (${(enrolling / plain).toFixed(2)}× of plain)`,
      goal: { text: "≥ 0.8× of plain", met: enrolling / plain >= 0.8 },
    });

    // 2. Steps: two workers, then one, on the same enrollments.
    const two = await runWorkers(pool, 2);
    report({ name: "enrollment steps, 2 workers", value: `${Math.round(two).toLocaleString("en")} steps/s`, goal: { text: "≥ 1,000 steps/s", met: two >= 1000 } });
    await reset(pool);
    await ingest(pool, "signup", "signup");
    const one = await runWorkers(pool, 1);
    report({ name: "enrollment steps, 1 worker", value: `${Math.round(one).toLocaleString("en")} steps/s (2 workers: ${(two / one).toFixed(2)}×)` });

    // 3. End to end: the same journey with two send workers writing the outbox meanwhile.
    await reset(pool);
    await ingest(pool, "signup", "signup");
    const config = loadConfig({ DATABASE_URL: db.url, MK_API_TOKEN: "bench-token-0123456789-0123456789", MK_SIGNING_SECRET: "bench-signing-secret-0123456789-0123456789", MK_WORKERS: "2", LOG_LEVEL: "silent" });
    const sending = createSending(config, pool, new Registry(), quiet);
    const started = performance.now();
    sending.start();
    const steps = await runWorkers(pool, 2);
    for (;;) {
      const { rows } = await pool.query<{ n: number }>("select count(*)::int as n from outbox");
      if (rows[0]!.n >= 2 * ENROLLMENTS) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const messages = (2 * ENROLLMENTS * 1000) / (performance.now() - started);
    await sending.stop();
    report({ name: "end to end, steps with 2 send workers running", value: `${Math.round(steps).toLocaleString("en")} steps/s` });
    report({ name: "end to end, messages in the outbox", value: `${Math.round(messages).toLocaleString("en")} messages/s` });
    await pool.end();
  } finally {
    await db.stop();
    await rm(WORK, { recursive: true, force: true });
  }
};

export default bench;
