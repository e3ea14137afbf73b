import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { buildRuntime, type Runtime } from "../../../runtime/app.js";
import { stopDatabase } from "../../helpers/database.js";
import { startRuntime, testConfig, TOKEN, type TestRuntime } from "../../helpers/runtime.js";
import { addSubscribers, applyCampaigns, query } from "../../helpers/sending.js";
import { waitFor } from "../../helpers/wait-for.js";

after(() => stopDatabase(), { timeout: 120_000 });

/** promtool is Prometheus's own linter (Debian and Ubuntu: the `prometheus` package). */
const promtoolMissing = spawnSync("promtool", ["--version"]).error !== undefined;

describe("the runtime's /metrics", { timeout: 180_000 }, () => {
  let rt: TestRuntime;
  before(async () => {
    // A runtime that has done some of everything, so each metric family has samples: applies, sends, events, webhooks.
    rt = await startRuntime({ MK_WORKERS: "1" });
    await addSubscribers(rt.databaseUrl, 3);
    await applyCampaigns(rt, [{ name: "launch" }]);
    assert.equal((await rt.api("/v1/sends/start", { body: { campaign: "launch" } })).status, 200);
    await waitFor(async () => (await query(rt.databaseUrl, "select 1 from sends where status <> 'sent'")).length === 0);
    const event = { idempotencyKey: "k1", type: "page_view", subscriber: { email: "s1@example.test" }, occurredAt: new Date().toISOString() };
    const ingested = await rt.api("/v1/events", { body: { events: [event, event, { type: "page_view" }] } });
    assert.deepEqual([ingested.body.accepted, ingested.body.duplicates, ingested.body.rejected], [1, 1, 1]);
    assert.equal((await fetch(`${rt.url}/v1/webhooks/ses`, { method: "POST", body: "{}" })).status, 403);
  }, { timeout: 120_000 });
  after(() => rt.close(), { timeout: 120_000 });

  it("passes promtool check metrics with nothing to say", { skip: promtoolMissing && "promtool not installed: apt-get install prometheus" }, async () => {
    const scrape = await fetch(`${rt.url}/metrics`);
    assert.equal(scrape.status, 200);
    const text = await scrape.text();
    assert.match(text, /^mk_sends_total\{status="sent",transport="outbox"\} 3$/m, "the scrape covers a runtime that has sent");
    const check = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
    assert.equal(`${check.stdout}${check.stderr}`, "");
    assert.equal(check.status, 0);
  });

  it("counts active handles, requests and resources per type in gauges, without the totals named like counters", async () => {
    const text = await (await fetch(`${rt.url}/metrics`)).text();
    for (const name of ["nodejs_active_handles", "nodejs_active_requests", "nodejs_active_resources"]) {
      assert.match(text, new RegExp(`^# TYPE ${name} gauge$`, "m"));
      assert.doesNotMatch(text, new RegExp(`^(# TYPE )?${name}_total`, "m"));
    }
    assert.match(text, /^nodejs_active_resources\{type="TCPServerWrap"\} [1-9]\d*$/m, "the listening socket is an active resource");
  });

  describe("with MK_METRICS_TOKEN set", { timeout: 120_000 }, () => {
    const metricsToken = "metrics-token-0123456789-0123456789-abc";
    let guarded: Runtime;
    before(async () => {
      guarded = buildRuntime(testConfig(rt.databaseUrl, { MK_METRICS_TOKEN: metricsToken }), { rollupFoldIntervalMs: 0 });
      await guarded.app.ready();
    }, { timeout: 60_000 });
    after(() => guarded.close(), { timeout: 60_000 });
    const scrape = (authorization?: string) => guarded.app.inject({ method: "GET", url: "/metrics", headers: authorization ? { authorization } : {} });

    it("runs each database read of the gauges once for a flood of concurrent scrapes, and reuses it for the next ones", async () => {
      const pool = guarded.pool as unknown as { query: (...args: unknown[]) => unknown };
      const original = pool.query.bind(pool);
      const seen: string[] = [];
      pool.query = (...args: unknown[]) => {
        seen.push(String(args[0]));
        return original(...args);
      };
      try {
        const flood = async () => {
          const responses = await Promise.all(Array.from({ length: 25 }, () => scrape(`Bearer ${metricsToken}`)));
          for (const r of responses) assert.equal(r.statusCode, 200);
        };
        await flood();
        // Rollup backlog, send queue, active enrollments, sequence timers, dead letters: one query each.
        assert.equal(seen.length, 5, seen.join("\n---\n"));
        assert.equal(new Set(seen).size, 5);
        await flood();
        assert.equal(seen.length, 5, "scrapes within 5 s reuse the reads");
      } finally {
        pool.query = original;
      }
    });

    it("answers 401 without the token, with another one, or with the API token", async () => {
      for (const authorization of [undefined, `Bearer ${metricsToken.slice(0, -1)}x`, `Basic ${metricsToken}`, `Bearer ${TOKEN}`]) {
        const response = await scrape(authorization);
        assert.equal(response.statusCode, 401, String(authorization));
        assert.equal(response.json().error.code, "unauthorized");
        assert.match(response.json().error.message, /Authorization: Bearer <MK_METRICS_TOKEN>/);
        assert.doesNotMatch(response.body, /mk_/);
      }
      const allowed = await scrape(`Bearer ${metricsToken}`);
      assert.equal(allowed.statusCode, 200);
      assert.match(allowed.body, /^mk_send_queue_depth 0$/m);
    });

    it("refuses a token shorter than 32 characters at start; an empty one (compose's ${MK_METRICS_TOKEN:-}) is unset", () => {
      assert.throws(() => testConfig(rt.databaseUrl, { MK_METRICS_TOKEN: "short" }), /MK_METRICS_TOKEN must be at least 32 characters/);
      assert.equal(testConfig(rt.databaseUrl, { MK_METRICS_TOKEN: "" }).MK_METRICS_TOKEN, undefined);
    });
  });
});
