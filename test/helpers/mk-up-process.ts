import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";

/** A long-running command (mk up, the runtime's server) in its own process group, its output collected as it comes. */
export interface RunningCommand {
  child: ChildProcess;
  /** Everything printed so far, stdout and stderr interleaved. */
  output: () => string;
  /** What it printed so far on stdout alone, and on stderr alone. */
  stdout: () => string;
  stderr: () => string;
  /** Resolves once the output contains `text`; rejects if the process exits first or after `timeoutMs`. */
  waitForOutput: (text: string, timeoutMs: number) => Promise<void>;
  /** Resolves with the exit code (or signal) once it has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Signal the whole process group (like Ctrl-C in a terminal), and wait for the exit. */
  signal: (signal: NodeJS.Signals) => Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startCommand(command: string, args: readonly string[], options: SpawnOptions): RunningCommand {
  const child = spawn(command, args, { ...options, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let text = "";
  const streams = { stdout: "", stderr: "" };
  const listeners = new Set<() => void>();
  const append = (stream: keyof typeof streams) => (chunk: Buffer) => {
    text += chunk.toString();
    streams[stream] += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout!.on("data", append("stdout"));
  child.stderr!.on("data", append("stderr"));
  // A process that could not be spawned never exits: it reports an error instead.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
    child.once("error", (error) => {
      text += `could not start ${command}: ${error.message}\n`;
      resolve({ code: null, signal: null });
    });
  });
  return {
    child,
    output: () => text,
    stdout: () => streams.stdout,
    stderr: () => streams.stderr,
    exited,
    waitForOutput: (wanted, timeoutMs) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => finish(new Error(`no "${wanted}" after ${timeoutMs} ms; output:\n${text}`)), timeoutMs);
        const check = () => {
          if (text.includes(wanted)) finish();
        };
        const finish = (error?: Error) => {
          clearTimeout(timer);
          listeners.delete(check);
          if (error) reject(error);
          else resolve();
        };
        listeners.add(check);
        void exited.then(({ code, signal }) => {
          if (!text.includes(wanted)) finish(new Error(`exited (${code ?? signal}) before "${wanted}"; output:\n${text}`));
        });
        check();
      }),
    signal: async (signal) => {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid!, signal);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
        }
      }
      return exited;
    },
  };
}
