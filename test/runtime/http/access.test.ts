import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import http from "node:http";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import Fastify from "fastify";
import { tokenCreateRequestFromFlags } from "../../../cli/tokens/create-request.js";
import { buildRuntime } from "../../../runtime/app.js";
import { registeredRoutes, requireRouteRules } from "../../../runtime/http/access.js";
import type { TokenScope } from "../../../schemas/tokens.js";
import { stopDatabase } from "../../helpers/database.js";
import { runMk } from "../../helpers/run-mk.js";
import { startRuntime, testConfig, TOKEN, type TestRuntime } from "../../helpers/runtime.js";
import { query } from "../../helpers/sending.js";
import { tempRepo } from "../../helpers/temp-repo.js";

/**
 * Who may call what (runtime/http/access.ts), on a live runtime: API tokens
 * with scopes beside MK_API_TOKEN, and bodies bounded and typed before any of
 * them is read.
 */
let rt: TestRuntime;
/** A token of each scope, and a revoked and an expired one. */
const tokens: Record<TokenScope | "revoked" | "expired", string> = { admin: "", apply: "", plan: "", ingest: "", report: "", messages: "", revoked: "", expired: "" };

const create = async (name: string, scope: TokenScope, token: string = TOKEN) => rt.api("/v1/tokens", { body: { name, scope }, token });

before(async () => {
  // Topics set, so that the SES webhook answers a body that is not JSON with a 400 (its own 403s are for signatures).
  rt = await startRuntime({ MK_SNS_TOPIC_ARNS: "arn:aws:sns:eu-west-1:123456789012:mk-ses" });
  for (const scope of ["admin", "apply", "plan", "ingest", "report", "messages"] as const) tokens[scope] = (await create(`matrix-${scope}`, scope)).body.token;
  tokens.revoked = (await create("matrix-revoked", "admin")).body.token;
  assert.equal((await rt.api("/v1/tokens/matrix-revoked/revoke", { body: {} })).status, 200);
  tokens.expired = (await rt.api("/v1/tokens", { body: { name: "matrix-expired", scope: "admin", expiresIn: "1m" } })).body.token;
  await query(rt.databaseUrl, "update api_tokens set expires_at = now() - interval '1 second' where name = 'matrix-expired'");
}, { timeout: 120_000 });
after(async () => {
  await rt.close();
  await stopDatabase();
}, { timeout: 120_000 });

/** A request to a route as the matrix sends it: path parameters "x", a body of the type the route takes. */
function probe(route: { method: string; url: string }, authorization: string | undefined) {
  const url = route.url.replace(/:\w+/g, "x");
  const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
  if (route.method !== "POST") return { method: route.method as "GET", url, headers };
  if (route.url === "/u/:token") return { method: "POST" as const, url, headers: { ...headers, "content-type": "application/x-www-form-urlencoded" }, payload: "List-Unsubscribe=One-Click" };
  if (route.url === "/v1/webhooks/ses") return { method: "POST" as const, url, headers: { ...headers, "content-type": "text/plain" }, payload: "not json" };
  return { method: "POST" as const, url, headers: { ...headers, "content-type": "application/json" }, payload: "{}" };
}

describe("route access: every route × every scope", { timeout: 180_000 }, () => {
  it("answers 401 without a valid token (none, unknown, revoked, expired: all alike), 403 naming the scope a route needs, and lets each scope through exactly where it may go", async () => {
    const routes = registeredRoutes(rt.app).filter((r) => r.method !== "HEAD");
    assert.ok(routes.length >= 30, `only ${routes.length} routes`);
    const refusals = new Set<string>();
    const allowed: Record<TokenScope, string[]> = { admin: [], apply: [], plan: [], ingest: [], report: [], messages: [] };
    const publicRoutes: string[] = [];
    for (const route of routes) {
      const key = `${route.method} ${route.url}`;
      const none = await rt.app.inject(probe(route, undefined));
      if (none.statusCode !== 401) {
        // A public route: every caller gets through, with or without any token.
        publicRoutes.push(key);
        for (const token of [tokens.plan, tokens.revoked, "mk_unknown"]) assert.notEqual((await rt.app.inject(probe(route, `Bearer ${token}`))).statusCode, 401, key);
        continue;
      }
      for (const bad of [undefined, "Bearer mk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", `Bearer ${tokens.revoked}`, `Bearer ${tokens.expired}`, `Bearer ${TOKEN}x`, `Basic ${TOKEN}`]) {
        const response = await rt.app.inject(probe(route, bad));
        assert.equal(response.statusCode, 401, `${key} with ${bad}`);
        refusals.add(response.json().error.message);
      }
      const bootstrap = await rt.app.inject(probe(route, `Bearer ${TOKEN}`));
      assert.ok(![401, 403].includes(bootstrap.statusCode), `${key} refused MK_API_TOKEN: ${bootstrap.body}`);
      for (const scope of Object.keys(allowed) as TokenScope[]) {
        const response = await rt.app.inject(probe(route, `Bearer ${tokens[scope]}`));
        if (response.statusCode === 403) {
          const { code, message } = response.json().error;
          assert.equal(code, "forbidden", key);
          assert.match(message, new RegExp(`^this route needs a token with scope \\w+( \\(or [a-z ]+\\))?; this token has scope ${scope}$`), key);
        } else {
          assert.notEqual(response.statusCode, 401, `${key} with ${scope}`);
          allowed[scope].push(key);
        }
      }
    }
    // Unknown, revoked and expired tokens read the same: nothing tells them apart. What each scope reaches is written out here, not taken from the table under test.
    assert.equal(refusals.size, 1, [...refusals].join("\n"));
    assert.deepEqual(publicRoutes.sort(), ["GET /c/:token", "GET /f/confirm/:token", "GET /healthz", "GET /metrics", "GET /o/:token", "GET /p/:token", "GET /u/:token", "GET /v/:token", "OPTIONS /f/:form", "POST /f/:form", "POST /f/confirm/:token", "POST /p/:token", "POST /u/:token", "POST /v1/webhooks/ses"]);
    assert.equal(allowed.admin.length, routes.length - publicRoutes.length);
    assert.deepEqual(allowed.plan.sort(), ["GET /v1/applies", "GET /v1/state", "POST /v1/audiences/count"]);
    assert.deepEqual(allowed.apply.sort(), ["GET /v1/applies", "GET /v1/sends", "GET /v1/sends/ambiguous", "GET /v1/state", "POST /v1/apply", "POST /v1/audiences/count", "POST /v1/sends/due", "POST /v1/sends/start", "POST /v1/sends/test"]);
    assert.deepEqual(allowed.ingest, ["POST /v1/events"]);
    assert.deepEqual(allowed.report.sort(), ["GET /v1/reports/campaigns", "GET /v1/reports/campaigns/:name", "GET /v1/reports/messages/:name", "GET /v1/reports/sequences/:name", "GET /v1/reports/tax", "GET /v1/tax/rates", "GET /v1/tax/verify"]);
    assert.deepEqual(allowed.messages, ["POST /v1/messages/:name"]);
  });

  it("names the scope needed: a plan token on POST /v1/apply", async () => {
    const response = await rt.api("/v1/apply", { body: {}, token: tokens.plan });
    assert.equal(response.status, 403);
    assert.equal(response.body.error.message, "this route needs a token with scope apply (or admin); this token has scope plan");
  });

  it("stops the runtime at start when a route has no rule, or a rule has no route", async () => {
    const extra = buildRuntime(testConfig(rt.databaseUrl));
    try {
      await assert.rejects(async () => {
        extra.app.get("/v1/extra", async () => "no rule");
        await extra.app.ready();
      }, /GET \/v1\/extra is not in ROUTES/);
    } finally {
      await extra.close().catch(() => undefined);
    }
    const bare = Fastify();
    requireRouteRules(bare);
    bare.get("/healthz", async () => "ok");
    await assert.rejects(async () => bare.ready(), /rules for routes nothing registers: GET \/metrics, /);
  });
});

describe("API tokens", { timeout: 180_000 }, () => {
  it("are made once with a recognisable prefix, stored as their SHA-256 only, and listed without token or digest", async () => {
    const created = await rt.api("/v1/tokens", { body: { name: "pr-previews", scope: "plan", expiresIn: "90d" } });
    assert.equal(created.status, 201);
    const { token, ...info } = created.body;
    assert.match(token, /^mk_[A-Za-z0-9_-]{43}$/);
    assert.equal(info.name, "pr-previews");
    assert.equal(info.scope, "plan");
    assert.ok(Math.abs(Date.parse(info.expiresAt) - Date.parse(info.createdAt) - 90 * 86_400_000) < 1000);
    const [row] = await query<{ digest: Buffer; whole: string }>(rt.databaseUrl, "select digest, row_to_json(t)::text as whole from api_tokens t where name = 'pr-previews'");
    assert.deepEqual(row!.digest, createHash("sha256").update(token).digest());
    assert.ok(!row!.whole.includes(token.slice(3)));

    assert.equal((await rt.api("/v1/state", { token })).status, 200);
    const listed = (await rt.api("/v1/tokens")).body as Record<string, unknown>[];
    const mine = listed.find((t) => t["name"] === "pr-previews")!;
    assert.deepEqual(Object.keys(mine).sort(), ["createdAt", "expiresAt", "lastUsedAt", "name", "revokedAt", "scope"]);
    assert.equal(mine["revokedAt"], null);
    assert.ok(Date.now() - Date.parse(String(mine["lastUsedAt"])) < 60_000);
    assert.ok(!JSON.stringify(listed).includes(token.slice(3)));
    assert.deepEqual(
      listed.filter((t) => String(t["name"]).startsWith("matrix-")).map((t) => [t["name"], t["scope"], t["revokedAt"] !== null]),
      [["matrix-admin", "admin", false], ["matrix-apply", "apply", false], ["matrix-plan", "plan", false], ["matrix-ingest", "ingest", false], ["matrix-report", "report", false], ["matrix-messages", "messages", false], ["matrix-revoked", "admin", true], ["matrix-expired", "admin", false]],
    );
  });

  it("refuse a taken name (409), a bad name, scope or expiry (400 naming the field), and non-admin callers (403)", async () => {
    assert.equal((await create("taken", "report")).status, 201);
    const taken = await create("taken", "plan");
    assert.deepEqual([taken.status, taken.body.error.code], [409, "token_exists"]);
    assert.equal((await create("matrix-revoked", "plan")).status, 409, "a revoked token keeps its name");
    for (const [body, field] of [
      [{ name: "Not OK", scope: "plan" }, "name"],
      [{ name: "x".repeat(65), scope: "plan" }, "name"],
      [{ name: "fine", scope: "root" }, "scope"],
      [{ name: "fine", scope: "plan", expiresIn: "90 days" }, "expiresIn"],
    ] as const) {
      const response = await rt.api("/v1/tokens", { body });
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.deepEqual(response.body.error.fields.map((f: { path: string }) => f.path), [field]);
    }
    assert.equal((await create("by-apply", "admin", tokens.apply)).status, 403);
    const unknown = await rt.api("/v1/tokens/nobody/revoke", { body: {} });
    assert.deepEqual([unknown.status, unknown.body.error.code], [404, "unknown_token"]);
  });

  it("revoked, fail at once on every replica with the same 401 as an unknown token; revoking again changes nothing; MK_API_TOKEN works as before", async () => {
    const { token } = (await create("short-lived", "ingest")).body;
    const replica = buildRuntime(testConfig(rt.databaseUrl));
    try {
      const events = { method: "POST" as const, url: "/v1/events", headers: { authorization: `Bearer ${token}` }, payload: { events: [] } };
      assert.equal((await replica.app.inject(events)).statusCode, 200);
      const revoked = await rt.api("/v1/tokens/short-lived/revoke", { body: {} });
      assert.deepEqual([revoked.status, revoked.body.alreadyRevoked, revoked.body.scope], [200, false, "ingest"]);
      const refused = await replica.app.inject(events);
      assert.equal(refused.statusCode, 401);
      const unknown = await replica.app.inject({ ...events, headers: { authorization: "Bearer mk_unknown" } });
      assert.equal(refused.json().error.message, unknown.json().error.message);
      const again = await rt.api("/v1/tokens/short-lived/revoke", { body: {} });
      assert.deepEqual([again.body.alreadyRevoked, again.body.revokedAt], [true, revoked.body.revokedAt]);
      assert.equal((await replica.app.inject({ method: "GET", url: "/v1/state", headers: { authorization: `Bearer ${TOKEN}` } })).statusCode, 200);
    } finally {
      await replica.close();
    }
  });
});

/** A POST whose headers announce `length` bytes and whose body never comes: only an answer that reads no body arrives. */
function headersOnly(url: string, headers: Record<string, string>, length: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: "POST", headers: { ...headers, "content-length": String(length) } }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => {
        request.destroy();
        resolve({ status: response.statusCode ?? 0, body });
      });
    });
    request.on("error", reject);
    request.setTimeout(15_000, () => request.destroy(new Error(`no answer within 15 s: the runtime waits for the ${length}-byte body`)));
    request.flushHeaders();
  });
}

describe("bounded bodies", { timeout: 180_000 }, () => {
  const MiB = 1024 * 1024;

  it("answers a 2 MiB body to an unknown route, to POST /u/x and to an ordinary /v1 route with 413 without reading it", async () => {
    const json = { "content-type": "application/json" };
    assert.equal((await headersOnly(`${rt.url}/nowhere`, json, 2 * MiB)).status, 413);
    assert.equal((await headersOnly(`${rt.url}/v1/nowhere`, json, 2 * MiB)).status, 413);
    assert.equal((await headersOnly(`${rt.url}/u/x`, { "content-type": "application/x-www-form-urlencoded" }, 2 * MiB)).status, 413);
    assert.equal((await headersOnly(`${rt.url}/v1/audiences/count`, { ...json, authorization: `Bearer ${TOKEN}` }, 2 * MiB)).status, 413);
  });

  it("answers a 60 MiB body without a token to POST /v1/apply with 401 without reading it; with one, reads bodies up to the route's limit", async () => {
    const unauthenticated = await headersOnly(`${rt.url}/v1/apply`, { "content-type": "application/json" }, 60 * MiB);
    assert.equal(unauthenticated.status, 401);
    assert.equal(JSON.parse(unauthenticated.body).error.code, "unauthorized");
    assert.equal((await headersOnly(`${rt.url}/v1/apply`, { "content-type": "application/json", authorization: `Bearer ${tokens.plan}` }, 60 * MiB)).status, 403);
    assert.equal((await headersOnly(`${rt.url}/v1/apply`, { "content-type": "application/json", authorization: `Bearer ${TOKEN}` }, 65 * MiB)).status, 413);
    const bigApply = await rt.api("/v1/apply", { body: { baseSerial: 0, resources: [], templates: [{ hash: "x", html: "h".repeat(2 * MiB) }], source: {} } });
    assert.equal(bigApply.status, 400, "read and parsed: a 2 MiB apply is within its 64 MiB");
    // 10,000 subscribers with some attributes (about 3 MB) are read; the last one's email is wrong, so nothing is stored.
    const subscribers = Array.from({ length: 10_000 }, (_, i) => ({ email: i === 9999 ? "not-an-email" : `s${i}@example.test`, firstName: "Subscriber", tags: ["a", "b"], attributes: { note: "n".repeat(200) } }));
    const imported = await rt.api("/v1/subscribers/import", { body: { subscribers } });
    assert.equal(imported.status, 400, JSON.stringify(imported.body).slice(0, 300));
    assert.deepEqual(imported.body.error.fields.map((f: { path: string }) => f.path), ["subscribers[9999].email"]);
  });

  it("takes on public routes only the media types they use (415 otherwise); RFC 8058's form encodings and SNS's text/plain still pass", async () => {
    const post = (url: string, type: string, body: string) => fetch(rt.url + url, { method: "POST", headers: { "content-type": type }, body });
    const json = await post("/u/x", "application/json", JSON.stringify({ big: "x".repeat(100_000) }));
    assert.equal(json.status, 415);
    assert.equal(((await json.json()) as { error: { code: string } }).error.code, "unsupported_media_type");
    assert.equal((await post("/v1/webhooks/ses", "application/x-www-form-urlencoded", "a=b")).status, 415);
    assert.equal((await post("/v1/apply", "text/plain", "{}")).status, 401, "the token first");
    assert.equal((await fetch(`${rt.url}/v1/apply`, { method: "POST", headers: { "content-type": "text/plain", authorization: `Bearer ${TOKEN}` }, body: "{}" })).status, 415);
    assert.equal((await headersOnly(`${rt.url}/u/x`, { "content-type": "application/json" }, 2 * MiB)).status, 415);

    assert.equal((await post("/u/x", "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click")).status, 400, "an invalid link's page");
    const form = new FormData();
    form.set("List-Unsubscribe", "One-Click");
    assert.equal((await fetch(`${rt.url}/u/x`, { method: "POST", body: form })).status, 400, "an invalid link's page");
    assert.equal((await post("/v1/webhooks/ses", "text/plain; charset=UTF-8", "not json")).status, 400);
  });
});

describe("mk tokens", { timeout: 180_000 }, () => {
  it("create prints the token once, and it works; revoke makes it 401; a bad name or expiry is MK095 naming the flag", async () => {
    assert.throws(() => tokenCreateRequestFromFlags({ name: "PR previews", scope: "plan" }), { code: "MK095", message: /^--name must be 1 to 64 lower-case letters/ });
    assert.throws(() => tokenCreateRequestFromFlags({ name: "pr", scope: "plan", expires: "90 days" }), { code: "MK095", message: /^--expires must be a duration/ });
    const repo = await tempRepo();
    try {
      await repo.write("mk.yaml", (await readFile(path.join(repo.root, "mk.yaml"), "utf8")).replace("environments:\n", `environments:\n  fixture: { url: "${rt.url}", tokenEnv: MK_FIXTURE_TOKEN }\n`));
      const mk = (...args: string[]) => runMk([...args, "--env", "fixture", "--dir", repo.root], { env: { MK_FIXTURE_TOKEN: TOKEN } });
      const created = await mk("tokens", "create", "--scope", "plan", "--name", "cli-previews", "--expires", "90d");
      assert.equal(created.code, 0, created.stderr);
      const shown = `${created.stdout}${created.stderr}`.match(/mk_[A-Za-z0-9_-]{43}/g) ?? [];
      assert.equal(shown.length, 1, created.stdout);
      assert.match(created.stdout, /^Created token "cli-previews" with scope plan on fixture; it expires \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\.\nmk_\S+\n.*will not be shown again\.\n$/);
      const token = shown[0]!;
      assert.equal((await rt.api("/v1/state", { token })).status, 200);
      assert.equal((await rt.api("/v1/sends/due", { body: {}, token })).status, 403);

      const revoked = await mk("tokens", "revoke", "cli-previews", "--json");
      assert.equal(revoked.code, 0, revoked.stderr);
      assert.deepEqual(
        (({ name, scope, alreadyRevoked }) => ({ name, scope, alreadyRevoked }))(JSON.parse(revoked.stdout)),
        { name: "cli-previews", scope: "plan", alreadyRevoked: false },
      );
      assert.equal((await rt.api("/v1/state", { token })).status, 401);
    } finally {
      await repo.remove();
    }
  });
});
