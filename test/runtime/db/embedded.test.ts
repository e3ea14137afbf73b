import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { chmod, chown, mkdir, mkdtemp, readFile, realpath, rm, stat, symlink, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { PostgresStartError, startEmbeddedPostgres } from "../../../runtime/db/embedded.js";
import { failureAction, failureReason } from "../../../runtime/db/postgres-failure.js";
import { postgresUser } from "../../../runtime/db/postgres-binaries.js";

async function query(url: string, sql: string): Promise<Record<string, unknown>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows[0] as Record<string, unknown>;
  } finally {
    await client.end();
  }
}

async function serverPid(dataDir: string): Promise<number | undefined> {
  const pidFile = path.join(dataDir, "postgres", "postmaster.pid");
  if (!existsSync(pidFile)) return undefined;
  return Number((await readFile(pidFile, "utf8")).split("\n")[0]);
}

/** Alive and not a zombie (an orphan's exit status waits for a reaper that may never come). */
async function isRunning(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => undefined);
  return stat !== undefined && stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
}

describe("embedded PostgreSQL", { timeout: 180_000 }, () => {
  let base: string;
  before(async () => {
    base = await mkdtemp(path.join(tmpdir(), "mk-embedded-"));
    // Enterable by others, so that run as root the clusters stay inside it rather than in /var/lib/mk.
    await chmod(base, 0o755);
  }, { timeout: 120_000 });
  after(async () => {
    await rm(base, { recursive: true, force: true });
  }, { timeout: 120_000 });

  it("starts a cluster, keeps its data across a restart, and stops", async () => {
    const dir = path.join(base, "restart");
    const first = await startEmbeddedPostgres(dir);
    await query(first.url, "create table kept (n int)");
    await query(first.url, "insert into kept values (42)");
    await first.stop();
    assert.equal(await serverPid(dir), undefined, "stopped: no postmaster.pid");
    const second = await startEmbeddedPostgres(dir);
    try {
      assert.deepEqual(await query(second.url, "select n from kept"), { n: 42 });
      assert.deepEqual(await query(second.url, "select current_setting('server_encoding') as e"), { e: "UTF8" });
    } finally {
      await second.stop();
    }
  });

  it("stops the server a SIGKILLed owner left running on the data folder, then starts", async () => {
    const dir = path.join(base, "left-over");
    const owner = spawn(process.execPath, ["--import", "tsx", path.join(import.meta.dirname, "../../helpers/postgres-process.ts"), dir], { stdio: ["ignore", "pipe", "inherit"] });
    const [line] = (await once(owner.stdout!, "data")) as [Buffer];
    const leftUrl = line.toString().trim();
    owner.kill("SIGKILL");
    await once(owner, "exit");
    const leftPid = await serverPid(dir);
    assert.ok(leftPid, "the killed owner's server is still running");
    assert.deepEqual(await query(leftUrl, "select 1 as alive"), { alive: 1 });

    const db = await startEmbeddedPostgres(dir);
    try {
      const pid = await serverPid(dir);
      assert.notEqual(pid, leftPid, "a new server, not the left-over one");
      assert.equal(await isRunning(leftPid!), false, "the left-over server is gone");
      assert.deepEqual(await query(db.url, "select 1 as alive"), { alive: 1 });
    } finally {
      await db.stop();
    }
  });

  it("takes a postmaster.pid whose pid is now another program (the machine restarted) for stale, and starts", async () => {
    const dir = path.join(base, "stale");
    const first = await startEmbeddedPostgres(dir);
    await first.stop();
    // This test's own process stands in for whatever reused the pid.
    await writeFile(path.join(dir, "postgres", "postmaster.pid"), `${process.pid}\n${path.join(dir, "postgres")}\n`);
    const db = await startEmbeddedPostgres(dir);
    try {
      assert.deepEqual(await query(db.url, "select 1 as alive"), { alive: 1 });
    } finally {
      await db.stop();
    }
  });

  it("run as root, puts the cluster of a folder postgres cannot enter under /var/lib/mk, never through a link it did not make", { skip: process.getuid?.() === 0 ? false : "needs root" }, async () => {
    const closed = path.join(base, "closed");
    await mkdir(closed, { mode: 0o700 });
    await chmod(closed, 0o700);
    const dataDir = path.join(closed, ".mk");
    const db = await startEmbeddedPostgres(dataDir);
    const cluster = await realpath(path.join(dataDir, "postgres"));
    try {
      assert.match(cluster, /^\/var\/lib\/mk\/clusters\/[0-9a-f]{16}$/);
      assert.deepEqual(await query(db.url, "select 1 as alive"), { alive: 1 });
    } finally {
      await db.stop();
      await rm(cluster, { recursive: true, force: true });
    }

    // A link someone else placed, to a folder of theirs (here: nobody's), is refused, not chowned.
    const planted = path.join(base, "planted");
    const theirs = path.join(base, "theirs");
    await mkdir(path.join(planted, ".mk"), { recursive: true });
    await mkdir(theirs);
    await chown(theirs, 65534, 65534);
    await symlink(theirs, path.join(planted, ".mk", "postgres"));
    await assert.rejects(startEmbeddedPostgres(path.join(planted, ".mk")), (error: unknown) => {
      assert.ok(error instanceof PostgresStartError);
      assert.match(error.message, /belongs to another user \(uid 65534/);
      return true;
    });
    assert.equal((await stat(theirs)).uid, 65534, "left as it was");
  });

  describe("when PostgreSQL cannot start", () => {
    let busy: Server;
    let busyPort: number;
    before(async () => {
      busy = createServer();
      busy.listen(0, "127.0.0.1");
      await once(busy, "listening");
      busyPort = (busy.address() as { port: number }).port;
    }, { timeout: 120_000 });
    after(() => {
      busy.close();
    }, { timeout: 120_000 });

    it("a busy port is one line with PostgreSQL's reason and what to do, in under 30 s", async () => {
      const dir = path.join(base, "busy");
      const started = Date.now();
      await assert.rejects(startEmbeddedPostgres(dir, { port: busyPort }), (error: unknown) => {
        assert.ok(error instanceof PostgresStartError);
        assert.match(error.message, /^PostgreSQL could not start: could not bind IPv4 address "127\.0\.0\.1": Address already in use/);
        assert.match(error.message, new RegExp(`port ${busyPort} is in use; stop what listens there, or choose another port$`));
        assert.doesNotMatch(error.message, /\n/);
        return true;
      });
      assert.ok(Date.now() - started < 30_000);
      assert.equal(await serverPid(dir), undefined, "nothing left running");
      // The same folder starts once the port is chosen freely.
      const db = await startEmbeddedPostgres(dir);
      await db.stop();
    });

    it("a data folder PostgreSQL may not read is one line with its reason", async () => {
      const dir = path.join(base, "denied");
      const db = await startEmbeddedPostgres(dir);
      await db.stop();
      const global = path.join(dir, "postgres", "global");
      await chmod(global, 0o000);
      try {
        await assert.rejects(startEmbeddedPostgres(dir), (error: unknown) => {
          assert.ok(error instanceof PostgresStartError);
          assert.match(error.reason, /Permission denied/);
          assert.match(error.action, /must own .* and be able to enter every folder above it/);
          assert.doesNotMatch(error.message, /\n/);
          return true;
        });
      } finally {
        await chmod(global, 0o700);
      }
    });
  });

  it("run as root, takes the user postgres that useradd says already exists (an id that failed once, or another mk up creating it)", { skip: process.getuid?.() === 0 ? false : "needs root", timeout: 20_000 }, async () => {
    const bin = await mkdtemp(path.join(tmpdir(), "mk-fake-id-"));
    const marker = path.join(bin, "failed-once");
    await writeFile(path.join(bin, "id"), `#!/bin/sh\nif [ ! -e ${marker} ]; then touch ${marker}; echo "id: interrupted" >&2; exit 1; fi\nexec /usr/bin/id "$@"\n`, { mode: 0o755 });
    await writeFile(path.join(bin, "useradd"), "#!/bin/sh\necho \"useradd: user 'postgres' already exists\" >&2\nexit 9\n", { mode: 0o755 });
    const saved = process.env["PATH"];
    process.env["PATH"] = `${bin}:${saved}`;
    try {
      const user = await postgresUser();
      const real = { uid: Number(execFileSync("/usr/bin/id", ["-u", "postgres"]).toString()), gid: Number(execFileSync("/usr/bin/id", ["-g", "postgres"]).toString()) };
      assert.deepEqual(user, { name: "postgres", ...real });
      assert.ok(existsSync(marker), "the first id failed");
    } finally {
      process.env["PATH"] = saved;
      await rm(bin, { recursive: true, force: true });
    }
  });
});

describe("PostgreSQL's reason, read from its log", { timeout: 10_000 }, () => {
  it("joins the first 'could not' line and the fatal one, without prefixes", () => {
    const log = [
      '2026-12-01 09:30:00.123 UTC [1234] LOG:  could not bind IPv4 address "127.0.0.1": Address already in use',
      "2026-12-01 09:30:00.123 UTC [1234] HINT:  Is another postmaster already running on port 5432? If not, wait a few seconds and retry.",
      "2026-12-01 09:30:00.124 UTC [1234] FATAL:  could not create any TCP/IP sockets",
    ].join("\n");
    assert.equal(failureReason(log, "pg_ctl: could not start server\nExamine the log output."), 'could not bind IPv4 address "127.0.0.1": Address already in use (could not create any TCP/IP sockets)');
  });

  it("falls back to what pg_ctl said when the server logged nothing", () => {
    assert.equal(failureReason("", 'waiting for server to start....\npg_ctl: directory "/x" is not a database cluster directory'), 'directory "/x" is not a database cluster directory');
    assert.equal(failureReason("", ""), "it stopped without saying why");
  });

  it("says what to do for the reasons mk knows", () => {
    const context = { port: 5432, logFile: "/d/postgres.log", user: "postgres", dataDir: "/d" };
    assert.match(failureAction("Address already in use", context), /port 5432 is in use/);
    assert.match(failureAction('could not open file "global/pg_control": Permission denied', context), /"postgres" must own \/d/);
    assert.equal(failureAction("something new", context), "see /d/postgres.log");
  });
});
