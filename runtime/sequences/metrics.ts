import type pg from "pg";
import { Counter, Gauge, type Registry } from "prom-client";
import { perScrape } from "../http/metrics.js";
import type { Clock } from "../clock.js";
import { SEQUENCE_SQL } from "./queries.js";

export interface SequenceMetrics {
  steps: Counter<"kind" | "outcome">;
}

/** Sequences' metrics; active enrollments and timer lag are read from the database by scrapes (perScrape). */
export function createSequenceMetrics(registry: Registry, pool: pg.Pool, clock: Clock): SequenceMetrics {
  const steps = new Counter({
    name: "mk_sequence_steps_total",
    help: "Sequence steps run, by kind (send, wait, if, exit, complete) and outcome",
    labelNames: ["kind", "outcome"] as const,
    registers: [registry],
  });
  const active = perScrape(async () => (await pool.query<{ sequence: string; active: number }>(SEQUENCE_SQL.activeBySequence)).rows);
  new Gauge({
    name: "mk_sequence_enrollments_active",
    help: "Enrollments still running, per sequence",
    labelNames: ["sequence"] as const,
    registers: [registry],
    async collect() {
      const rows = await active();
      this.reset();
      for (const row of rows) this.set({ sequence: row.sequence }, row.active);
    },
  });
  const timers = perScrape(async () => (await pool.query<{ due: number; lag_seconds: number }>(SEQUENCE_SQL.timerLag, [clock()])).rows[0]);
  new Gauge({
    name: "mk_sequence_timer_lag_seconds",
    help: "How long the most overdue enrollment step has waited past its time",
    registers: [registry],
    async collect() {
      this.set((await timers())?.lag_seconds ?? 0);
    },
  });
  new Gauge({
    name: "mk_sequence_steps_due",
    help: "Enrollments whose next step is due and waiting for a worker",
    registers: [registry],
    async collect() {
      this.set((await timers())?.due ?? 0);
    },
  });
  return { steps };
}
