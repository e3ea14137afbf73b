import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { buildRuntime } from "../../runtime/app.js";
import { specHash, sha256 } from "../../runtime/state/canonical.js";
import { stopDatabase } from "../helpers/database.js";
import { startRuntime, testConfig, TOKEN, type TestRuntime } from "../helpers/runtime.js";

const SOURCE = { commit: "abc123", author: "Mai <mai@example.com>", branch: "main", dirty: false };
const html = "<html><body>Hi {{subscriber.firstName}}</body></html>";
const resources = (subject: string) => [
  { kind: "Project", name: "nomad-desk", spec: { defaults: { timezone: "Asia/Bangkok" } } },
  { kind: "Template", name: "templates/hello.mjml", spec: { html: sha256(html), files: { "templates/hello.mjml": "<mjml/>" } } },
  { kind: "Audience", name: "everyone", spec: {} },
  { kind: "Campaign", name: "hello", spec: { subject, audience: "everyone", template: "templates/hello.mjml" } },
];
const templates = [{ hash: sha256(html), html }];

let rt: TestRuntime;
before(async () => {
  rt = await startRuntime();
}, { timeout: 120_000 });
after(async () => {
  await rt.close();
  await stopDatabase();
}, { timeout: 120_000 });

describe("the runtime's HTTP API", { timeout: 180_000 }, () => {
  it("answers /healthz with the serial, and /metrics in Prometheus format", async () => {
    assert.deepEqual((await rt.api("/healthz", { token: null })).body, { status: "ok", serial: 0 });
    const metrics = await rt.api("/metrics", { token: null });
    assert.equal(metrics.status, 200);
    assert.match(metrics.body, /mk_http_request_duration_seconds_bucket\{[^}]*route="\/healthz"/);
    assert.match(metrics.body, /mk_db_pool_connections \d+/);
  });

  it("says 503 on /healthz when the database is gone", async () => {
    const broken = buildRuntime(testConfig("postgres://nobody:nothing@127.0.0.1:1/none"));
    try {
      const response = await broken.app.inject({ method: "GET", url: "/healthz" });
      assert.equal(response.statusCode, 503);
      assert.equal(response.json().status, "unavailable");
    } finally {
      await broken.close();
    }
  });

  it("answers 401 on every /v1 route without the right token (webhooks carry the provider's signature instead), and never echoes it", async () => {
    const routes: { method: string; url: string }[] = [];
    const probe = buildRuntime(testConfig(rt.databaseUrl));
    probe.app.addHook("onRoute", (route) => {
      for (const method of [route.method].flat()) if (route.url.startsWith("/v1/") && !route.url.startsWith("/v1/webhooks/") && method !== "HEAD") routes.push({ method, url: route.url });
    });
    await probe.app.ready();
    await probe.close();
    assert.ok(routes.length >= 5, `only ${routes.length} routes`);
    for (const route of routes) {
      for (const token of [null, "wrong", `${TOKEN}x`, TOKEN.slice(0, -1), ""]) {
        const response = await rt.api(route.url, { method: route.method, token, ...(route.method === "POST" ? { body: {} } : {}) });
        assert.equal(response.status, 401, `${route.method} ${route.url} with ${String(token)}`);
        assert.equal(response.body.error.code, "unauthorized");
        assert.ok(!JSON.stringify(response.body).includes(TOKEN.slice(0, 8)));
      }
    }
  });

  it("rejects a bad body with 400 naming each failing field", async () => {
    const response = await rt.api("/v1/apply", { body: { baseSerial: -1, resources: [{ kind: "Widget", name: "x", spec: {} }], templates: [], source: SOURCE } });
    assert.equal(response.status, 400);
    assert.equal(response.body.error.code, "invalid_request");
    assert.deepEqual(response.body.error.fields.map((f: { path: string }) => f.path).sort(), ["baseSerial", "resources[0].kind"]);
    assert.match(response.body.error.requestId, /^[\w-]+$/);
  });

  it("applies a state, records it, and refuses a stale plan", async () => {
    const first = await rt.api("/v1/apply", { body: { baseSerial: 0, resources: resources("Hello"), templates, source: SOURCE } });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.deepEqual(first.body, { serial: 1, added: 4, changed: 0, deleted: 0 });

    const state = (await rt.api("/v1/state")).body;
    assert.equal(state.serial, 1);
    assert.deepEqual(state.templates, [sha256(html)]);
    const campaign = state.resources.find((r: { kind: string }) => r.kind === "Campaign");
    assert.equal(campaign.hash, specHash(campaign.spec));

    const again = await rt.api("/v1/apply", { body: { baseSerial: 1, resources: resources("Hello"), templates: [], source: SOURCE } });
    assert.deepEqual(again.body, { serial: 1, added: 0, changed: 0, deleted: 0 }, "no change, no new serial");

    const stale = await rt.api("/v1/apply", { body: { baseSerial: 0, resources: resources("Changed"), templates: [], source: SOURCE } });
    assert.equal(stale.status, 409);
    assert.equal(stale.body.error.code, "stale_plan");
    assert.match(stale.body.error.message, /run mk plan again/);

    const history = (await rt.api("/v1/applies")).body;
    assert.equal(history.length, 1);
    assert.deepEqual({ ...history[0], appliedAt: undefined }, { serial: 1, baseSerial: 0, appliedAt: undefined, ...SOURCE, added: 4, changed: 0, deleted: 0 });
  });

  it("lets exactly one of two concurrent applies through", async () => {
    const { serial } = (await rt.api("/v1/state")).body;
    const results = await Promise.all(
      ["One", "Two"].map((subject) => rt.api("/v1/apply", { body: { baseSerial: serial, resources: resources(subject), templates: [], source: SOURCE } })),
    );
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 409]);
    const winner = results.find((r) => r.status === 200);
    const state = (await rt.api("/v1/state")).body;
    assert.equal(state.serial, serial + 1);
    assert.equal(winner?.body.serial, serial + 1);
    const subject = state.resources.find((r: { kind: string }) => r.kind === "Campaign").spec.subject;
    assert.ok(subject === "One" || subject === "Two");
    assert.equal((await rt.api("/v1/applies")).body.length, 2);
  });

  it("refuses HTML it does not have, and changes to a campaign that started sending", async () => {
    const { serial, resources: current } = (await rt.api("/v1/state")).body;
    const other = "<html><body>other</body></html>";
    const withNewHtml = resources("x").map((r) => (r.kind === "Template" ? { ...r, spec: { ...r.spec, html: sha256(other) } } : r));
    const missing = await rt.api("/v1/apply", { body: { baseSerial: serial, resources: withNewHtml, templates: [], source: SOURCE } });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error.code, "missing_template");

    const db = new pg.Client({ connectionString: rt.databaseUrl });
    await db.connect();
    await db.query("update resources set started_at = now() where kind = 'Campaign' and name = 'hello'");
    await db.end();
    const subject = current.find((r: { kind: string }) => r.kind === "Campaign").spec.subject;
    const edit = await rt.api("/v1/apply", { body: { baseSerial: serial, resources: resources(`${subject}!`), templates: [], source: SOURCE } });
    assert.equal(edit.status, 409);
    assert.equal(edit.body.error.code, "campaign_started");
    assert.match(edit.body.error.message, /create a new campaign/);
    assert.equal((await rt.api("/v1/state")).body.serial, serial);
  });
});
