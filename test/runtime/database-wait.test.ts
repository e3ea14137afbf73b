import assert from "node:assert/strict";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { freePort, startEmbeddedPostgres, type EmbeddedDatabase } from "../../runtime/db/embedded.js";
import { startServerProcess, type ServerProcess } from "../helpers/server-process.js";
import { addSubscribers, applyCampaigns, query } from "../helpers/sending.js";
import { waitFor } from "../helpers/wait-for.js";

const WAITING = "the database does not answer yet; retrying";
const LOST = "lost the database: requests that need it answer 503, and the workers pause until it answers again";
const BACK = "the database answers again: the workers resume";
const STACK_FRAME = /^\s+at /m;

/** Neither the password nor a stack frame anywhere the runtime printed. */
function assertCleanOutput(server: ServerProcess, password: string): void {
  for (const [name, text] of [["stdout", server.stdout()], ["stderr", server.stderr()]] as const) {
    assert.ok(!text.includes(password), `the password is not on ${name}`);
    assert.doesNotMatch(text, STACK_FRAME, `no stack trace on ${name}`);
  }
}

describe("the deployed runtime waits for its database, and survives losing it", { timeout: 150_000 }, () => {
  let dir: string;
  let port: number;
  let url: string;
  let password: string;
  let db: EmbeddedDatabase | undefined;
  let server: ServerProcess | undefined;
  const running: ServerProcess[] = [];

  before(
    async () => {
      dir = await mkdtemp(path.join(tmpdir(), "mk-db-wait-"));
      // Enterable by others, so that run as root the cluster stays inside it rather than in /var/lib/mk.
      await chmod(dir, 0o755);
      port = await freePort();
      // Create the cluster now, then stop it: the runtime starts against a port where nothing listens.
      const first = await startEmbeddedPostgres(dir, { port });
      await first.stop();
      url = first.url;
      password = decodeURIComponent(new URL(url).password);
    },
    { timeout: 60_000 },
  );
  after(
    async () => {
      await Promise.all(running.map((s) => s.kill()));
      await db?.stop();
      await rm(dir, { recursive: true, force: true });
    },
    { timeout: 60_000 },
  );

  it("listens at once, answers 503 and logs each attempt until PostgreSQL starts, then migrates and serves", { timeout: 60_000 }, async () => {
    server = await startServerProcess({ DATABASE_URL: url, MK_WORKERS: "1", MK_LEASE_SECONDS: "5", LOG_LEVEL: "info" });
    running.push(server);
    const s = server;
    await waitFor(async () => (await fetch(`${s.url}/healthz`).catch(() => undefined)) !== undefined, 20_000, "the runtime to listen");

    const health = await s.api("/healthz", { token: null });
    assert.equal(health.status, 503);
    assert.deepEqual(health.body, { status: "waiting", error: "waiting for the database" });
    const state = await s.api("/v1/state");
    assert.equal(state.status, 503);
    assert.equal(state.body.error.code, "database_unavailable");
    assert.match(state.body.error.message, /waits for its database; try again in 5 seconds/);
    assert.match(state.body.error.requestId, /^[\w-]+$/);
    assert.equal(state.headers.get("retry-after"), "5");

    await waitFor(async () => s.logs().filter((l) => l.msg === WAITING).length >= 3, 20_000, "three logged attempts");
    const attempts = s.logs().filter((l) => l.msg === WAITING);
    assert.deepEqual(
      attempts.map((l) => [l.attempt, l.host, l.port, l.database, l.code]),
      attempts.map((_, i) => [i + 1, "127.0.0.1", port, "mk", "ECONNREFUSED"]),
    );
    for (const l of attempts) assert.ok(typeof l.retryInMs === "number" && l.retryInMs >= 0 && l.retryInMs <= 5000, `retryInMs ${String(l.retryInMs)}`);

    db = await startEmbeddedPostgres(dir, { port });
    assert.equal(db.url, url, "the same cluster, on the same port");
    await waitFor(async () => (await s.api("/healthz", { token: null })).status === 200, 30_000, "/healthz to answer 200");
    assert.deepEqual((await s.api("/healthz", { token: null })).body, { status: "ok", serial: 0 });
    const migrated = s.logs().find((l) => l.msg === "database migrated: serving every route and starting the workers");
    assert.ok(Array.isArray(migrated?.["migrations"]) && (migrated["migrations"] as string[]).length > 0, "it ran the migrations");
    const served = await s.api("/v1/state");
    assert.equal(served.status, 200, JSON.stringify(served.body));
    assert.equal(served.body.serial, 0);
    assert.equal((await s.api("/v1/state", { token: "wrong" })).status, 401);
    assertCleanOutput(s, password);
  });

  it("answers 503 while the database is away, logs that once, and sends what fell due meanwhile once it is back", { timeout: 90_000 }, async () => {
    assert.ok(server && db, "the runtime of the previous test runs");
    const s = server;
    await addSubscribers(url, 5);
    // Due a few seconds from now: after the database stops, before it starts again.
    const due = new Date(Date.now() + 12_000);
    await applyCampaigns(s, [{ name: "after-outage", schedule: { at: due.toISOString().replace(/\.\d+Z$/, "Z") } }]);
    const started = await s.api("/v1/sends/start", { body: { campaign: "after-outage" } });
    assert.deepEqual(started.body, { campaign: "after-outage", recipients: 5, alreadyStarted: false });

    await db.stop();
    db = undefined;
    assert.ok(Date.now() < due.getTime(), "the database stopped before the sends fell due");
    const state = await s.api("/v1/state");
    assert.equal(state.status, 503, JSON.stringify(state.body));
    assert.equal(state.body.error.code, "database_unavailable");
    assert.match(state.body.error.message, /database does not answer; try again in 5 seconds/);
    assert.equal(state.headers.get("retry-after"), "5");
    const health = await s.api("/healthz", { token: null });
    assert.equal(health.status, 503);
    assert.deepEqual(health.body, { status: "unavailable", error: "the database does not answer" });

    // The sends fall due while the workers, the rollup folder and /healthz keep finding no database.
    await new Promise((resolve) => setTimeout(resolve, due.getTime() - Date.now() + 3000));
    assert.equal((await s.api("/healthz", { token: null })).status, 503);
    assert.equal(s.exitCode(), undefined, "the runtime still runs");
    const lost = s.logs().filter((l) => l.msg === LOST);
    assert.equal(lost.length, 1, "the outage is logged once");
    assert.equal(lost[0]!["port"], port);
    assert.deepEqual(s.logs().filter((l) => /batch failed|could not fold|health check failed/.test(l.msg)), [], "and nothing else complains about it");

    const restarted = new Date();
    db = await startEmbeddedPostgres(dir, { port });
    await waitFor(async () => (await s.api("/healthz", { token: null })).status === 200, 30_000, "/healthz to answer 200 again");
    await waitFor(async () => (await query(url, "select 1 from outbox where campaign = 'after-outage'")).length === 5, 30_000, "the five sends in the outbox");
    const sends = await query<{ status: string; sent_at: Date }>(url, "select status, sent_at from sends where campaign = 'after-outage'");
    assert.deepEqual(sends.map((r) => r.status), ["sent", "sent", "sent", "sent", "sent"]);
    for (const r of sends) assert.ok(r.sent_at >= restarted, "sent after the database came back");
    assert.equal((await s.api("/v1/state")).status, 200);
    assert.equal(s.logs().filter((l) => l.msg === BACK).length, 1, "the return is logged once");
    assert.equal(s.exitCode(), undefined);
    assertCleanOutput(s, password);
  });

  it("names a wrong password or a missing database in every attempt and in its last line, never the password", { timeout: 60_000 }, async () => {
    assert.ok(db, "PostgreSQL runs");
    const wrongPassword = "not-the-password-4711";
    const cases = [
      { databaseUrl: url.replace(encodeURIComponent(password), wrongPassword), reason: 'password authentication failed for user "postgres"', hint: "check the user and password in DATABASE_URL" },
      { databaseUrl: url.replace(/\/mk$/, "/nope"), reason: 'database "nope" does not exist', hint: "check the database name in DATABASE_URL, or create the database" },
    ];
    await Promise.all(
      cases.map(async ({ databaseUrl, reason, hint }) => {
        const refused = await startServerProcess({ DATABASE_URL: databaseUrl, MK_DB_WAIT: "2", LOG_LEVEL: "info" });
        running.push(refused);
        assert.equal(await refused.exited, 69);
        const attempts = refused.logs().filter((l) => l.msg === "the database refused the runtime; retrying in case it is still being set up");
        assert.ok(attempts.length >= 1, refused.stdout());
        for (const l of attempts) assert.deepEqual([l.level, l.reason, l.hint], [50, reason, hint]);
        assert.equal(refused.stderr(), `the runtime gave up waiting for its database at 127.0.0.1:${port} (database ${databaseUrl.split("/").pop()}) after ${attempts.length + 1} attempts in 2 s: ${reason}; ${hint}, or wait longer with MK_DB_WAIT\n`);
        assertCleanOutput(refused, password);
        assertCleanOutput(refused, wrongPassword);
      }),
    );
  });
});

describe("the deployed runtime gives up on a database that never answers", { timeout: 60_000 }, () => {
  let server: ServerProcess | undefined;
  after(() => server?.kill(), { timeout: 10_000 });

  it("exits 69 after MK_DB_WAIT seconds with one line on stderr and no stack trace", { timeout: 40_000 }, async () => {
    const port = await freePort();
    server = await startServerProcess({ DATABASE_URL: `postgres://mk:secret-password-0815@127.0.0.1:${port}/mk`, MK_DB_WAIT: "3", LOG_LEVEL: "info" });
    const s = server;
    await waitFor(async () => s.logs().some((l) => l.msg === WAITING), 20_000, "the first attempt");
    const waitingSince = Date.now();
    const code = await s.exited;
    const waited = Date.now() - waitingSince;
    assert.equal(code, 69);
    assert.ok(waited > 1500 && waited < 6000, `gave up after ${waited} ms`);
    const attempts = s.logs().filter((l) => l.msg === WAITING).length;
    assert.equal(
      s.stderr(),
      `the runtime gave up waiting for its database at 127.0.0.1:${port} (database mk) after ${attempts + 1} attempts in 3 s: connect ECONNREFUSED 127.0.0.1:${port}; ` +
        "check that PostgreSQL runs and DATABASE_URL points at it, or wait longer with MK_DB_WAIT\n",
    );
    assertCleanOutput(s, "secret-password-0815");
  });
});
