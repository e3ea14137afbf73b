import type { FastifyInstance } from "fastify";
import type pg from "pg";
import { z } from "zod";
import { privacyAddress } from "../../schemas/privacy.js";
import type { Clock } from "../clock.js";
import { callerOf } from "../http/access.js";
import { ApiError, fieldPath } from "../http/errors.js";
import { eraseSubscriber, type ErasureKey } from "./erase.js";
import { exportSubscriber } from "./export.js";

const params = z.strictObject({ email: privacyAddress });

/** The request's address, normalised; 400 naming `email` when it cannot be one. */
function addressOf(raw: unknown): string {
  const parsed = params.safeParse(raw);
  if (parsed.success) return parsed.data.email;
  const fields = parsed.error.issues.map((issue) => ({ path: fieldPath(issue.path) || "email", message: issue.message }));
  throw new ApiError(400, "invalid_request", `the address is invalid: ${fields.map((f) => `${f.path}: ${f.message}`).join("; ")}`, fields);
}

/**
 * Data-subject requests (admin: personal data):
 *   GET    /v1/subscribers/:email/export   everything held about the address (right of access)
 *   DELETE /v1/subscribers/:email          erase it (right to erasure); the same answer for an unknown address
 */
export function registerPrivacyRoutes(v1: FastifyInstance, deps: { pool: pg.Pool; erasureKey: ErasureKey; clock: Clock }): void {
  v1.get("/subscribers/:email/export", async (request) => exportSubscriber(deps.pool, deps.erasureKey, addressOf(request.params), deps.clock()));
  v1.delete("/subscribers/:email", async (request) => eraseSubscriber(deps.pool, deps.erasureKey, addressOf(request.params), callerOf(request)?.name ?? "unknown"));
}
