import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { migrate } from "../../runtime/db/migrate.js";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "../../runtime/db/embedded.js";

let cluster: Promise<{ db: EmbeddedDatabase; dir: string }> | undefined;
let databases = 0;

/**
 * A real PostgreSQL for this test file: one embedded cluster per test
 * process (started on first use; `stopDatabase` in `after`), and a fresh, migrated
 * database for each caller, so tests never see each other's rows. The cluster
 * listens on a free port, or on MK_TEST_POSTGRES_PORT when set (to reach it
 * with psql while debugging). When it cannot start, this rejects with
 * PostgreSQL's reason, and the hook that called it fails its file.
 */
export async function freshDatabase(): Promise<string> {
  cluster ??= (async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "mk-pg-"));
    // Enterable by others, so that run as root the cluster stays inside it (and goes with it) rather than in /var/lib/mk.
    await chmod(dir, 0o755);
    const port = process.env["MK_TEST_POSTGRES_PORT"];
    return { db: await startEmbeddedPostgres(dir, port ? { port: Number(port) } : {}), dir };
  })();
  const { db } = await cluster;
  const name = `test_${process.pid}_${++databases}`;
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = db.url.replace(/\/mk$/, `/${name}`);
  await migrate(url);
  return url;
}

/** Stop the cluster now (tests call it in `after`, so the process can exit). */
export async function stopDatabase(): Promise<void> {
  if (!cluster) return;
  const { db, dir } = await cluster;
  cluster = undefined;
  await db.stop();
  await rm(dir, { recursive: true, force: true });
}
