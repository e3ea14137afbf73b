import type { FastifyInstance } from "fastify";
import type pg from "pg";
import { sendStartRequest, type AmbiguousSend, type OutboxMessage, type OutboxSummary, type SendProgress } from "../../schemas/api.js";
import { ApiError, parseBody, queryLimit } from "../http/errors.js";
import { SEND_SQL } from "./queries.js";
import { startCampaignNow, startDueCampaigns } from "./start.js";
import type { Transport } from "./transports/transport.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The sending API under /v1 (bearer token already checked). */
export function registerSendRoutes(v1: FastifyInstance, deps: { pool: pg.Pool; transport: Transport }): void {
  const { pool, transport } = deps;

  v1.post("/sends/due", async () => startDueCampaigns(pool, transport.name));

  v1.post("/sends/start", async (request) => startCampaignNow(pool, parseBody(sendStartRequest, request.body).campaign, transport.name));

  v1.get<{ Querystring: Record<string, string | undefined> }>("/sends", async (request): Promise<SendProgress[]> => {
    const { rows } = await pool.query<{ campaign: string; started_at: Date; recipients: number; statuses: Record<string, number> }>(SEND_SQL.progress, [request.query["campaign"] ?? null]);
    return rows.map((r) => ({ campaign: r.campaign, startedAt: r.started_at.toISOString(), recipients: r.recipients, statuses: r.statuses }));
  });

  v1.get<{ Querystring: Record<string, string | undefined> }>("/sends/ambiguous", async (request): Promise<AmbiguousSend[]> => {
    const { rows } = await pool.query<{ id: string; campaign: string; email: string; attempts: number; transport: string | null; last_error: string | null; updated_at: Date }>(
      SEND_SQL.ambiguous,
      [request.query["campaign"] ?? null, queryLimit(request.query, 1000, 1000)],
    );
    return rows.map((r) => ({ id: r.id, campaign: r.campaign, email: r.email, attempts: r.attempts, transport: r.transport, lastError: r.last_error, since: r.updated_at.toISOString() }));
  });

  v1.get<{ Querystring: Record<string, string | undefined> }>("/outbox", async (request): Promise<OutboxSummary[]> => {
    const { rows } = await pool.query<{ send_id: string; campaign: string; recipient: string; subject: string; created_at: Date }>(SEND_SQL.outboxList, [
      request.query["campaign"] ?? null,
      queryLimit(request.query, 50, 1000),
    ]);
    return rows.map((r) => ({ sendId: r.send_id, campaign: r.campaign, to: r.recipient, subject: r.subject, createdAt: r.created_at.toISOString() }));
  });

  v1.get<{ Params: { sendId: string } }>("/outbox/:sendId", async (request): Promise<OutboxMessage> => {
    const { sendId } = request.params;
    if (!UUID.test(sendId)) throw new ApiError(400, "invalid_request", "the send id must be a UUID", [{ path: "sendId", message: "not a UUID" }]);
    const row = (
      await pool.query<{ send_id: string; campaign: string; recipient: string; sender: string; subject: string; html: string; text: string; headers: Record<string, string>; created_at: Date }>(
        SEND_SQL.outboxMessage,
        [sendId],
      )
    ).rows[0];
    if (!row) throw new ApiError(404, "not_found", `no outbox message for send ${sendId}`);
    return { sendId: row.send_id, campaign: row.campaign, to: row.recipient, from: row.sender, subject: row.subject, html: row.html, text: row.text, headers: row.headers, createdAt: row.created_at.toISOString() };
  });
}
