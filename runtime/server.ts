/**
 * The deployed runtime: `node dist/runtime/server.js` (the docker image's
 * command). Configuration from the environment. It listens at once; until
 * its database answers, /healthz and every route answer 503. Then the
 * migrations run, under an advisory lock, so any number of replicas can
 * start together, and the workers start. With MK_MIGRATION_DATABASE_URL the
 * migrations run as that role (the owner), and DATABASE_URL's role is
 * granted what the runtime uses and no more (migrate.ts).
 *
 * Exit codes (sysexits.h): 78 the configuration is invalid (also: DATABASE_URL's
 * role could act as MK_MIGRATION_DATABASE_URL's); 69 the database did not
 * answer within MK_DB_WAIT seconds; 1 anything else (logged).
 */
import { buildRuntime } from "./app.js";
import type { RuntimeConfig } from "../schemas/runtime-config.js";
import { ConfigError, loadConfig } from "./config.js";
import { migrateAs, RuntimeRoleRefused } from "./db/migrate.js";
import { connectionFailure } from "./db/connection-failure.js";
import { DatabaseWaitTimeout, waitForDatabase, type WaitLog } from "./db/wait-for-database.js";

const EXIT_CONFIG = 78;
const EXIT_DATABASE_UNAVAILABLE = 69;

function configuration() {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(EXIT_CONFIG);
  }
}

async function waitAndMigrate(urls: Pick<RuntimeConfig, "DATABASE_URL" | "MK_MIGRATION_DATABASE_URL">, waitSeconds: number, log: WaitLog): Promise<string[]> {
  for (;;) {
    // The migration role's connection, then the runtime's own (one and the same without MK_MIGRATION_DATABASE_URL).
    for (const url of new Set([urls.MK_MIGRATION_DATABASE_URL ?? urls.DATABASE_URL, urls.DATABASE_URL])) await waitForDatabase(url, { waitSeconds, log });
    try {
      return await migrateAs(urls);
    } catch (error) {
      const failure = connectionFailure(error);
      if (!failure) throw error;
      log.warn(failure, "lost the database while migrating; waiting for it again");
    }
  }
}

const config = configuration();
const runtime = buildRuntime(config, { awaitDatabase: true });
if (config.MK_LEDGER_KEY === undefined) {
  runtime.app.log.warn("MK_LEDGER_KEY is not set: the tax ledger's hash chain is unkeyed (plain SHA-256), so whoever can change its rows can recompute it; set MK_LEDGER_KEY (openssl rand -base64 32)");
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    runtime.app.log.info({ signal }, "stopping");
    void runtime.close().finally(() => process.exit(0));
  });
}
try {
  // 1. Listen: /healthz says the runtime waits for its database.
  await runtime.app.listen({ port: config.PORT, host: config.HOST });
  // 2. Wait for the database, then migrate it (waiting again if it goes away in between).
  const migrations = await waitAndMigrate(config, config.MK_DB_WAIT, runtime.app.log);
  // 3. Serve every route; start the workers.
  runtime.app.log.info({ migrations }, "database migrated: serving every route and starting the workers");
  await runtime.databaseReady();
} catch (error) {
  if (error instanceof DatabaseWaitTimeout) {
    process.stderr.write(`${error.message}\n`);
    process.exit(EXIT_DATABASE_UNAVAILABLE);
  }
  if (error instanceof RuntimeRoleRefused) {
    process.stderr.write(`${error.message}\n`);
    process.exit(EXIT_CONFIG);
  }
  runtime.app.log.fatal({ err: error }, "the runtime could not start");
  process.exit(1);
}
