import type { FastifyInstance } from "fastify";
import type pg from "pg";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { tokenDigest } from "../tokens/secret.js";
import { bearerToken, matchesDigest } from "./auth.js";
import { ApiError } from "./errors.js";

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
 * How long a database read behind the gauges is reused after it finished:
 * scrapes closer together than this share it, so a flood of scrapes costs
 * the pool one set of queries per interval.
 */
const GAUGE_READ_REUSE_MS = 5000;

/**
 * One database read shared by the gauges of a scrape and by every scrape
 * made while it runs: prom-client collects every metric at once, so gauges
 * reading "the last refresh" would show the previous scrape's value. A
 * finished read (or its failure) is reused for GAUGE_READ_REUSE_MS, then
 * made again by the next scrape.
 */
export function perScrape<T>(read: () => Promise<T>): () => Promise<T> {
  let last: { value: Promise<T>; settledAt?: number } | undefined;
  return () => {
    if (last && (last.settledAt === undefined || performance.now() - last.settledAt < GAUGE_READ_REUSE_MS)) return last.value;
    const entry: { value: Promise<T>; settledAt?: number } = { value: read() };
    const settle = () => {
      entry.settledAt = performance.now();
    };
    entry.value.then(settle, settle);
    last = entry;
    return entry.value;
  };
}

/**
 * `GET /metrics`: open when `token` is unset (mk up), else only with
 * `Authorization: Bearer <token>` (MK_METRICS_TOKEN), compared in constant
 * time as digests; 401 otherwise.
 */
export function registerMetricsRoute(app: FastifyInstance, registry: Registry, token: string | undefined): void {
  const expected = token === undefined ? undefined : tokenDigest(token);
  app.get("/metrics", {
    onRequest: async (request) => {
      if (!expected) return;
      const sent = bearerToken(request.headers.authorization);
      if (!sent || !matchesDigest(sent, expected)) {
        throw new ApiError(401, "unauthorized", "missing or wrong metrics token; send Authorization: Bearer <MK_METRICS_TOKEN>");
      }
    },
    handler: async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()),
  });
}
