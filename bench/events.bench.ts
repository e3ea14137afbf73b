import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { chmod, mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { freePort, startEmbeddedPostgres } from "../runtime/db/embedded.js";
import { migrate } from "../runtime/db/migrate.js";
import { ingestEvents } from "../runtime/events/ingest.js";
import { ensureEventPartitions } from "../runtime/events/partitions.js";
import { foldRollups } from "../runtime/reports/rollups.js";
import { startCampaignNow } from "../runtime/sending/start.js";
import { sha256 } from "../runtime/state/canonical.js";
import { applyState } from "../runtime/state/store.js";
import type { Bench } from "./run.js";

const WORK = fileURLToPath(new URL("./.work/", import.meta.url));
const SERVER = fileURLToPath(new URL("../dist/runtime/server.js", import.meta.url));
const TOKEN = "bench-token-0123456789-0123456789-abcdef";
const SUBSCRIBERS = 20_000;
const CLIENTS = 4;
const BATCH = 500;
/** Events per measured path: HTTP, direct, COPY (the naive loop gets fewer: it is slow). */
const EVENTS = 100_000;
const NAIVE_EVENTS = 5_000;
const WINDOW_MS = 7 * 86_400_000;
/** The columns both COPYs write. */
const COPY_COLUMNS = "idempotency_key, subscriber_id, name, occurred_at, data, amount_minor, currency, country, send_id, campaign, variant";
/** Events per COPY measuring what each index and trigger costs, and how many times each runs (the least CPU counts: the least disturbed). */
const COST_EVENTS = 20_000;
const COST_PASSES = 5;
/** The kernel's clock ticks per second (USER_HZ), the unit of /proc/<pid>/stat's CPU times. */
const CLOCK_TICKS = 100;
/** Where that COPY goes: a name, what to drop first (in the rolled-back transaction), the table. */
const TABLE_VARIANTS: readonly (readonly [string, string | null, string])[] = [
  ["bare", "create table events_bare (like events including defaults including identity)", "events_bare"],
  ["events", null, "events"],
  ["primary key (id, occurred_at)", "alter table events drop constraint events_pkey", "events"],
  ["index events_subscriber_name_time", "drop index events_subscriber_name_time", "events"],
  ["index events_send", "drop index events_send", "events"],
  ["foreign key to subscribers", "alter table events drop constraint events_subscriber_id_fkey", "events"],
  ["trigger events_rollup_deltas", "drop trigger events_rollup_deltas on events", "events"],
];
const HTML = '<html><body><p>Hi</p><a href="https://nomaddesk.example/offer">Offer</a><a href="{{unsubscribeUrl}}">Unsubscribe</a></body></html>';

interface BenchEvent {
  idempotencyKey: string;
  type: string;
  subscriber: { email: string };
  occurredAt: string;
  sendId?: string;
  amount?: { value: number; currency: string };
  properties?: Record<string, string>;
}

/**
 * A realistic mix: page views and signups, clicks and purchases naming the
 * send they came from (so they are attributed and rolled up), purchases in
 * three currencies.
 */
function makeEvents(prefix: string, n: number, sends: { id: string; email: string }[]): BenchEvent[] {
  const now = Date.now();
  return Array.from({ length: n }, (_, i) => {
    const send = sends[(i * 7919) % sends.length]!;
    const kind = i % 10;
    const base = { idempotencyKey: `${prefix}-${i}`, subscriber: { email: send.email }, occurredAt: new Date(now - (i % 3600) * 1000).toISOString() };
    if (kind < 5) return { ...base, type: "page_view", properties: { path: `/pricing/${i % 50}` } };
    if (kind < 8) return { ...base, type: "click", sendId: send.id };
    if (kind === 8) return { ...base, type: "purchase", sendId: send.id, amount: { value: 1000 + (i % 9000), currency: ["USD", "EUR", "THB"][i % 3]! } };
    return { ...base, type: "signup" };
  });
}

function batches<T>(items: T[]): T[][] {
  return Array.from({ length: Math.ceil(items.length / BATCH) }, (_, i) => items.slice(i * BATCH, (i + 1) * BATCH));
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

/** Run the batches with CLIENTS concurrent senders; events/s and batch latencies (ms, sorted). */
async function concurrently(all: BenchEvent[][], send: (batch: BenchEvent[]) => Promise<void>): Promise<{ rate: number; latencies: number[] }> {
  const latencies: number[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < all.length) {
        const batch = all[next++]!;
        const t = performance.now();
        await send(batch);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  return { rate: all.reduce((n, b) => n + b.length, 0) / seconds, latencies: latencies.sort((a, b) => a - b) };
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

/**
 * Event ingestion side by side on one table: POST /v1/events (a separate
 * runtime process, 4 clients, batches of 500), the same ingest called
 * straight against PostgreSQL, a naive INSERT per event, and raw COPY; what
 * each index, the foreign key and the rollup trigger of events cost that COPY.
 * Then the campaign report's latency at 1M and 5M stored events.
 */
const bench: Bench = async (report) => {
  await mkdir(WORK, { recursive: true });
  await chmod(WORK, 0o755);
  const dir = path.join(WORK, "events");
  await rm(dir, { recursive: true, force: true });
  const db = await startEmbeddedPostgres(dir);
  const pool = new pg.Pool({ connectionString: db.url, max: 12 });
  try {
    // 1. A started A/B campaign whose 20,000 sends went out.
    await migrate(db.url);
    // Partitions from last month on: the filled events go back 30 days.
    await ensureEventPartitions(pool, new Date(Date.now() - 31 * 86_400_000));
    await applyState(pool, {
      baseSerial: 0,
      source: { commit: null, author: null, branch: null, dirty: false },
      templates: [{ hash: sha256(HTML), html: HTML }],
      resources: [
        { kind: "Project", name: "bench", spec: { name: "bench", defaults: { from: "Bench <b@bench.example>", timezone: "UTC" }, sending: { provider: "outbox", maxPerSecond: 1000, pricePer1000Usd: 0.1 } } },
        { kind: "Template", name: "templates/t.mjml", spec: { html: sha256(HTML), files: {} } },
        { kind: "Audience", name: "everyone", spec: {} },
        {
          kind: "Campaign",
          name: "launch",
          spec: { subject: "Hi", audience: "everyone", template: "templates/t.mjml", transactional: false, variants: [{ name: "a", weight: 50 }, { name: "b", weight: 50, subject: "Hey" }] },
        },
      ],
    });
    await pool.query(
      `insert into subscribers (email, country, consent) select 'b' || i || '@bench.example', (array['TH','DE','US','MX','JP','PT'])[1 + i % 6], 'marketing' from generate_series(1, $1) as i`,
      [SUBSCRIBERS],
    );
    await startCampaignNow(pool, "launch", "outbox");
    await pool.query("update sends set status = 'sent', sent_at = now() - interval '1 hour'");
    await foldRollups(pool);
    const sends = (await pool.query<{ id: string; email: string; subscriber_id: string; variant: string; country: string }>(
      "select s.id, s.email, s.subscriber_id, s.variant, sub.country from sends s join subscribers sub on sub.id = s.subscriber_id order by s.id",
    )).rows;
    report({ name: `(events: ${SUBSCRIBERS.toLocaleString("en-US")} subscribers, ${CLIENTS} clients, batches of ${BATCH})`, value: "" });

    // 2. POST /v1/events through a runtime in its own process.
    const port = await freePort();
    const server = spawn(process.execPath, [SERVER], {
      env: { ...process.env, DATABASE_URL: db.url, MK_API_TOKEN: TOKEN, MK_SIGNING_SECRET: `${TOKEN}-signing`, MK_WORKERS: "0", PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "warn", MK_REPORT_CACHE_SECONDS: "0" },
      stdio: "inherit",
    });
    const url = `http://127.0.0.1:${port}`;
    try {
      while (!(await fetch(`${url}/healthz`).then((r) => r.ok, () => false))) await new Promise((resolve) => setTimeout(resolve, 50));
      const post = async (body: string) => {
        const response = await fetch(`${url}/v1/events`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }, body });
        if (!response.ok) throw new Error(`POST /v1/events: ${response.status} ${await response.text()}`);
        const result = (await response.json()) as { accepted: number };
        if (result.accepted !== BATCH) throw new Error(`POST /v1/events accepted ${result.accepted} of ${BATCH}`);
      };
      await post(JSON.stringify({ events: makeEvents("warm", BATCH, sends) }));
      const httpBatches = batches(makeEvents("http", EVENTS, sends));
      const bodies = new Map(httpBatches.map((b) => [b, JSON.stringify({ events: b })]));
      const http = await concurrently(httpBatches, (batch) => post(bodies.get(batch)!));

      // 3. The same ingest, straight to PostgreSQL from this process.
      const direct = await concurrently(batches(makeEvents("direct", EVENTS, sends)), async (batch) => {
        await ingestEvents(pool, batch, { deadLetter: true, attributionWindowMs: WINDOW_MS });
      });

      // 4. What a first version would do: one INSERT per event, each its own statement.
      const naiveEvents = makeEvents("naive", NAIVE_EVENTS, sends);
      const bySubscriber = new Map(sends.map((s) => [s.email, s]));
      const naiveStart = performance.now();
      for (const e of naiveEvents) {
        const claimed = await pool.query("insert into event_keys (idempotency_key) values ($1) on conflict do nothing returning idempotency_key", [e.idempotencyKey]);
        if (!claimed.rowCount) continue;
        const s = bySubscriber.get(e.subscriber.email)!;
        await pool.query(
          `insert into events (idempotency_key, subscriber_id, name, occurred_at, data, amount_minor, currency, country, send_id, campaign, variant)
           values ($1, (select id from subscribers where email = $2), $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
          [e.idempotencyKey, e.subscriber.email, e.type, e.occurredAt, JSON.stringify(e.properties ?? {}), e.amount?.value ?? null, e.amount?.currency ?? null, s.country, e.sendId ?? null, e.sendId ? "launch" : null, e.sendId ? s.variant : null],
        );
      }
      const naiveRate = NAIVE_EVENTS / ((performance.now() - naiveStart) / 1000);

      // 5. Raw COPY of the same events: no validation, no idempotency, no attribution: the floor.
      const esc = (v: string | number | null | undefined) => (v === null || v === undefined ? "\\N" : String(v).replace(/\\/g, "\\\\").replace(/\t/g, "\\t").replace(/\n/g, "\\n"));
      const lines = function* (events: BenchEvent[]) {
        for (const e of events) {
          const s = bySubscriber.get(e.subscriber.email)!;
          yield `${[e.idempotencyKey, s.subscriber_id, e.type, e.occurredAt, JSON.stringify(e.properties ?? {}), e.amount?.value, e.amount?.currency, s.country, e.sendId, e.sendId ? "launch" : null, e.sendId ? s.variant : null].map(esc).join("\t")}\n`;
        }
      };
      const copyInto = (client: pg.PoolClient, table: string, events: BenchEvent[]) =>
        pipeline(Readable.from(lines(events)), client.query(copyFrom(`copy ${table} (${COPY_COLUMNS}) from stdin`)));
      const copyEvents = makeEvents("copy", EVENTS, sends);
      const copyClient = await pool.connect();
      const copyStart = performance.now();
      try {
        await copyInto(copyClient, "events", copyEvents);
      } finally {
        copyClient.release();
      }
      const copyRate = EVENTS / ((performance.now() - copyStart) / 1000);

      // 5b. What the table itself costs: the same COPY into a bare table of the same columns, and into events
      // without each of its indexes, its foreign key and its rollup trigger in turn. Each COPY runs in a
      // transaction that is rolled back (the drop with it), so every one starts from the same table. Counted
      // is the CPU time of the PostgreSQL backend doing the COPY (its /proc stat): on a shared machine the
      // wall-clock time of a one-second COPY says more about the neighbours than about an index.
      const costEvents = makeEvents("cost", COST_EVENTS, sends);
      const costClient = await pool.connect();
      const costs = new Map<string, number[]>();
      try {
        const backend = (await costClient.query<{ pid: number }>("select pg_backend_pid() as pid")).rows[0]!.pid;
        const cpuMs = () => {
          const fields = readFileSync(`/proc/${backend}/stat`, "utf8").split(") ")[1]!.split(" ");
          return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
        };
        for (let pass = 0; pass < COST_PASSES; pass++) {
          for (const [variant, prepare, table] of TABLE_VARIANTS) {
            await costClient.query("begin");
            try {
              if (prepare) await costClient.query(prepare);
              const t = cpuMs();
              await copyInto(costClient, table, costEvents);
              costs.set(variant, [...(costs.get(variant) ?? []), cpuMs() - t]);
            } finally {
              await costClient.query("rollback");
            }
          }
        }
      } finally {
        costClient.release();
      }
      const fastest = (variant: string) => Math.min(...costs.get(variant)!);
      const ours = fastest("events");

      const httpP99 = percentile(http.latencies, 99);
      const directP99 = percentile(direct.latencies, 99);
      report({ name: "POST /v1/events, 4 clients × batches of 500", value: `${fmt(http.rate)} events/s (p50 ${percentile(http.latencies, 50).toFixed(0)} ms, p99 ${httpP99.toFixed(0)} ms per batch)`, goal: { text: "≥ 50,000 events/s", met: http.rate >= 50_000 } });
      report({ name: "same ingest straight to PostgreSQL (no HTTP)", value: `${fmt(direct.rate)} events/s (p50 ${percentile(direct.latencies, 50).toFixed(0)} ms, p99 ${directP99.toFixed(0)} ms)` });
      report({ name: "HTTP p99 ÷ direct p99", value: `${(httpP99 / directP99).toFixed(2)}×`, goal: { text: "≤ 1.5×", met: httpP99 / directP99 <= 1.5 } });
      report({ name: "naive INSERT per event (1 client)", value: `${fmt(naiveRate)} events/s` });
      report({ name: "POST /v1/events ÷ naive", value: `${(http.rate / naiveRate).toFixed(1)}×`, goal: { text: "≥ 10×", met: http.rate / naiveRate >= 10 } });
      report({ name: "raw COPY (no checks, no idempotency)", value: `${fmt(copyRate)} events/s` });
      report({ name: "POST /v1/events ÷ COPY", value: `${(http.rate / copyRate).toFixed(2)}×`, goal: { text: "≥ 0.5×", met: http.rate / copyRate >= 0.5 } });
      report({ name: "POST /v1/events ÷ COPY (issue 19)", value: `${(http.rate / copyRate).toFixed(2)}×`, goal: { text: "≥ 0.6×", met: http.rate / copyRate >= 0.6 } });
      report({ name: `(COPY of ${fmt(COST_EVENTS)} events: backend CPU, least of ${COST_PASSES}, each rolled back)`, value: "" });
      report({ name: "COPY into events as it is", value: `${ours.toFixed(0)} ms CPU` });
      report({ name: "COPY into a bare table of the same columns", value: `${fastest("bare").toFixed(0)} ms CPU (events costs ${(ours / Math.max(1, fastest("bare"))).toFixed(1)}× that)` });
      for (const [variant] of TABLE_VARIANTS.filter(([v]) => v !== "bare" && v !== "events")) {
        report({ name: `  ${variant}`, value: `${(((ours - fastest(variant)) / ours) * 100).toFixed(0)}% of that COPY's CPU` });
      }

      // 6. The campaign report at 1M and 5M stored events (cache off: every request computes it).
      const timeReport = async () => {
        await foldRollups(pool);
        const times: number[] = [];
        for (let i = 0; i < 30; i++) {
          const t = performance.now();
          const response = await fetch(`${url}/v1/reports/campaigns/launch`, { headers: { authorization: `Bearer ${TOKEN}` } });
          if (!response.ok) throw new Error(`report: ${response.status}`);
          await response.arrayBuffer();
          times.push(performance.now() - t);
        }
        return times.sort((a, b) => a - b);
      };
      const fill = async (total: number) => {
        const have = Number((await pool.query<{ n: string }>("select count(*) as n from events")).rows[0]!.n);
        for (let start = have; start < total; start += 250_000) {
          await pool.query(
            `with s as (
               select row_number() over (order by s.id) - 1 as k, s.id, s.subscriber_id, s.variant, sub.country
               from sends s join subscribers sub on sub.id = s.subscriber_id where s.campaign = 'launch')
             insert into events (idempotency_key, subscriber_id, name, occurred_at, data, send_id, campaign, variant, country, amount_minor, currency)
             select 'fill-' || g, s.subscriber_id, n.name, now() - make_interval(secs => g % 2592000), '{}', s.id, 'launch', s.variant, s.country,
               case when n.name = 'purchase' then 1000 + g % 9000 end, case when n.name = 'purchase' then 'USD' end
             from generate_series($1::bigint, $2::bigint) as g
             join s on s.k = g % $3
             cross join lateral (select (array['click','click','page_view','purchase','unsubscribe'])[1 + g % 5] as name) n`,
            [start, Math.min(total, start + 250_000) - 1, SUBSCRIBERS],
          );
        }
        return Number((await pool.query<{ n: string }>("select count(*) as n from events")).rows[0]!.n);
      };
      const oneMillion = await fill(1_000_000);
      const at1m = await timeReport();
      const fiveMillion = await fill(5_000_000);
      const at5m = await timeReport();
      const m1 = percentile(at1m, 50);
      const m5 = percentile(at5m, 50);
      report({ name: `campaign report, ${fmt(oneMillion)} events`, value: `${m1.toFixed(1)} ms median (p95 ${percentile(at1m, 95).toFixed(1)} ms)`, goal: { text: "< 100 ms", met: m1 < 100 } });
      report({ name: `campaign report, ${fmt(fiveMillion)} events`, value: `${m5.toFixed(1)} ms median (p95 ${percentile(at5m, 95).toFixed(1)} ms)`, goal: { text: "< 100 ms", met: m5 < 100 } });
      report({ name: "report at 5M ÷ at 1M", value: `${(m5 / m1).toFixed(2)}×`, goal: { text: "≤ 1.5×", met: m5 / m1 <= 1.5 } });
    } finally {
      server.kill("SIGTERM");
      await once(server, "exit");
    }
  } finally {
    await pool.end();
    await db.stop();
    await rm(dir, { recursive: true, force: true });
  }
};

export default bench;
