import type { FastifyInstance } from "fastify";
import type pg from "pg";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { deadLetterReplayRequest } from "../../schemas/api.js";
import { durationMs } from "../../schemas/common.js";
import type { Clock } from "../clock.js";
import type { NetworkLookup } from "../engagement/networks.js";
import { ApiError, parseBody, queryLimit } from "../http/errors.js";
import { perScrape } from "../http/metrics.js";
import { listDeadLetters, replayDeadLetters } from "./dead-letters.js";
import type { CountryLookup } from "./geoip.js";
import { ingestEvents } from "./ingest.js";
import { ledgerKey as ledgerKeyOf } from "../tax/ledger.js";
import { EVENT_SQL } from "./queries.js";

/** Bytes a batch may take: the batch limit at a generous 8 KB per event, at least 1 MB. */
function bodyLimitFor(batchLimit: number): number {
  return Math.max(1024 * 1024, batchLimit * 8 * 1024);
}

/** `POST /v1/events` under /v1 (bearer token already checked), and its metrics. */
export function registerEventRoutes(
  v1: FastifyInstance,
  deps: {
    pool: pg.Pool;
    registry: Registry;
    batchLimit: number;
    attributionWindow: string;
    countryOf?: CountryLookup | undefined;
    /** The network of an open's or click's ip (MK_ASN_DB), read once per process; undefined when it is off. */
    networks: () => Promise<NetworkLookup | undefined>;
    clock: Clock;
    ledgerKey?: string | undefined;
  },
): void {
  const { pool, batchLimit, countryOf, clock } = deps;
  const attributionWindowMs = durationMs(deps.attributionWindow);
  const ledgerKey = deps.ledgerKey === undefined ? undefined : ledgerKeyOf(deps.ledgerKey);
  const ingested = new Counter({ name: "mk_events_ingested_total", help: "Events received, by outcome", labelNames: ["result"] as const, registers: [deps.registry] });
  const lag = new Histogram({
    name: "mk_event_ingest_lag_seconds",
    help: "Time from an event's occurredAt to its being stored (accepted events)",
    buckets: [1, 5, 30, 60, 300, 900, 3600, 6 * 3600, 86400, 7 * 86400],
    registers: [deps.registry],
  });
  const deadLetters = perScrape(async () => (await pool.query<{ n: number }>(EVENT_SQL.deadLetterCount)).rows[0]?.n ?? 0);
  new Gauge({
    name: "mk_events_dead_letter_size",
    help: "Events in the dead-letter table not yet replayed",
    registers: [deps.registry],
    async collect() {
      this.set(await deadLetters());
    },
  });

  v1.post("/events", { bodyLimit: bodyLimitFor(batchLimit) }, async (request) => {
    const body = request.body as { events?: unknown } | null;
    if (typeof body !== "object" || body === null || !Array.isArray(body.events)) {
      throw new ApiError(400, "invalid_request", 'the body must be { "events": [ … ] }', [{ path: "events", message: "must be an array of events" }]);
    }
    if (body.events.length > batchLimit) {
      throw new ApiError(413, "batch_too_large", `a batch holds at most ${batchLimit} events; this one has ${body.events.length}. Split it.`, [
        { path: "events", message: `at most ${batchLimit}` },
      ]);
    }
    const result = await ingestEvents(pool, body.events, { deadLetter: true, attributionWindowMs, countryOf, networkOf: await deps.networks(), clock, ledgerKey });
    const now = Date.now();
    for (const outcome of result.results) {
      if (outcome.status === "accepted") lag.observe(Math.max(0, now - Date.parse((body.events[outcome.index] as { occurredAt: string }).occurredAt)) / 1000);
    }
    ingested.inc({ result: "accepted" }, result.accepted);
    ingested.inc({ result: "duplicate" }, result.duplicates);
    ingested.inc({ result: "rejected" }, result.rejected);
    return result;
  });

  v1.get("/events/dead-letters", async (request) => listDeadLetters(pool, queryLimit(request.query, 100, 10000)));

  v1.post("/events/dead-letters/replay", async (request) => {
    const { ids } = parseBody(deadLetterReplayRequest, request.body ?? {});
    return replayDeadLetters(pool, { ids, limit: ids?.length ?? batchLimit, attributionWindowMs, countryOf, networkOf: await deps.networks(), clock, ledgerKey });
  });
}
