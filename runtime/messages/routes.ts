import type { FastifyInstance } from "fastify";
import { IDEMPOTENCY_KEY_PATTERN, messageSendRequest } from "../../schemas/message.js";
import { NAME_PATTERN } from "../../schemas/common.js";
import { ApiError, parseBody } from "../http/errors.js";
import { messageReport } from "./report.js";
import { sendMessage, type MessageDeps } from "./send.js";

/**
 * Transactional messages under /v1 (token scope already checked): POST
 * /messages/:name queues one (202 with its send id), and GET
 * /reports/messages/:name counts what became of them.
 */
export function registerMessageRoutes(v1: FastifyInstance, deps: Pick<MessageDeps, "pool">): void {
  const sending: MessageDeps = { ...deps, snapshots: new Map(), applied: new Map() };

  v1.post<{ Params: { name: string } }>("/messages/:name", async (request, reply) => {
    const key = request.headers["idempotency-key"];
    if (typeof key !== "string" || !IDEMPOTENCY_KEY_PATTERN.test(key)) {
      throw new ApiError(400, "invalid_request", "send an Idempotency-Key header: 1 to 200 letters, digits, '.', '_', ':' or '-' (a UUID, or your order's id), the same for every retry of one message", [
        { path: "Idempotency-Key", message: key === undefined ? "missing" : "1 to 200 of A-Z a-z 0-9 . _ : -" },
      ]);
    }
    const body = parseBody(messageSendRequest, request.body);
    const { name } = request.params;
    if (!NAME_PATTERN.test(name)) throw new ApiError(404, "unknown_message", `no message "${name.slice(0, 63)}" is applied`);
    const outcome = await sendMessage(sending, name, key, body);
    if (outcome.replayed) reply.header("idempotent-replayed", "true");
    return reply.status(202).send(outcome.response);
  });

  v1.get<{ Params: { name: string } }>("/reports/messages/:name", async (request) => messageReport(deps.pool, request.params.name));
}
