import { spawn } from "node:child_process";
import path from "node:path";

export interface RunOptions {
  uid?: number;
  gid?: number;
  env?: NodeJS.ProcessEnv;
  timeout?: number;
}

/**
 * Run a program to its end, in a process group of its own, and resolve with
 * what it printed; reject (with stdout and stderr on the error) when it fails.
 * Every program the PostgreSQL launcher runs (id, useradd, chmod, initdb,
 * pg_ctl) runs so: Ctrl-C in the terminal signals the whole foreground group,
 * and mk up must be the one to hear it — it lets the step finish, then stops
 * cleanly — not a half-made cluster's initdb, or an `id` whose death reads as
 * "no such user".
 */
export function runDetached(file: string, args: readonly string[], options: RunOptions = {}): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { ...options, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("error", (error) => reject(Object.assign(error, { stdout, stderr })));
    child.once("close", (code, signal) => {
      if (code === 0) resolve({ stdout, stderr });
      else reject(Object.assign(new Error(`${path.basename(file)} ${signal ? `was stopped by ${signal}` : `exited with ${code}`}`), { stdout, stderr }));
    });
  });
}
