/**
 * The deployed runtime: `node dist/runtime/server.js` (the docker image's
 * command). Configuration from the environment. It listens at once; until
 * its database answers, /healthz and every route answer 503. Then the
 * migrations run, under an advisory lock, so any number of replicas can
 * start together, and the workers start.
 *
 * Exit codes (sysexits.h): 78 the configuration is invalid; 69 the database
 * did not answer within MK_DB_WAIT seconds; 1 anything else (logged).
 */
import { buildRuntime } from "./app.js";
import { ConfigError, loadConfig } from "./config.js";
import { migrate } from "./db/migrate.js";
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

async function waitAndMigrate(databaseUrl: string, waitSeconds: number, log: WaitLog): Promise<string[]> {
  for (;;) {
    await waitForDatabase(databaseUrl, { waitSeconds, log });
    try {
      return await migrate(databaseUrl);
    } catch (error) {
      const failure = connectionFailure(error);
      if (!failure) throw error;
      log.warn(failure, "lost the database while migrating; waiting for it again");
    }
  }
}

const config = configuration();
const runtime = buildRuntime(config, { awaitDatabase: true });
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
  const migrations = await waitAndMigrate(config.DATABASE_URL, config.MK_DB_WAIT, runtime.app.log);
  // 3. Serve every route; start the workers.
  runtime.app.log.info({ migrations }, "database migrated: serving every route and starting the workers");
  await runtime.databaseReady();
} catch (error) {
  if (error instanceof DatabaseWaitTimeout) {
    process.stderr.write(`${error.message}\n`);
    process.exit(EXIT_DATABASE_UNAVAILABLE);
  }
  runtime.app.log.fatal({ err: error }, "the runtime could not start");
  process.exit(1);
}
