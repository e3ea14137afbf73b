import type { FastifyInstance } from "fastify";
import type pg from "pg";
import type { DatabaseStatus } from "../db/database-status.js";
import { readSerial } from "../state/store.js";
import { databaseUnavailable, RETRY_AFTER_SECONDS } from "./errors.js";

/** How long /healthz waits for the database before it answers 503. */
const HEALTH_TIMEOUT_MS = 2000;

/**
 * GET /healthz: 200 with the serial when the database answers within
 * HEALTH_TIMEOUT_MS, else 503 (and the database status learns either way).
 * While the runtime still waits for its database (server.ts), /healthz says
 * so and every other route answers 503: the schema may not even exist yet.
 */
export function registerHealth(app: FastifyInstance, deps: { pool: pg.Pool; database: DatabaseStatus }): void {
  const { pool, database } = deps;
  app.addHook("onRequest", async (request) => {
    if (database.state === "waiting" && request.routeOptions.url !== "/healthz") throw databaseUnavailable("waiting");
  });
  app.get("/healthz", async (_request, reply) => {
    if (database.state === "waiting") {
      return reply.status(503).header("retry-after", RETRY_AFTER_SECONDS).send({ status: "waiting", error: "waiting for the database" });
    }
    try {
      const serial = await answersWithin(readSerial(pool), HEALTH_TIMEOUT_MS);
      database.reportSuccess();
      return { status: "ok", serial };
    } catch (error) {
      if (!database.reportFailure(error)) app.log.warn({ err: error }, "health check failed");
      return reply.status(503).header("retry-after", RETRY_AFTER_SECONDS).send({ status: "unavailable", error: "the database does not answer" });
    }
  });
}

/** `work`'s result, or a rejection after `ms` (the work goes on; its outcome is dropped). */
async function answersWithin<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the database did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
