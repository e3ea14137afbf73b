import { sleep } from "./sending/rate-limit.js";

export interface PollingLog {
  error(object: object, message: string): void;
}

/**
 * Runs `runOnce` until stopped: again at once while it finds work, after
 * `idleMs` when it found none, after a second when it failed (logged). The
 * send and sequence workers' loop.
 */
export class PollingLoop {
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(
    private readonly runOnce: () => Promise<number>,
    private readonly options: { idleMs: number; log: PollingLog; name: string; id: string },
  ) {}

  /** Aborted once stop() is called: long waits inside a batch (rate limits) end early. */
  get signal(): AbortSignal {
    return this.stopping.signal;
  }

  start(): void {
    this.loop ??= (async () => {
      while (!this.stopping.signal.aborted) {
        try {
          const worked = await this.runOnce();
          if (worked === 0) await sleep(this.options.idleMs, this.stopping.signal);
        } catch (error) {
          if (this.stopping.signal.aborted) break;
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
