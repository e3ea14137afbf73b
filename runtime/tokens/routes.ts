import type { FastifyInstance } from "fastify";
import type pg from "pg";
import { tokenCreateRequest } from "../../schemas/tokens.js";
import { parseBody } from "../http/errors.js";
import { createToken, listTokens, revokeToken } from "./store.js";

/** API tokens under /v1 (admin only, runtime/http/access.ts): create one (shown once), list them, revoke one. */
export function registerTokenRoutes(v1: FastifyInstance, deps: { pool: pg.Pool }): void {
  const { pool } = deps;

  v1.get("/tokens", async () => listTokens(pool));

  v1.post("/tokens", async (request, reply) => {
    const created = await createToken(pool, parseBody(tokenCreateRequest, request.body));
    request.log.info({ token: created.name, scope: created.scope, expiresAt: created.expiresAt }, "created an API token");
    return reply.status(201).send(created);
  });

  v1.post<{ Params: { name: string } }>("/tokens/:name/revoke", async (request) => {
    const revoked = await revokeToken(pool, request.params.name);
    if (!revoked.alreadyRevoked) request.log.info({ token: revoked.name, scope: revoked.scope }, "revoked an API token");
    return revoked;
  });
}
