import { setTimeout as delay } from "node:timers/promises";
import pg from "pg";
import { connectionFailure, databaseTarget, reconnectDelayMs, RECONNECT_CEILING_MS, type ConnectionFailure, type DatabaseTarget } from "./connection-failure.js";

export interface WaitLog {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

export interface WaitOptions {
  /** Give up after this long (MK_DB_WAIT); 0 tries once. */
  waitSeconds: number;
  log: WaitLog;
  random?: () => number;
}

/** The database did not answer within MK_DB_WAIT; the message is the runtime's last line. */
export class DatabaseWaitTimeout extends Error {
  constructor(
    readonly target: DatabaseTarget,
    readonly attempts: number,
    readonly waitSeconds: number,
    readonly failure: ConnectionFailure,
  ) {
    super(
      `the runtime gave up waiting for its database at ${target.host}:${target.port} (database ${target.database}) ` +
        `after ${attempts} attempt${attempts === 1 ? "" : "s"} in ${waitSeconds} s: ${failure.reason}; ` +
        `${failure.hint ?? "check that PostgreSQL runs and DATABASE_URL points at it"}, or wait longer with MK_DB_WAIT`,
    );
    this.name = "DatabaseWaitTimeout";
  }
}

/**
 * Connect until the database answers `select 1`, logging each failed attempt
 * (host, port, database, reason; never the password) and waiting
 * reconnectDelayMs between them; a DatabaseWaitTimeout after `waitSeconds`.
 * An error that is no connection failure (connectionFailure) is thrown as it is.
 *
 * A server that answers and refuses (wrong password, no such role or
 * database) is retried too, logged as an error with what to check: under
 * compose or an operator the role and database are often created by a script
 * or a job that runs after the server accepts connections, and a rotated
 * password reaches the database and the runtime's secret at different
 * moments. A real mistake still ends in the same clear last line, once
 * MK_DB_WAIT runs out.
 */
export async function waitForDatabase(databaseUrl: string, options: WaitOptions): Promise<void> {
  const target = databaseTarget(databaseUrl);
  const started = Date.now();
  const deadline = started + options.waitSeconds * 1000;
  for (let attempt = 1; ; attempt++) {
    const error = await probe(databaseUrl, Math.min(RECONNECT_CEILING_MS, Math.max(1000, deadline - Date.now())));
    if (error === undefined) {
      if (attempt > 1) options.log.info({ ...target, attempt, waitedMs: Date.now() - started }, "the database answers");
      return;
    }
    const failure = connectionFailure(error);
    if (!failure) throw error;
    const left = deadline - Date.now();
    if (left <= 0) throw new DatabaseWaitTimeout(target, attempt, options.waitSeconds, failure);
    const retryInMs = Math.min(left, reconnectDelayMs(attempt, options.random));
    const line = { ...target, attempt, ...failure, retryInMs };
    if (failure.hint) options.log.error(line, "the database refused the runtime; retrying in case it is still being set up");
    else options.log.warn(line, "the database does not answer yet; retrying");
    await delay(retryInMs);
  }
}

/** One attempt: undefined when the database answered, else why not. */
async function probe(databaseUrl: string, timeoutMs: number): Promise<unknown> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: timeoutMs, application_name: "mk-runtime" });
  // A connection that breaks during the probe also emits "error"; the probe's own promise carries it.
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("select 1");
    return undefined;
  } catch (error) {
    return error;
  } finally {
    await client.end().catch(() => undefined);
  }
}
