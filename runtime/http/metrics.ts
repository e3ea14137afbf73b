import type pg from "pg";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export interface RuntimeMetrics {
  registry: Registry;
  httpDuration: Histogram<"method" | "route" | "status">;
  applies: Counter<"result">;
}

/**
 * prom-client's default metrics include these totals as gauges named like
 * counters, which Prometheus's linter (promtool check metrics) rejects. The
 * same counts are the sum of the per-type gauges it also exports:
 * sum(nodejs_active_handles), sum(nodejs_active_requests), sum(nodejs_active_resources).
 */
const MISNAMED_DEFAULTS = ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"];

/** One registry per runtime instance, so tests can build many side by side. */
export function createMetrics(pool: pg.Pool): RuntimeMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  for (const name of MISNAMED_DEFAULTS) registry.removeSingleMetric(name);
  const httpDuration = new Histogram({
    name: "mk_http_request_duration_seconds",
    help: "HTTP request latency by route",
    labelNames: ["method", "route", "status"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const applies = new Counter({ name: "mk_applies_total", help: "Applies by result", labelNames: ["result"] as const, registers: [registry] });
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  gauge("mk_db_pool_connections", "Database connections open", () => pool.totalCount);
  gauge("mk_db_pool_idle", "Database connections idle", () => pool.idleCount);
  gauge("mk_db_pool_waiting", "Requests waiting for a database connection", () => pool.waitingCount);
  return { registry, httpDuration, applies };
}

/**
 * One database read shared by the gauges of a scrape: prom-client collects
 * every metric at once, so gauges reading "the last refresh" would show the
 * previous scrape's value. A read is reused for a second, then made again.
 */
export function perScrape<T>(read: () => Promise<T>): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return () => {
    if (!last || Date.now() - last.at > 1000) last = { at: Date.now(), value: read() };
    return last.value;
  };
}
