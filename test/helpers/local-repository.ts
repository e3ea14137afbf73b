import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { initRepository } from "../../cli/init/scaffold.js";
import { startLocalRuntime, type LocalRuntime } from "../../cli/local/up.js";
import { runMk, type MkRun } from "./run-mk.js";

export interface LocalRepository {
  /** The repository folder mk init wrote. */
  repo: string;
  local: LocalRuntime;
  /** The real mk binary on the repository (--dir added). */
  mk: (...args: string[]) => Promise<MkRun>;
  /** The runtime's API with its token: JSON in, JSON out. */
  api: (pathname: string, body?: unknown) => Promise<any>;
  /** Stop the runtime and PostgreSQL, and remove the folder. */
  stop: () => Promise<void>;
}

/** mk init's repository in a fresh temporary folder, with mk up's runtime (embedded PostgreSQL) on it; `environment` adds to mk up's. */
export async function initAndUp(prefix: string, environment: NodeJS.ProcessEnv = {}): Promise<LocalRepository> {
  const base = await mkdtemp(path.join(tmpdir(), prefix));
  // Enterable by others, so that run as root the cluster stays inside it rather than in /var/lib/mk.
  await chmod(base, 0o755);
  const repo = path.join(base, "campaigns");
  initRepository(repo, { force: false });
  const local = await startLocalRuntime({ dataDir: path.join(repo, ".mk"), port: 0, environment: { ...process.env, ...environment } });
  return {
    repo,
    local,
    mk: (...args) => runMk([...args, "--dir", repo]),
    api: async (pathname, body) => {
      const response = await fetch(local.url + pathname, {
        method: body === undefined ? "GET" : "POST",
        headers: { authorization: `Bearer ${local.token}`, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return response.json();
    },
    stop: async () => {
      await local.stop();
      await rm(base, { recursive: true, force: true });
    },
  };
}
