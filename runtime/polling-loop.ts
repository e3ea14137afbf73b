import { reconnectDelayMs } from "./db/connection-failure.js";
import { DatabaseStatus, type DatabaseWatch } from "./db/database-status.js";
import { sleep } from "./sending/rate-limit.js";

export interface PollingLog {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

/**
 * Runs `runOnce` until stopped: again at once while it finds work, after
 * `idleMs` when it found none, after a second when it failed (logged). While
 * the database cannot be used it pauses quietly, trying again after
 * reconnectDelayMs (up to 5 s); `database` logs that once, for every loop
 * that shares it (without one, each loop has its own). The send and sequence
 * workers' loop.
 */
export class PollingLoop {
  private readonly stopping = new AbortController();
  private readonly database: DatabaseWatch;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly runOnce: () => Promise<number>,
    private readonly options: { idleMs: number; log: PollingLog; name: string; id: string; database?: DatabaseWatch | undefined },
  ) {
    this.database = options.database ?? new DatabaseStatus(options.log, undefined, "up");
  }

  /** Aborted once stop() is called: long waits inside a batch (rate limits) end early. */
  get signal(): AbortSignal {
    return this.stopping.signal;
  }

  start(): void {
    this.loop ??= (async () => {
      let outage = 0;
      while (!this.stopping.signal.aborted) {
        try {
          const worked = await this.runOnce();
          outage = 0;
          this.database.reportSuccess();
          if (worked === 0) await sleep(this.options.idleMs, this.stopping.signal);
        } catch (error) {
          if (this.stopping.signal.aborted) break;
          if (this.database.reportFailure(error)) {
            await sleep(reconnectDelayMs(++outage), this.stopping.signal);
            continue;
          }
          this.options.log.error({ worker: this.options.id, code: (error as { code?: string }).code, reason: (error as Error).message }, `${this.options.name} batch failed; retrying`);
          await sleep(1000, this.stopping.signal);
        }
      }
    })();
  }

  /** Finish the batch in hand, then stop. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
  }
}
