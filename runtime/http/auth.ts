import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyRequest } from "fastify";
import { ApiError } from "./errors.js";

/**
 * A Fastify hook requiring `Authorization: Bearer <token>`. Both sides are
 * hashed first so the comparison takes the same time whatever the length or
 * content of what was sent; the error never hints at the token.
 */
export function bearerAuth(token: string): (request: FastifyRequest) => Promise<void> {
  const expected = digest(token);
  return async (request) => {
    const header = request.headers.authorization;
    const match = header === undefined ? null : /^Bearer (\S+)$/.exec(header);
    if (!match?.[1] || !timingSafeEqual(digest(match[1]), expected)) {
      throw new ApiError(401, "unauthorized", "missing or wrong API token; send Authorization: Bearer <MK_API_TOKEN>");
    }
  };
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}
