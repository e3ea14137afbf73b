import { spawn } from "node:child_process";
import { once } from "node:events";
import { chmod, mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { classify, type EngagementEvidence } from "../runtime/engagement/classify.js";
import { networkLookup } from "../runtime/engagement/networks.js";
import { freePort, startEmbeddedPostgres } from "../runtime/db/embedded.js";
import { migrate } from "../runtime/db/migrate.js";
import { signLinkToken } from "../runtime/sending/link-tokens.js";
import { startCampaignNow } from "../runtime/sending/start.js";
import { sha256 } from "../runtime/state/canonical.js";
import { applyState } from "../runtime/state/store.js";
import type { Bench } from "./run.js";
import { MJML } from "./sending.bench.js";

const WORK = fileURLToPath(new URL("./.work/", import.meta.url));
const SERVER = fileURLToPath(new URL("../dist/runtime/server.js", import.meta.url));
const SECRET = "bench-signing-secret-0123456789-0123456789";
const TOKEN = "bench-token-0123456789-0123456789-abcdef";
const RECIPIENTS = 5_000;
/** Requests each HTTP figure makes, and how many are in flight at once (a mailbox provider's fetches arrive in parallel). */
const REQUESTS = 10_000;
const IN_FLIGHT = 32;
const CLASSIFY_ROUNDS = 200_000;

/** Who fetches a pixel: Apple's proxy, Gmail's, and people's mail clients (all from loopback here, so the network is nobody's). */
const USER_AGENTS = [
  "Mozilla/5.0",
  "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
];

/**
 * Open tracking against event ingestion in one run, on the built runtime in
 * its own process: GET /o/:token (token check, send lookup, classification,
 * one insert through the throttle) against POST /v1/events with one open
 * event per request (the same HTTP and classification, through the ingest
 * path), both at IN_FLIGHT requests in flight; and batched ingestion for
 * scale. Then what classifying one event costs in this process, with and
 * without its network lookup.
 */
const bench: Bench = async (report) => {
  report({ name: "(engagement: open pixel and classification)", value: "" });
  const dir = path.join(WORK, "engagement");
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await chmod(WORK, 0o755);
  await chmod(dir, 0o755);
  const db = await startEmbeddedPostgres(dir);
  try {
    await migrate(db.url);
    const pool = new pg.Pool({ connectionString: db.url, max: 4 });
    await apply(pool);
    await pool.query(
      `insert into subscribers (email, first_name, timezone, consent)
       select 's' || i || '@bench.example', 'Name' || i, 'Europe/Lisbon', 'marketing' from generate_series(1, $1) as i`,
      [RECIPIENTS],
    );
    await startCampaignNow(pool, "newsletter", "outbox");
    // Sent an hour ago: the opens come from readers, not at delivery.
    await pool.query("update sends set status = 'sent', sent_at = now() - interval '1 hour', updated_at = now() where campaign = 'newsletter'");
    const sends = (await pool.query<{ id: string; email: string }>("select id, email from sends where campaign = 'newsletter' order by id")).rows;

    const port = await freePort();
    const server = spawn(process.execPath, [SERVER], {
      env: { ...process.env, DATABASE_URL: db.url, MK_API_TOKEN: TOKEN, MK_SIGNING_SECRET: SECRET, MK_WORKERS: "0", PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "warn" },
      stdio: "inherit",
    });
    try {
      const url = `http://127.0.0.1:${port}`;
      while (!(await fetch(`${url}/healthz`).then((r) => r.ok, () => false))) await new Promise((resolve) => setTimeout(resolve, 50));
      const run = async (request: (i: number) => Promise<void>): Promise<number> => {
        let next = 0;
        const started = performance.now();
        const lane = async () => {
          for (let i = next++; i < REQUESTS; i = next++) await request(i);
        };
        await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
        return REQUESTS / ((performance.now() - started) / 1000);
      };

      // Warm both paths (the network data loads on first use).
      await fetch(`${url}/o/${signLinkToken(SECRET, { kind: "open", sendId: sends[0]!.id, linkIndex: 0 })}`).then((r) => r.arrayBuffer());
      const before = await count(pool);
      const pixels = sends.map((s) => `${url}/o/${signLinkToken(SECRET, { kind: "open", sendId: s.id, linkIndex: 0 })}`);
      const pixelRate = await run(async (i) => {
        const reply = await fetch(pixels[i % pixels.length]!, { headers: { "user-agent": USER_AGENTS[i % USER_AGENTS.length]! } });
        await reply.arrayBuffer();
        if (reply.status !== 200) throw new Error(`GET /o/… answered ${reply.status}`);
      });
      const stored = (await count(pool)) - before;

      const ingestRate = await run(async (i) => {
        const s = sends[i % sends.length]!;
        const reply = await fetch(`${url}/v1/events`, {
          method: "POST",
          headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
          body: JSON.stringify({
            events: [{ idempotencyKey: `one-${i}`, type: "open", subscriber: { email: s.email }, occurredAt: new Date().toISOString(), sendId: s.id, ip: "127.0.0.1", properties: { userAgent: USER_AGENTS[i % USER_AGENTS.length] } }],
          }),
        });
        await reply.arrayBuffer();
        if (reply.status !== 200) throw new Error(`POST /v1/events answered ${reply.status}`);
      });

      const BATCH = 500;
      const batchStarted = performance.now();
      for (let b = 0; b < REQUESTS / BATCH; b++) {
        const events = Array.from({ length: BATCH }, (_, j) => {
          const i = b * BATCH + j;
          const s = sends[i % sends.length]!;
          return { idempotencyKey: `batch-${i}`, type: "open", subscriber: { email: s.email }, occurredAt: new Date().toISOString(), sendId: s.id, ip: "127.0.0.1", properties: { userAgent: USER_AGENTS[i % USER_AGENTS.length] } };
        });
        const reply = await fetch(`${url}/v1/events`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }, body: JSON.stringify({ events }) });
        await reply.arrayBuffer();
      }
      const batchRate = REQUESTS / ((performance.now() - batchStarted) / 1000);

      const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
      report({ name: `GET /o/:token, classified (${IN_FLIGHT} in flight)`, value: `${fmt(pixelRate)} requests/s (${fmt(stored)} opens stored of ${fmt(REQUESTS)}: 3 a minute per send)` });
      report({ name: `POST /v1/events, 1 open per request (same run)`, value: `${fmt(ingestRate)} requests/s` });
      report({ name: "pixel ÷ one-event ingest", value: `${(pixelRate / ingestRate).toFixed(2)}×`, goal: { text: "≥ 1×", met: pixelRate >= ingestRate } });
      report({ name: `POST /v1/events, batches of ${BATCH} (same run)`, value: `${fmt(batchRate)} events/s` });
    } finally {
      server.kill("SIGTERM");
      await once(server, "exit");
    }
    await pool.end();
  } finally {
    await db.stop();
    await rm(dir, { recursive: true, force: true });
  }

  // Classification alone, in this process.
  const lookup = await networkLookup(undefined);
  const addresses = Array.from({ length: 4096 }, (_, i) => `${(i * 37) % 223 + 1}.${(i * 11) % 256}.${(i * 7) % 256}.${i % 256}`);
  const evidence: EngagementEvidence[] = USER_AGENTS.flatMap((userAgent) =>
    [5, 90, 3600].map((secondsAfterSend) => ({ kind: "open" as const, method: "GET" as const, userAgent, hasAddress: true, secondsAfterSend })),
  );
  let machines = 0;
  const classified = performance.now();
  for (let i = 0; i < CLASSIFY_ROUNDS; i++) if (classify(evidence[i % evidence.length]!).actor === "machine") machines++;
  const classifyNs = ((performance.now() - classified) * 1e6) / CLASSIFY_ROUNDS;
  const withNetwork = performance.now();
  for (let i = 0; i < CLASSIFY_ROUNDS; i++) {
    const e = evidence[i % evidence.length]!;
    if (classify({ ...e, network: lookup?.(addresses[i % addresses.length]!) }).actor === "machine") machines++;
  }
  const withNetworkNs = ((performance.now() - withNetwork) * 1e6) / CLASSIFY_ROUNDS;
  report({ name: "classify one open (user agent, timing)", value: `${(classifyNs / 1000).toFixed(2)} µs per event (${fmt0(machines)} machines among ${fmt0(2 * CLASSIFY_ROUNDS)})` });
  report({ name: "classify one open with its network lookup", value: `${(withNetworkNs / 1000).toFixed(2)} µs per event` });
};

function fmt0(n: number): string {
  return n.toLocaleString("en-US");
}

async function count(pool: pg.Pool): Promise<number> {
  return Number((await pool.query<{ n: string }>("select count(*) as n from events where name = 'open'")).rows[0]!.n);
}

/** The project with open tracking, the newsletter's template and a campaign to everyone, applied. */
async function apply(pool: pg.Pool): Promise<void> {
  const mjml2html = (await import("mjml")).default;
  const html = (await mjml2html(MJML, { validationLevel: "strict" })).html;
  await applyState(pool, {
    baseSerial: 0,
    source: { commit: null, author: null, branch: null, dirty: false },
    templates: [{ hash: sha256(html), html }],
    resources: [
      {
        kind: "Project",
        name: "bench",
        spec: { name: "bench", defaults: { from: "Bench <b@bench.example>", timezone: "UTC" }, tracking: { opens: true }, sending: { provider: "outbox", maxPerSecond: 1_000_000, pricePer1000Usd: 0.1 } },
      },
      { kind: "Template", name: "templates/t.mjml", spec: { html: sha256(html), files: {} } },
      { kind: "Audience", name: "everyone", spec: {} },
      { kind: "Campaign", name: "newsletter", spec: { subject: "{{subscriber.firstName}}, your desk", audience: "everyone", template: "templates/t.mjml", transactional: false, data: { city: "Lisbon" } } },
    ],
  } as Parameters<typeof applyState>[1]);
}

export default bench;
