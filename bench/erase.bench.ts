import { chmod, mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { startEmbeddedPostgres } from "../runtime/db/embedded.js";
import { migrate } from "../runtime/db/migrate.js";
import { ensureEventPartitions } from "../runtime/events/partitions.js";
import { eraseSubscriber, erasureKey } from "../runtime/subscribers/erase.js";
import type { Bench } from "./run.js";

const WORK = fileURLToPath(new URL("./.work/", import.meta.url));
const EVENTS = 10_000;
const OTHERS = 20_000;

/**
 * Erasing one subscriber who has 10,000 events (over a year of monthly
 * partitions), among 20,000 others with 10 events each, plus 1,000 dead
 * letters to search: the median of 5 erasures, each of a fresh such subscriber.
 */
const bench: Bench = async (report) => {
  await mkdir(WORK, { recursive: true });
  await chmod(WORK, 0o755);
  const dir = path.join(WORK, "erase");
  await rm(dir, { recursive: true, force: true });
  const db = await startEmbeddedPostgres(dir);
  const pool = new pg.Pool({ connectionString: db.url, max: 4 });
  const key = erasureKey("bench-signing-secret-0123456789-0123456789");
  try {
    await migrate(db.url);
    await ensureEventPartitions(pool);
    await pool.query("insert into subscribers (email) select 'other' || i || '@example.test' from generate_series(1, $1) i", [OTHERS]);
    await pool.query(
      `insert into events (subscriber_id, name, occurred_at, data, ip)
       select s.id, 'page_view', now() - (g % 365) * interval '1 day', jsonb_build_object('page', g), '203.0.113.1'
       from subscribers s, generate_series(1, 10) g`,
    );
    await pool.query("insert into event_dead_letters (reason, payload) select 'occurredAt: invalid', jsonb_build_object('subscriber', jsonb_build_object('email', 'other' || i || '@example.test'))::text from generate_series(1, 1000) i");
    const times: number[] = [];
    for (let run = 0; run < 5; run++) {
      const email = `heavy${run}@example.test`;
      const { rows } = await pool.query<{ id: string }>("insert into subscribers (email, first_name) values ($1, 'Heavy') returning id", [email]);
      await pool.query(
        `insert into events (subscriber_id, name, occurred_at, data, ip)
         select $1, 'page_view', now() - (g % 365) * interval '1 day', jsonb_build_object('page', g, 'email', $2::text), '198.51.100.1'
         from generate_series(1, $3) g`,
        [rows[0]!.id, email, EVENTS],
      );
      await pool.query("analyze events");
      const started = performance.now();
      await eraseSubscriber(pool, key, email, "bench");
      times.push(performance.now() - started);
    }
    const median = times.sort((a, b) => a - b)[2]!;
    report({ name: `erase a subscriber with ${EVENTS.toLocaleString("en-US")} events`, value: `${median.toFixed(0)} ms median`, goal: { text: "< 1 s", met: median < 1000 } });
  } finally {
    await pool.end();
    await db.stop();
    await rm(dir, { recursive: true, force: true });
  }
};

export default bench;
