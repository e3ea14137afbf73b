import { realpathSync } from "node:fs";
import path from "node:path";

/**
 * Folders mk never reads from, at any depth and whatever link leads there:
 * git's own data (its config can hold credentials) and mk's local data.
 */
const PRIVATE_FOLDERS = { ".git": "git's own data", ".mk": "mk's local data" } as const;

type PrivateFolder = keyof typeof PRIVATE_FOLDERS;

/** Why mk will not read a file of the repository. */
export type Refusal =
  | { reason: "private-folder"; folder: PrivateFolder; throughLink: boolean }
  | { reason: "link-outside" };

/** A repository-relative path once its symbolic links are followed. */
export type RepositoryFile =
  | { status: "readable"; realPath: string }
  | { status: "missing" }
  | { status: "refused"; refusal: Refusal };

/** realpath errors that mean "no file there": nothing, a file used as a folder, a link loop, a name no file can have. */
const NO_FILE = new Set(["ENOENT", "ENOTDIR", "ELOOP", "ENAMETOOLONG", "ERR_INVALID_ARG_VALUE"]);

/**
 * Where `file` (relative to `root`) really is, following every symbolic
 * link on the way. Refused, before anything is read, when the path as
 * written or as resolved is under .git/ or .mk/, or when a link leads out of
 * the repository; a link that stays inside the repository is followed.
 */
export async function resolveRepositoryFile(root: string, file: string): Promise<RepositoryFile> {
  const absolute = path.resolve(root, file);
  const written = privateFolderOf(path.relative(root, absolute));
  if (written) return { status: "refused", refusal: { reason: "private-folder", folder: written, throughLink: false } };
  let realRoot: string;
  let real: string;
  try {
    realRoot = realRootOf(root);
    real = realpathSync.native(absolute);
  } catch (error) {
    if (NO_FILE.has((error as NodeJS.ErrnoException).code ?? "")) return { status: "missing" };
    throw error;
  }
  const relative = path.relative(realRoot, real);
  if (relative === ".." || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)) {
    return { status: "refused", refusal: { reason: "link-outside" } };
  }
  const resolved = privateFolderOf(relative);
  if (resolved) return { status: "refused", refusal: { reason: "private-folder", folder: resolved, throughLink: true } };
  return { status: "readable", realPath: real };
}

const realRoots = new Map<string, string>();

/** The root once its links are followed, asked once per root (a repository has thousands of files; its root does not move during a run). */
function realRootOf(root: string): string {
  let real = realRoots.get(root);
  if (real === undefined) {
    real = realpathSync.native(root);
    realRoots.set(root, real);
  }
  return real;
}

/** What to tell the user; `subject` names the file the way they wrote it (`template templates/x.mjml`). */
export function refusalMessage(subject: string, refusal: Refusal): string {
  if (refusal.reason === "link-outside") {
    return `${subject} is a symbolic link (or goes through one) to outside the repository, which mk never reads; copy the file into the repository instead of linking to it`;
  }
  const where = `${refusal.folder}/ (${PRIVATE_FOLDERS[refusal.folder]})`;
  return refusal.throughLink
    ? `${subject} is a symbolic link (or goes through one) into ${where}, which mk never reads; point it at a file elsewhere in the repository`
    : `${subject} is in ${where}, which mk never reads; use a file elsewhere in the repository`;
}

/** The private folder a relative path is under; case-insensitively, as some file systems resolve `.GIT` to `.git`. */
function privateFolderOf(relative: string): PrivateFolder | undefined {
  const segments = relative.split(path.sep).map((segment) => segment.toLowerCase());
  return (Object.keys(PRIVATE_FOLDERS) as PrivateFolder[]).find((folder) => segments.includes(folder));
}
