import type pg from "pg";
import type { DeadLetter, DeadLetterReplay } from "../../schemas/api.js";
import { ingestEvents, type IngestOptions } from "./ingest.js";
import { EVENT_SQL } from "./queries.js";

interface DeadLetterRow {
  id: string;
  idempotency_key: string | null;
  reason: string;
  payload: string;
  received_at: Date;
}

function parsePayload(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Dead letters not yet replayed, oldest first. */
export async function listDeadLetters(pool: pg.Pool, limit: number): Promise<DeadLetter[]> {
  const { rows } = await pool.query<DeadLetterRow>(EVENT_SQL.deadLetters, [null, limit]);
  return rows.map((r) => ({ id: Number(r.id), idempotencyKey: r.idempotency_key, reason: r.reason, receivedAt: r.received_at.toISOString(), payload: parsePayload(r.payload) }));
}

/**
 * Ingest dead letters again (after the subscriber was imported, say): each is
 * validated anew; accepted or duplicate ones are marked replayed, still-bad
 * ones stay with their new reason. Replaying twice stores nothing twice.
 */
export async function replayDeadLetters(pool: pg.Pool, options: { ids?: number[] | undefined; limit: number } & Omit<IngestOptions, "deadLetter">): Promise<DeadLetterReplay> {
  const { rows } = await pool.query<DeadLetterRow>(EVENT_SQL.deadLetters, [options.ids ?? null, options.limit]);
  const result = await ingestEvents(pool, rows.map((r) => parsePayload(r.payload)), { deadLetter: false, attributionWindowMs: options.attributionWindowMs, countryOf: options.countryOf, networkOf: options.networkOf, clock: options.clock, ledgerKey: options.ledgerKey });
  const done = result.results.flatMap((outcome) => (outcome.status === "rejected" ? [] : [Number(rows[outcome.index]!.id)]));
  const still = result.results.flatMap((outcome) => (outcome.status === "rejected" ? [{ id: Number(rows[outcome.index]!.id), reason: outcome.reason }] : []));
  await pool.query(EVENT_SQL.markReplayed, [done]);
  await pool.query(EVENT_SQL.updateReasons, [still.map((s) => s.id), still.map((s) => s.reason)]);
  return { replayed: rows.length, accepted: result.accepted, duplicates: result.duplicates, stillRejected: still };
}
