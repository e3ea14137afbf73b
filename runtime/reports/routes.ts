import type { FastifyInstance } from "fastify";
import type pg from "pg";
import { campaignReport, campaignSummaries } from "./campaign-report.js";
import type { ReportCache } from "./cache.js";
import { sequenceReport, subscriberJourneys } from "./sequence-report.js";
import { readSerial } from "../state/store.js";

/**
 * Campaign and sequence reports under /v1 (bearer token already checked), cached for
 * MK_REPORT_CACHE_SECONDS. The body is the same JSON either way; the
 * x-mk-cache header says whether it came from the cache.
 */
export function registerReportRoutes(v1: FastifyInstance, deps: { pool: pg.Pool; cache: ReportCache }): void {
  const { pool, cache } = deps;
  const cached = async (key: string, compute: () => Promise<unknown>, reply: { header: (name: string, value: string) => unknown; type: (t: string) => unknown }) => {
    const hit = await cache.get(key);
    reply.type("application/json; charset=utf-8");
    reply.header("x-mk-cache", hit ? "hit" : "miss");
    if (hit) return hit;
    const body = JSON.stringify(await compute());
    await cache.set(key, body);
    return body;
  };

  v1.get("/reports/campaigns", async (_request, reply) => cached("campaigns", () => campaignSummaries(pool), reply));
  v1.get<{ Params: { name: string } }>("/reports/campaigns/:name", async (request, reply) =>
    cached(`campaign:${request.params.name}`, () => campaignReport(pool, request.params.name), reply),
  );
  // Keyed by the state serial too: an apply that versions or deletes the sequence shows at once.
  v1.get<{ Params: { name: string } }>("/reports/sequences/:name", async (request, reply) =>
    cached(`sequence:${request.params.name}:${await readSerial(pool)}`, () => sequenceReport(pool, request.params.name), reply),
  );
  // Not cached: support asks this while watching a journey happen.
  v1.get<{ Params: { name: string; email: string } }>("/reports/sequences/:name/subscribers/:email", async (request) =>
    subscriberJourneys(pool, request.params.name, request.params.email),
  );
}
