import type pg from "pg";
import type { Registry } from "prom-client";
import type { Clock } from "../clock.js";
import type { DatabaseWatch } from "../db/database-status.js";
import type { WorkerLog } from "../sending/worker.js";
import { createSequenceMetrics } from "./metrics.js";
import { SequenceWorker } from "./worker.js";

export interface Sequences {
  start(): void;
  stop(): Promise<void>;
}

/** The runtime's sequence workers: `count` of them, on the runtime's clock, telling `database` how its calls went. */
export function createSequences(pool: pg.Pool, registry: Registry, log: WorkerLog, clock: Clock, count: number, database?: DatabaseWatch): Sequences {
  const metrics = createSequenceMetrics(registry, pool, clock);
  const workers = Array.from({ length: count }, () => new SequenceWorker({ pool, clock, log, metrics, database }));
  return {
    start: () => workers.forEach((w) => w.start()),
    stop: async () => {
      await Promise.all(workers.map((w) => w.stop()));
    },
  };
}
