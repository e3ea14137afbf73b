/**
 * PostgreSQL could not be started, created or stopped, for a reason mk
 * cannot fix itself: `reason` is PostgreSQL's own words, `action` what to do.
 * The message is one line.
 */
export class PostgresStartError extends Error {
  constructor(
    readonly reason: string,
    readonly action: string,
  ) {
    super(`PostgreSQL could not start: ${reason}; ${action}`);
    this.name = "PostgresStartError";
  }
}

/** Server log lines that say why it stopped (`… LOG:  could not bind …`, `FATAL:  …`), with the prefix cut. */
const SEVERE = /\b(FATAL|PANIC|ERROR):\s+(.*)$/;
const COULD_NOT = /\bLOG:\s+(could not .*)$/;

/**
 * PostgreSQL's reason in one line, from its server log (this start only) and
 * what pg_ctl or initdb printed: the first "could not …" line and the fatal
 * one (`could not bind IPv4 address "127.0.0.1": Address already in use
 * (could not create any TCP/IP sockets)`), else pg_ctl's own words.
 */
export function failureReason(serverLog: string, toolOutput: string): string {
  const lines = serverLog.split("\n");
  const detail = lines.map((line) => COULD_NOT.exec(line)?.[1]).find(Boolean);
  const fatal = lines.map((line) => SEVERE.exec(line)?.[2]).find(Boolean);
  if (detail && fatal) return `${detail} (${fatal})`;
  if (detail ?? fatal) return (detail ?? fatal)!;
  const said = toolOutput
    .split("\n")
    .map((line) => line.replace(/^(pg_ctl|initdb):\s*/, "").trim())
    .filter((line) => line && !/^(waiting for server|stopped waiting|Examine the log output|The files belonging|This user must|creating |fixing |selecting |running |performing |syncing |ok$|\.+)/.test(line));
  return said[0] ?? "it stopped without saying why";
}

/** What to do about a reason, in a few words. */
export function failureAction(reason: string, context: { port: number; logFile: string; user: string; dataDir: string }): string {
  if (/Address already in use/i.test(reason)) return `port ${context.port} is in use; stop what listens there, or choose another port`;
  if (/Permission denied|could not access|must be owned|wrong ownership|permissions should be/i.test(reason)) {
    return `the user "${context.user}" must own ${context.dataDir} and be able to enter every folder above it; fix the permissions or choose another data folder`;
  }
  if (/did not start in time/i.test(reason)) return `see ${context.logFile}`;
  if (/No space left/i.test(reason)) return "free some disk space";
  if (/incompatible|database files are incompatible/i.test(reason)) return `the data in ${context.dataDir} was made by another PostgreSQL version; move it away to start afresh`;
  return `see ${context.logFile}`;
}
