/**
 * The deployed runtime: `node dist/runtime/server.js` (the docker image's
 * command). Configuration from the environment; migrations run first, under
 * an advisory lock, so any number of replicas can start together.
 */
import { buildRuntime } from "./app.js";
import { ConfigError, loadConfig } from "./config.js";
import { migrate } from "./db/migrate.js";

try {
  const config = loadConfig();
  await migrate(config.DATABASE_URL);
  const runtime = buildRuntime(config);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      runtime.app.log.info({ signal }, "stopping");
      void runtime.close().then(() => process.exit(0));
    });
  }
  await runtime.app.listen({ port: config.PORT, host: config.HOST });
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(78);
  }
  throw error;
}
