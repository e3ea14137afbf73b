import { execFile } from "node:child_process";
import type { SimpleGit } from "simple-git";
import type { ApplySource } from "../schemas/api.js";

/** simple-git is loaded on first use: commands that ask git nothing but isTracked (mk status, mk send) start without it. */
async function gitIn(dir: string): Promise<SimpleGit> {
  const { simpleGit } = await import("simple-git");
  return simpleGit({ baseDir: dir });
}

/**
 * Where the repository stands in git, recorded with each apply: commit,
 * author of that commit, branch and whether there are uncommitted changes.
 * Outside a git repository every field is null. In GitHub Actions the
 * checkout is detached; GITHUB_HEAD_REF / GITHUB_REF_NAME name the branch.
 */
export async function gitSource(dir: string, env: NodeJS.ProcessEnv = process.env): Promise<ApplySource> {
  const git = await gitIn(dir);
  try {
    if (!(await git.checkIsRepo())) return { commit: null, author: null, branch: null, dirty: null };
    const [log, status, branch] = await Promise.all([git.log({ maxCount: 1 }), git.status(), git.revparse(["--abbrev-ref", "HEAD"])]);
    const latest = log.latest;
    const named = branch === "HEAD" ? (env["GITHUB_HEAD_REF"] || env["GITHUB_REF_NAME"] || null) : branch;
    return {
      commit: latest?.hash ?? null,
      author: latest ? `${latest.author_name} <${latest.author_email}>` : null,
      branch: named,
      dirty: !status.isClean(),
    };
  } catch {
    // A repository without commits, or git missing: nothing to record.
    return { commit: null, author: null, branch: null, dirty: null };
  }
}

/**
 * The text of `file` (relative to `dir`) as commit-ish `rev` has it, e.g.
 * mk.yaml on origin/main. Rejects with git's reason when the revision or
 * the file is not there (an unfetched base branch, outside a repository).
 */
export async function fileAtRevision(dir: string, rev: string, file: string): Promise<string> {
  return (await gitIn(dir)).show([`${rev}:./${file}`]);
}

/**
 * Whether Git tracks `file` (in `dir`); false outside a repository or without
 * git. Asked of git itself, not through simple-git: every command on the
 * local runtime asks this, and loading simple-git costs them more than git's
 * answer does.
 */
export async function isTracked(dir: string, file: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile("git", ["ls-files", "--error-unmatch", "--", file], { cwd: dir }, (error) => resolve(error === null));
  });
}
