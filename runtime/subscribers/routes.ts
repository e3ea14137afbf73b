import type { FastifyInstance, FastifyRequest } from "fastify";
import type pg from "pg";
import { subscriberImportRequest, subscriberListQuery, subscriberPatchRequest, subscriberUpsertRequest } from "../../schemas/api.js";
import { importRowsRequest, subscriberOfRow } from "../../schemas/subscriber-import.js";
import { callerOf } from "../http/access.js";
import { parseBody, parseQuery } from "../http/errors.js";
import { listSubscribers, normaliseEmail, readSubscriber } from "./records.js";
import { upsertSubscribers, type ConsentOrigin } from "./upsert.js";
import type { ErasureKey } from "./erase.js";

/** A change through the API is recorded in the consent history under the calling token's name. */
function apiOrigin(request: FastifyRequest): ConsentOrigin {
  return { source: "api", token: callerOf(request)?.name ?? "unknown" };
}

/**
 * Subscribers through the API (admin: personal data):
 *   POST  /v1/subscribers/import   a batch of the CSV import (rows of cells, or objects)
 *   POST  /v1/subscribers          upsert one, validated and normalised as an import row
 *   GET   /v1/subscribers/:email   one, with its consent history
 *   PATCH /v1/subscribers/:email   change one that exists
 *   GET   /v1/subscribers          pages by id, filtered by an applied audience or a tag
 */
export function registerSubscriberRoutes(v1: FastifyInstance, deps: { pool: pg.Pool; erasureKey?: ErasureKey }): void {
  const { pool, erasureKey } = deps;
  v1.post("/subscribers/import", async (request) => {
    // mk subscribers import sends `rows` (schemas/subscriber-import.ts); `subscribers` is the same batch as objects.
    const compact = typeof request.body === "object" && request.body !== null && "rows" in request.body;
    const body = compact ? parseBody(importRowsRequest, request.body) : parseBody(subscriberImportRequest, request.body);
    const subscribers = "rows" in body ? body.rows.map(subscriberOfRow) : body.subscribers;
    return upsertSubscribers(pool, subscribers, { source: "import", ...(body.file ? { file: body.file } : {}) }, erasureKey);
  });
  v1.post("/subscribers", async (request, reply) => {
    const body = parseBody(subscriberUpsertRequest, request.body);
    const email = normaliseEmail(body.email);
    const { inserted } = await upsertSubscribers(pool, [{ ...body, email }], apiOrigin(request), erasureKey);
    return reply.status(inserted > 0 ? 201 : 200).send(await readSubscriber(pool, email));
  });
  v1.get<{ Params: { email: string } }>("/subscribers/:email", async (request) => readSubscriber(pool, request.params.email));
  v1.patch<{ Params: { email: string } }>("/subscribers/:email", async (request) => {
    const body = parseBody(subscriberPatchRequest, request.body);
    const { email } = await readSubscriber(pool, request.params.email);
    await upsertSubscribers(pool, [{ ...body, email }], apiOrigin(request));
    return readSubscriber(pool, email);
  });
  v1.get("/subscribers", async (request) => listSubscribers(pool, parseQuery(subscriberListQuery, request.query)));
}
