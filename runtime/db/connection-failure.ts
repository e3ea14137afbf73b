import pg from "pg";

/** Where the runtime's database is, for log lines and messages (never the password). */
export interface DatabaseTarget {
  host: string;
  port: number;
  database: string;
}

/** The host, port and database pg connects to for this URL (its own reading, PG* defaults included). */
export function databaseTarget(databaseUrl: string): DatabaseTarget {
  const { host, port, database, user } = new pg.Client({ connectionString: databaseUrl });
  return { host, port, database: database ?? user ?? "" };
}

/** A database call failed because there is no usable connection, not because of what it asked. */
export interface ConnectionFailure {
  /** Node's or PostgreSQL's code (ECONNREFUSED, 57P01, 28P01 …); none for a connection pg saw end. */
  code: string | undefined;
  /** pg's own words: "connect ECONNREFUSED 127.0.0.1:5432", 'password authentication failed for user "mk"'. */
  reason: string;
  /** When the server answered but refused the runtime: what to check. */
  hint?: string;
}

/** Nothing listens yet, the host or network is not there (yet), or the connection broke. */
const SOCKET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "EHOSTDOWN", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "EPIPE"]);
/** The server shuts down (a restart, or a backend terminated), crashed, or is still starting. */
const SERVER_GOING_CODES = new Set(["57P01", "57P02", "57P03"]);
/** The server answers and refuses: the role, its password or the database is not (yet) there. */
const REFUSED_HINTS: Record<string, string> = {
  "28P01": "check the user and password in DATABASE_URL",
  "28000": "check the user in DATABASE_URL and that PostgreSQL lets it connect (pg_hba.conf)",
  "3D000": "check the database name in DATABASE_URL, or create the database",
};
/**
 * pg's words for a connection that ended or timed out, which carry no code
 * ("timeout expired": a server that accepts the connection and never answers,
 * as behind a firewall that drops packets), and the health check's own timeout.
 */
const BROKEN_CONNECTION = /^(Connection terminated|Client has encountered a connection error|timeout expired|the database did not answer within)/;

/** What went wrong, when `error` means the database cannot be used right now; undefined for any other error. */
export function connectionFailure(error: unknown): ConnectionFailure | undefined {
  const code = typeof (error as { code?: unknown })?.code === "string" ? (error as { code: string }).code : undefined;
  // An AggregateError (localhost tried as ::1 and 127.0.0.1) has the code and no message.
  const reason = (error as Error)?.message || code || "";
  if (code === undefined) return BROKEN_CONNECTION.test(reason) ? { code, reason } : undefined;
  if (SOCKET_CODES.has(code) || SERVER_GOING_CODES.has(code) || code.startsWith("08")) return { code, reason };
  const hint = REFUSED_HINTS[code];
  return hint ? { code, reason, hint } : undefined;
}

/** The longest wait between reconnect attempts; also the Retry-After of a 503. */
export const RECONNECT_CEILING_MS = 5000;

/**
 * How long to wait before reconnect attempt `attempt` (1-based): 0.5 s
 * doubling to 5 s, each a random point in the upper half of that, so replicas
 * that lost the database together do not knock on it in step.
 */
export function reconnectDelayMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(RECONNECT_CEILING_MS, 500 * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
