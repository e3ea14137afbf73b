import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { SIGNING_SECRET, TOKEN } from "./runtime.js";

/**
 * A worker script (send-worker-process.ts, sequence-worker-process.ts) in its
 * own process against `databaseUrl`, for the crash tests that SIGKILL it;
 * resolves once it says its workers run.
 */
export async function startWorkerProcess(script: string, databaseUrl: string, env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", script], {
    env: { ...process.env, DATABASE_URL: databaseUrl, MK_API_TOKEN: TOKEN, MK_SIGNING_SECRET: SIGNING_SECRET, MK_LEASE_SECONDS: "5", LOG_LEVEL: "silent", ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const [line] = (await once(child.stdout!, "data")) as [Buffer];
  assert.equal(line.toString().trim(), "ready");
  return child;
}
