import type pg from "pg";
import { SEND_SQL } from "../queries.js";
import type { DatabaseTransport, OutgoingMessage } from "./transport.js";

/** Messages as rows of `outbox` (mk up's default; `mk outbox list|show`, `GET /v1/outbox`). */
export function outboxTransport(): DatabaseTransport {
  return {
    name: "outbox",
    kind: "database",
    async store(client: pg.PoolClient, messages: readonly OutgoingMessage[]) {
      await client.query(SEND_SQL.insertOutbox, [
        messages.map((m) => m.sendId),
        messages.map((m) => m.campaign),
        messages.map((m) => m.to),
        messages.map((m) => m.from),
        messages.map((m) => m.subject),
        messages.map((m) => m.html),
        messages.map((m) => m.text),
        messages.map((m) => JSON.stringify(m.headers)),
      ]);
    },
    close: async () => {},
  };
}
