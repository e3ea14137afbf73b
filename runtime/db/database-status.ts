import { connectionFailure, type DatabaseTarget } from "./connection-failure.js";

export interface DatabaseStatusLog {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
}

/** What a database user (a worker, a timer, a request) tells the status about its calls. */
export interface DatabaseWatch {
  /**
   * A database call failed. True when it failed because the database cannot
   * be used (connectionFailure): the status has logged that, the caller
   * should not, and should try again later.
   */
  reportFailure(error: unknown): boolean;
  /** A database call succeeded. */
  reportSuccess(): void;
}

/**
 * waiting: the runtime started and has not reached (and migrated) its database yet;
 * up: the last call reached it; down: a call found it gone since.
 */
export type DatabaseState = "waiting" | "up" | "down";

/**
 * Whether the runtime's database can be used, as its callers find it: one log
 * line when it goes away and one when it is back, however many workers,
 * timers and requests notice in between.
 */
export class DatabaseStatus implements DatabaseWatch {
  private current: DatabaseState;
  private downSince = 0;

  constructor(
    private readonly log: DatabaseStatusLog,
    private readonly target: DatabaseTarget | undefined,
    initial: "waiting" | "up",
  ) {
    this.current = initial;
  }

  get state(): DatabaseState {
    return this.current;
  }

  /** The database is reached and migrated: from waiting to up. */
  ready(): void {
    this.current = "up";
  }

  reportFailure(error: unknown): boolean {
    const failure = connectionFailure(error);
    if (!failure) return false;
    if (this.current === "up") {
      this.current = "down";
      this.downSince = Date.now();
      this.log.warn({ ...this.target, ...failure }, "lost the database: requests that need it answer 503, and the workers pause until it answers again");
    }
    return true;
  }

  reportSuccess(): void {
    if (this.current !== "down") return;
    this.current = "up";
    this.log.info({ ...this.target, downSeconds: Math.round((Date.now() - this.downSince) / 1000) }, "the database answers again: the workers resume");
  }
}
