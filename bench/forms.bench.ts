import { chmod, mkdir, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { buildRuntime } from "../runtime/app.js";
import { loadConfig } from "../runtime/config.js";
import { startEmbeddedPostgres } from "../runtime/db/embedded.js";
import { migrate } from "../runtime/db/migrate.js";
import { sha256 } from "../runtime/state/canonical.js";
import { applyState } from "../runtime/state/store.js";
import type { ApplyRequest } from "../schemas/api.js";
import type { Bench } from "./run.js";

const WORK = fileURLToPath(new URL("./.work/", import.meta.url));
const SIGNUPS = 2000;
const CONCURRENCY = 16;
// A signup is a person's click: 100/s is 360,000 an hour, beyond any launch a small team's form sees.
const GOAL_PER_SECOND = 100;
const HTML = '<html><body><p>Hi {{subscriber.firstName}}, <a href="{{confirmUrl}}">confirm</a>.</p></body></html>';

/**
 * Form signups through HTTP: 2,000 double opt-in posts of new addresses
 * (form-urlencoded, 16 at a time) to a listening runtime, each a pending
 * signup and its confirmation in the send ledger. Workers off: this is the
 * POST's cost, not the sending's.
 */
const bench: Bench = async (report) => {
  await mkdir(WORK, { recursive: true });
  await chmod(WORK, 0o755);
  const dir = path.join(WORK, "forms");
  await rm(dir, { recursive: true, force: true });
  const db = await startEmbeddedPostgres(dir);
  await migrate(db.url);
  const runtime = buildRuntime(
    loadConfig({ DATABASE_URL: db.url, MK_API_TOKEN: "bench-token-0123456789-0123456789-abc", MK_SIGNING_SECRET: "bench-signing-secret-0123456789-0123456789", LOG_LEVEL: "silent", MK_WORKERS: "0", MK_FORM_RATE_PER_IP: "1000000" }),
    { rollupFoldIntervalMs: 0 },
  );
  try {
    await applyState(runtime.pool, applyRequest());
    await runtime.app.listen({ port: 0, host: "127.0.0.1" });
    const url = `http://127.0.0.1:${(runtime.app.server.address() as AddressInfo).port}/f/newsletter`;
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < SIGNUPS; i = next++) {
        const response = await fetch(url, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `email=reader${i}%40example.test&firstName=Reader&topics=news`, redirect: "manual" });
        if (response.status !== 200) throw new Error(`signup ${i}: HTTP ${response.status} ${await response.text()}`);
        await response.arrayBuffer();
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const perSecond = SIGNUPS / ((performance.now() - started) / 1000);
    const queued = Number((await runtime.pool.query<{ n: string }>("select count(*) as n from sends where signup_id is not null")).rows[0]?.n);
    if (queued !== SIGNUPS) throw new Error(`${queued} confirmations queued for ${SIGNUPS} signups`);
    report({ name: "form signups/s through HTTP (double opt-in)", value: `${perSecond.toFixed(0)}/s`, goal: { text: `≥ ${GOAL_PER_SECOND}/s`, met: perSecond >= GOAL_PER_SECOND } });
  } finally {
    await runtime.close();
    await db.stop();
    await rm(dir, { recursive: true, force: true });
  }
};

function applyRequest(): ApplyRequest {
  return {
    baseSerial: 0,
    source: { commit: null, author: null, branch: null, dirty: null },
    templates: [{ hash: sha256(HTML), html: HTML }],
    resources: [
      { kind: "Template", name: "templates/confirm.mjml", spec: { html: sha256(HTML), files: { "templates/confirm.mjml": "<mjml/>" } } },
      {
        kind: "Project",
        name: "bench",
        spec: {
          name: "bench",
          defaults: { from: "Bench <hello@bench.example>" },
          topics: [{ name: "news", title: "News" }],
          forms: [{ name: "newsletter", topics: ["news"], template: "templates/confirm.mjml" }],
        },
      },
    ],
  } as unknown as ApplyRequest;
}

export default bench;
