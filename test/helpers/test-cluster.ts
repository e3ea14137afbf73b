import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { migrate } from "../../runtime/db/migrate.js";
import { startEmbeddedPostgres } from "../../runtime/db/embedded.js";

/** Every test database is a copy of this one, migrated once per cluster. */
export const TEMPLATE_DATABASE = "mk_template";
/** Where `npm test` tells each test process the run's cluster is (its `mk` database, as the superuser). */
export const CLUSTER_URL_VARIABLE = "MK_TEST_CLUSTER_URL";

export interface TestCluster {
  /** postgres://… for the cluster's `mk` database, as its superuser. */
  url: string;
  stop: () => Promise<void>;
}

/**
 * An embedded PostgreSQL cluster in a temporary folder, on a free port (or
 * MK_TEST_POSTGRES_PORT, to reach it with psql while debugging), with a
 * migrated template database. `npm test` starts one for the whole run and
 * every test process makes its databases there; a test file run on its own
 * starts its own. `binDir`: another installation's programs (see
 * startEmbeddedPostgres).
 */
export async function startTestCluster(options: { binDir?: string } = {}): Promise<TestCluster> {
  const dir = await mkdtemp(path.join(tmpdir(), "mk-pg-"));
  // Enterable by others, so that run as root the cluster stays inside it (and goes with it) rather than in /var/lib/mk.
  await chmod(dir, 0o755);
  const port = process.env["MK_TEST_POSTGRES_PORT"];
  const remove = () => rm(dir, { recursive: true, force: true });
  let db;
  try {
    db = await startEmbeddedPostgres(dir, { ...(port ? { port: Number(port) } : {}), ...options });
  } catch (error) {
    await remove();
    throw error;
  }
  const stop = async () => {
    await db.stop();
    await remove();
  };
  try {
    await adminQuery(db.url, `create database ${TEMPLATE_DATABASE}`);
    await migrate(databaseUrl(db.url, TEMPLATE_DATABASE));
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: db.url, stop };
}

/** The URL of another database of the same cluster. */
export function databaseUrl(clusterUrl: string, name: string): string {
  return clusterUrl.replace(/\/mk$/, `/${name}`);
}

/** One statement on the cluster's `mk` database, on a connection of its own. */
export async function adminQuery(clusterUrl: string, sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: clusterUrl });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}
