import { spawn } from "node:child_process";
import { once } from "node:events";
import { chmod, mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { Registry } from "prom-client";
import { freePort, startEmbeddedPostgres } from "../runtime/db/embedded.js";
import { migrate } from "../runtime/db/migrate.js";
import { MessageComposer } from "../runtime/sending/compose.js";
import { createSendMetrics } from "../runtime/sending/metrics.js";
import { createRateLimiter } from "../runtime/sending/rate-limit.js";
import { startCampaignNow } from "../runtime/sending/start.js";
import { SendWorker } from "../runtime/sending/worker.js";
import { sha256 } from "../runtime/state/canonical.js";
import { applyState } from "../runtime/state/store.js";
import type { Bench } from "./run.js";
import { MJML, zeroLatencyTransport } from "./sending.bench.js";

const WORK = fileURLToPath(new URL("./.work/", import.meta.url));
const SERVER = fileURLToPath(new URL("../dist/runtime/server.js", import.meta.url));
const SECRET = "bench-signing-secret-0123456789-0123456789";
const TOKEN = "bench-token-0123456789-0123456789-abcdef";
const quiet = { info: () => {}, warn: () => {}, error: () => {} };
/** Campaign recipients, and transactional messages, each run sends. */
const RECIPIENTS = 5_000;
const MESSAGES = 2_000;
/** Requests in flight at once, as a shop's backend with a connection pool sends them. */
const IN_FLIGHT = 32;

/**
 * Transactional messages end to end: POST /v1/messages/receipt over HTTP to
 * the built runtime (each with its own Idempotency-Key), through the ledger
 * and two send workers to a zero-latency transport, against a campaign's
 * sends/s through the same two workers and transport in the same run (the
 * newsletter-sized email of the sending bench for both). The workers run in
 * this process, as in the sending bench; the runtime's own run none.
 */
const bench: Bench = async (report) => {
  report({ name: "(messages: POST /v1/messages over HTTP, 2 workers, zero-latency transport)", value: "" });
  const dir = path.join(WORK, "messages");
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await chmod(WORK, 0o755);
  await chmod(dir, 0o755);
  const db = await startEmbeddedPostgres(dir);
  try {
    await migrate(db.url);
    const pool = new pg.Pool({ connectionString: db.url, max: 10 });
    await apply(pool);
    await pool.query(
      `insert into subscribers (email, first_name, timezone, consent)
       select 's' || i || '@bench.example', 'Name' || i, 'Europe/Lisbon', 'marketing' from generate_series(1, $1) as i`,
      [RECIPIENTS],
    );
    const composer = new MessageComposer({ publicUrl: "https://mk.bench.example", signingSecret: SECRET }, async (hash) => (await pool.query<{ html: string }>("select html from compiled_templates where hash = $1", [hash])).rows[0]!.html);
    const metrics = createSendMetrics(new Registry(), pool);
    const limiter = createRateLimiter({ perSecond: 1_000_000, log: quiet });
    const transport = zeroLatencyTransport();
    const sent = async () => (await metrics.sends.get()).values.reduce((n, v) => n + (v.labels.status === "sent" ? v.value : 0), 0);
    const workers = [0, 1].map(() => new SendWorker({ pool, transport, limiter, composer, metrics, log: quiet, batchSize: 500, idleMs: 20 }));
    workers.forEach((w) => w.start());

    // 1. A campaign through the workers: its sends/s, the comparison.
    const campaignStarted = performance.now();
    await startCampaignNow(pool, "newsletter", "outbox");
    while ((await sent()) < RECIPIENTS) await new Promise((resolve) => setTimeout(resolve, 20));
    const campaignRate = RECIPIENTS / ((performance.now() - campaignStarted) / 1000);
    report({ name: "campaign sends, 2 workers (this run)", value: `${Math.round(campaignRate).toLocaleString("en-US")} messages/s` });

    // 2. The messages, over HTTP, until the workers have sent every one.
    const port = await freePort();
    const server = spawn(process.execPath, [SERVER], {
      env: { ...process.env, DATABASE_URL: db.url, MK_API_TOKEN: TOKEN, MK_SIGNING_SECRET: SECRET, MK_WORKERS: "0", PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "warn" },
      stdio: "inherit",
    });
    try {
      const url = `http://127.0.0.1:${port}`;
      while (!(await fetch(`${url}/healthz`).then((r) => r.ok, () => false))) await new Promise((resolve) => setTimeout(resolve, 50));
      const started = performance.now();
      let next = 0;
      const lane = async () => {
        for (let i = next++; i < MESSAGES; i = next++) {
          const reply = await fetch(`${url}/v1/messages/receipt`, {
            method: "POST",
            headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json", "idempotency-key": `bench-${i}` },
            body: JSON.stringify({ to: `buyer${i}@bench.example`, data: { orderId: `o-${i}`, city: "Lisbon" } }),
          });
          if (reply.status !== 202) throw new Error(`POST /v1/messages/receipt answered ${reply.status}: ${await reply.text()}`);
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
      const acceptedRate = MESSAGES / ((performance.now() - started) / 1000);
      while ((await sent()) < RECIPIENTS + MESSAGES) await new Promise((resolve) => setTimeout(resolve, 20));
      const messageRate = MESSAGES / ((performance.now() - started) / 1000);
      const inLedger = Number((await pool.query<{ n: string }>("select count(*) as n from sends where message_key is not null and status = 'sent'")).rows[0]!.n);
      if (inLedger !== MESSAGES) throw new Error(`the workers counted ${MESSAGES} messages sent, the ledger holds ${inLedger}`);
      report({ name: `POST /v1/messages accepted (${IN_FLIGHT} in flight)`, value: `${Math.round(acceptedRate).toLocaleString("en-US")} requests/s` });
      report({ name: "transactional messages, HTTP → ledger → transport", value: `${Math.round(messageRate).toLocaleString("en-US")} messages/s`, goal: { text: "≥ 200/s", met: messageRate >= 200 } });
      report({ name: "transactional ÷ campaign sends/s", value: `${(messageRate / campaignRate).toFixed(2)}×`, goal: { text: "≥ 0.1×", met: messageRate / campaignRate >= 0.1 } });
    } finally {
      server.kill("SIGTERM");
      await once(server, "exit");
    }
    await Promise.all(workers.map((w) => w.stop()));
    await limiter.close();
    await pool.end();
  } finally {
    await db.stop();
    await rm(dir, { recursive: true, force: true });
  }
};

/** The project, the newsletter's template, a campaign to everyone and the receipt message, applied. */
async function apply(pool: pg.Pool): Promise<void> {
  const mjml2html = (await import("mjml")).default;
  const html = (await mjml2html(MJML, { validationLevel: "strict" })).html;
  await applyState(pool, {
    baseSerial: 0,
    source: { commit: null, author: null, branch: null, dirty: false },
    templates: [{ hash: sha256(html), html }],
    resources: [
      { kind: "Project", name: "bench", spec: { name: "bench", defaults: { from: "Bench <b@bench.example>", timezone: "UTC" }, sending: { provider: "outbox", maxPerSecond: 1_000_000, pricePer1000Usd: 0.1 } } },
      { kind: "Template", name: "templates/t.mjml", spec: { html: sha256(html), files: {} } },
      { kind: "Audience", name: "everyone", spec: {} },
      { kind: "Campaign", name: "newsletter", spec: { subject: "{{subscriber.firstName}}, your desk", audience: "everyone", template: "templates/t.mjml", transactional: false, data: { city: "Lisbon" } } },
      { kind: "Message", name: "receipt", spec: { subject: "Your order {{data.orderId}}", template: "templates/t.mjml", data: { orderId: { type: "string", required: true }, city: { type: "string", required: true } } } },
    ],
  } as Parameters<typeof applyState>[1]);
}

export default bench;
