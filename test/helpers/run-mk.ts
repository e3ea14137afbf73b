import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BIN = fileURLToPath(new URL("../../bin/run.js", import.meta.url));

export interface MkRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built `mk` binary in a fresh process, the way a user does.
 * `npm test` builds first, so dist/ is current.
 */
export function runMk(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<MkRun> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: options.cwd ?? REPO_ROOT, env: { ...process.env, NO_COLOR: "1", MK_DEBUG: "", GITHUB_ACTIONS: "", GITHUB_STEP_SUMMARY: "", GITHUB_EVENT_NAME: "", GITHUB_BASE_REF: "", MK_ENVIRONMENT_URL: "", ...options.env }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== "number") {
          reject(error);
          return;
        }
        resolve({ code: typeof error?.code === "number" ? error.code : 0, stdout, stderr });
      },
    );
    child.stdin?.end();
  });
}

/** A stack trace line as node prints it ("    at fn (file:line:col)"). */
export const STACK_LINE = /^\s+at .+[:(]/m;
