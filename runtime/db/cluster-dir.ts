import { createHash } from "node:crypto";
import { chmod, chown, lstat, mkdir, readlink, symlink } from "node:fs/promises";
import path from "node:path";
import { othersCanEnter, rootOwnedPath, type PostgresUser } from "./postgres-binaries.js";
import { PostgresStartError } from "./postgres-failure.js";

/**
 * Where clusters live when the user `postgres` cannot enter the data folder
 * (run as root in a clone under /root): a folder owned by root that no other
 * user can write to — unlike /var/tmp, where anyone could plant a folder or a
 * link under the expected name, and which systemd empties of old files.
 */
const SHARED_CLUSTERS = "/var/lib/mk/clusters";

/**
 * The cluster's folder, owned by the user that runs PostgreSQL, mode 0700:
 * `<dataDir>/postgres`, or — run as root, when `postgres` cannot enter the
 * data folder — /var/lib/mk/clusters/<hash of dataDir>, which
 * `<dataDir>/postgres` links to. A link that is already there is followed
 * (the project was moved, or an older mk put the cluster in /var/tmp), but
 * only to a real folder (not a link) owned by that user: run as root, mk
 * never chowns or chmods through a link someone else could have placed.
 */
export async function clusterDir(dataDir: string, user: PostgresUser): Promise<string> {
  const inside = path.join(dataDir, "postgres");
  const found = await lstat(inside).catch(() => undefined);
  if (found?.isSymbolicLink()) {
    const target = path.resolve(dataDir, await readlink(inside));
    await ownCluster(target, user, `${inside} links to it`);
    return target;
  }
  if (found && !found.isDirectory()) throw new PostgresStartError(`${inside} is not a folder`, "move it away, and mk up makes the cluster there");
  if (found || user.uid === undefined || (await othersCanEnter(dataDir))) {
    await mkdir(inside, { mode: 0o700 }).catch(ignoreExisting);
    await ownCluster(inside, user, "it is the data folder's cluster");
    return inside;
  }
  await mkdir(SHARED_CLUSTERS, { recursive: true, mode: 0o755 });
  if (!(await rootOwnedPath(SHARED_CLUSTERS))) {
    throw new PostgresStartError(`${SHARED_CLUSTERS} or a folder above it is not owned by root alone`, `make it root's (chown root: and chmod 755), or choose a data folder the user "${user.name}" can enter`);
  }
  const cluster = path.join(SHARED_CLUSTERS, createHash("sha256").update(path.resolve(dataDir)).digest("hex").slice(0, 16));
  await mkdir(cluster, { mode: 0o700 }).catch(ignoreExisting);
  await ownCluster(cluster, user, "it is this data folder's cluster");
  await symlink(cluster, inside);
  return cluster;
}

/** A real folder (no link), then owned by `user` with mode 0700; one that another user already owns is refused. */
async function ownCluster(dir: string, user: PostgresUser, why: string): Promise<void> {
  const info = await lstat(dir).catch(() => undefined);
  if (!info?.isDirectory()) throw new PostgresStartError(`${dir} is not a folder (${why})`, "move the link away, and mk up makes a new cluster");
  if (user.uid !== undefined) {
    if (info.uid !== user.uid && info.uid !== 0) throw new PostgresStartError(`${dir} belongs to another user (uid ${info.uid}; ${why})`, `give it to the user "${user.name}", or move it away`);
    if (info.uid !== user.uid) await chown(dir, user.uid, user.gid!);
  }
  await chmod(dir, 0o700);
}

function ignoreExisting(error: NodeJS.ErrnoException): void {
  if (error.code !== "EEXIST") throw error;
}
