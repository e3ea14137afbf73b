import type { z } from "zod";
import { RECONNECT_CEILING_MS } from "../db/connection-failure.js";
import { fieldPath } from "./field-path.js";

export interface FieldProblem {
  path: string;
  message: string;
}

/** An error the client caused or can act on; its status, code and message go to the client. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields?: FieldProblem[],
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** The Retry-After of every 503: the longest wait between the runtime's own reconnect attempts. */
export const RETRY_AFTER_SECONDS = RECONNECT_CEILING_MS / 1000;

/** 503: the request needs the database, which the runtime has not reached yet (waiting) or lost (down). */
export function databaseUnavailable(state: "waiting" | "down"): ApiError {
  const what = state === "waiting" ? "the runtime is starting and waits for its database" : "the runtime's database does not answer";
  return new ApiError(503, "database_unavailable", `${what}; try again in ${RETRY_AFTER_SECONDS} seconds`);
}

export { fieldPath };

function parsePart<T extends z.ZodType>(schema: T, value: unknown, part: "body" | "query"): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const fields = result.error.issues.slice(0, 100).map((issue) => ({ path: fieldPath(issue.path) || `(${part})`, message: issue.message }));
  throw new ApiError(400, "invalid_request", `the request ${part === "body" ? "body" : "query string"} is invalid: ${fields.map((f) => `${f.path}: ${f.message}`).slice(0, 3).join("; ")}`, fields);
}

/** The request body as the schema's type, or a 400 naming every failing field. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  return parsePart(schema, body, "body");
}

/** The query string as the schema's type, or a 400 naming every failing parameter. */
export function parseQuery<T extends z.ZodType>(schema: T, query: unknown): z.infer<T> {
  return parsePart(schema, query, "query");
}

/** The `limit` query parameter: a whole number from 1 to `max`, `fallback` when absent; else a 400. */
export function queryLimit(query: unknown, fallback: number, max: number): number {
  const limit = Number((query as Record<string, string | undefined>)["limit"] ?? fallback);
  if (!Number.isInteger(limit) || limit < 1 || limit > max) {
    throw new ApiError(400, "invalid_request", `limit must be a whole number from 1 to ${max}`, [{ path: "limit", message: `1 to ${max}` }]);
  }
  return limit;
}
