import { readFile, unlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { MkError } from "../errors.js";

/** Who holds a data folder: the process, and (where /proc tells) when it started, so a reused pid is not taken for it. */
interface Holder {
  pid: number;
  started: string | null;
}

const UP_LOCK_FILE = "up.lock";

/**
 * One mk up per data folder: `<dataDir>/up.lock`, created exclusively before
 * PostgreSQL starts and removed when mk up stops. A lock whose process is
 * gone (a killed mk up) is stale and taken over; one whose process lives is
 * MK094, with the URL from runtime.json when that mk up is already serving.
 * Returns the release function.
 */
export async function lockDataFolder(dataDir: string, runtimeFile: string): Promise<() => Promise<void>> {
  const file = path.join(dataDir, UP_LOCK_FILE);
  const me: Holder = { pid: process.pid, started: await startTime(process.pid) };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(file, `${JSON.stringify(me)}\n`, { flag: "wx", mode: 0o600 });
      return () => unlink(file).catch(() => undefined);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = await readHolder(file);
    if (holder && (await alive(holder))) {
      const url = await readFile(runtimeFile, "utf8").then((text) => (JSON.parse(text) as { url?: string }).url, () => undefined);
      throw new MkError("MK094", `another mk up (pid ${holder.pid}) is running on ${dataDir}${url ? ` at ${url}` : " (still starting)"}; use it, or stop it first`);
    }
    await unlink(file).catch(() => undefined);
  }
  throw new MkError("MK094", `another mk up keeps taking ${file}; stop it first`);
}

async function readHolder(file: string): Promise<Holder | undefined> {
  try {
    return JSON.parse(await readFile(file, "utf8")) as Holder;
  } catch {
    return undefined;
  }
}

async function alive(holder: Holder): Promise<boolean> {
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  return holder.started === null || (await startTime(holder.pid)) === holder.started;
}

/** The process's start time in clock ticks since boot (/proc/<pid>/stat, field 22); null where there is no /proc. */
async function startTime(pid: number): Promise<string | null> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => undefined);
  if (stat === undefined) return null;
  // Fields after the command name, which is in parentheses and may hold spaces: state is field 3, starttime field 22.
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
}
