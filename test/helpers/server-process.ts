import path from "node:path";
import { freePort } from "../../runtime/db/embedded.js";
import { startCommand } from "./mk-up-process.js";
import { REPO_ROOT } from "./run-mk.js";
import { apiClient, SIGNING_SECRET, TOKEN, type ApiClient } from "./runtime.js";

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** runtime/server.ts in its own process, as deployed (through tsx), with what it printed so far. */
export interface ServerProcess {
  url: string;
  api: ApiClient;
  /** Its pino lines on stdout, parsed. */
  logs: () => LogLine[];
  stdout: () => string;
  stderr: () => string;
  /** Its exit code (or the signal's name) once it exits. */
  exited: Promise<number | string>;
  /** The exit code so far: undefined while it runs. */
  exitCode: () => number | string | undefined;
  /** SIGKILL it unless it has exited, and wait for that. */
  kill: () => Promise<void>;
}

/** Start the runtime's entry point on a free loopback port with the test token and secret, the given environment on top. */
export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const port = await freePort();
  const command = startCommand(process.execPath, ["--import", "tsx", path.join(REPO_ROOT, "runtime", "server.ts")], {
    cwd: REPO_ROOT,
    env: { PATH: process.env["PATH"], HOME: process.env["HOME"], MK_API_TOKEN: TOKEN, MK_SIGNING_SECRET: SIGNING_SECRET, HOST: "127.0.0.1", PORT: String(port), MK_TRANSPORT: "outbox", ...env },
  });
  let code: number | string | undefined;
  const exited = command.exited.then(({ code: exitCode, signal }) => (code = exitCode ?? signal ?? "unknown"));
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    api: apiClient(url),
    logs: () => command.stdout().split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as LogLine),
    stdout: command.stdout,
    stderr: command.stderr,
    exited,
    exitCode: () => code,
    kill: async () => {
      if (code !== undefined) return;
      await command.signal("SIGKILL");
    },
  };
}
