import { adminQuery, CLUSTER_URL_VARIABLE, databaseUrl, startTestCluster, TEMPLATE_DATABASE, type TestCluster } from "./test-cluster.js";

/** The run's cluster (shared: `npm test` stops it) or this process's own (stopped by stopDatabase). */
let cluster: Promise<{ url: string; own?: TestCluster }> | undefined;
let created: string[] = [];
let databases = 0;

/**
 * A real PostgreSQL for this test file: a fresh, migrated database for each
 * caller, so tests never see each other's rows. Under `npm test` it is made
 * in the run's one embedded cluster (MK_TEST_CLUSTER_URL); a file run on
 * its own starts a cluster on first use. Either way it is a copy of a
 * template migrated once (milliseconds, not a migration run each). When the
 * cluster cannot start, this rejects with PostgreSQL's reason, and the hook
 * that called it fails its file. Call `stopDatabase` in `after`.
 */
export async function freshDatabase(): Promise<string> {
  cluster ??= (async () => {
    const shared = process.env[CLUSTER_URL_VARIABLE];
    if (shared) return { url: shared };
    const own = await startTestCluster();
    return { url: own.url, own };
  })();
  const { url } = await cluster;
  const name = `test_${process.pid}_${++databases}`;
  await adminQuery(url, `create database ${name} template ${TEMPLATE_DATABASE}`);
  created.push(name);
  return databaseUrl(url, name);
}

/**
 * This file is done with its databases (tests call it in `after`, so the
 * process can exit): they are dropped from the run's cluster, or this
 * process's own cluster is stopped and removed.
 */
export async function stopDatabase(): Promise<void> {
  if (!cluster) return;
  const { url, own } = await cluster;
  cluster = undefined;
  const names = created;
  created = [];
  if (own) {
    await own.stop();
    return;
  }
  for (const name of names) await adminQuery(url, `drop database if exists ${name} with (force)`);
}
