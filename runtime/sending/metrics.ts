import type pg from "pg";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { perScrape } from "../http/metrics.js";
import { SEND_SQL } from "./queries.js";

export interface SendMetrics {
  sends: Counter<"status" | "transport">;
  sendDuration: Histogram<"transport">;
  retries: Counter<"transport" | "reason">;
  breakerOpen: Gauge<"transport">;
}

/** Sending's metrics on the runtime's registry; queue depth and lag are read from the ledger by scrapes (perScrape). */
export function createSendMetrics(registry: Registry, pool: pg.Pool): SendMetrics {
  const sends = new Counter({ name: "mk_sends_total", help: "Ledger rows settled by a worker, by outcome and transport", labelNames: ["status", "transport"] as const, registers: [registry] });
  const sendDuration = new Histogram({
    name: "mk_send_duration_seconds",
    help: "Time a transport took to take one message (a database transport: one batch)",
    labelNames: ["transport"] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15],
    registers: [registry],
  });
  const retries = new Counter({ name: "mk_send_retries_total", help: "Messages put back for a later attempt", labelNames: ["transport", "reason"] as const, registers: [registry] });
  const breakerOpen = new Gauge({ name: "mk_transport_circuit_open", help: "1 while the transport's circuit breaker is open", labelNames: ["transport"] as const, registers: [registry] });
  const stats = perScrape(async () => (await pool.query<{ due: string; lag_seconds: string }>(SEND_SQL.queueStats)).rows[0]);
  new Gauge({
    name: "mk_send_queue_depth",
    help: "Ledger rows due and waiting for a worker",
    registers: [registry],
    async collect() {
      this.set(Number((await stats())?.due ?? 0));
    },
  });
  new Gauge({
    name: "mk_send_queue_lag_seconds",
    help: "How long the oldest due row has waited",
    registers: [registry],
    async collect() {
      this.set(Number((await stats())?.lag_seconds ?? 0));
    },
  });
  return { sends, sendDuration, retries, breakerOpen };
}
