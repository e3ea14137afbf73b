import type { FastifyInstance } from "fastify";
import { jsonChildren, tooDeep } from "../../schemas/nesting.js";
import { ApiError, fieldPath } from "./errors.js";

/**
 * How deep any JSON body may nest. The deepest a route takes is an applied
 * spec (100 levels, schemas/api.ts); every route's own schema has its own,
 * lower limits. This one guards what runs before those schemas or beside
 * them (the dead-letter copy of a rejected event, error messages), which
 * would exhaust the call stack on a body nested thousands of levels deep.
 */
export const MAX_BODY_DEPTH = 128;

/** A 400 naming the first value nested too deep, before any route sees the body. */
export function limitBodyDepth(app: FastifyInstance): void {
  app.addHook("preValidation", async (request) => {
    const path = tooDeep(request.body, MAX_BODY_DEPTH, jsonChildren);
    if (!path) return;
    const at = fieldPath(path) || "(body)";
    throw new ApiError(400, "invalid_request", `the request body nests more than ${MAX_BODY_DEPTH} levels of objects and lists (at ${at})`, [
      { path: at, message: `nests more than ${MAX_BODY_DEPTH} levels` },
    ]);
  });
}
