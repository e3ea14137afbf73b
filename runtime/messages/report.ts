import type pg from "pg";
import type { MessageReport } from "../../schemas/report.js";
import { ApiError } from "../http/errors.js";
import { MESSAGE_SQL } from "./queries.js";

/**
 * `GET /v1/reports/messages/:name`: every request of a message over all its
 * applied versions, by what became of it in the ledger (exact), and delivery,
 * bounces, complaints, opens and clicks as the campaign rollups count them
 * (events, which recipients who are subscribers have), with the hard bounces
 * of the other recipients from the suppressions their bounces made.
 */
export async function messageReport(pool: pg.Pool, name: string): Promise<MessageReport> {
  const [versions, statuses, engagement, addressBounces, applied] = await Promise.all([
    pool.query<{ versions: number; first_at: Date | null }>(MESSAGE_SQL.reportVersions, [name]),
    pool.query<{ status: string; n: number }>(MESSAGE_SQL.reportStatuses, [name]),
    pool.query<Record<"delivered" | "bounced" | "complained" | "opened" | "clicked" | "human_opened" | "human_clicked", string>>(MESSAGE_SQL.reportEngagement, [name]),
    pool.query<{ n: number }>(MESSAGE_SQL.reportAddressBounces, [name]),
    pool.query(MESSAGE_SQL.isApplied, [name]),
  ]);
  const version = versions.rows[0]!;
  if (version.versions === 0 && (applied.rowCount ?? 0) === 0) throw new ApiError(404, "unknown_message", `no message "${name}" has been applied`);
  const by = new Map(statuses.rows.map((r) => [r.status, r.n]));
  const count = (...names: string[]) => names.reduce((sum, s) => sum + (by.get(s) ?? 0), 0);
  const e = engagement.rows[0];
  return {
    message: name,
    applied: (applied.rowCount ?? 0) > 0,
    versions: version.versions,
    firstAt: version.first_at?.toISOString() ?? null,
    requested: count("queued", "claimed", "sending", "sent", "failed", "suppressed", "ambiguous"),
    pending: count("queued", "claimed", "sending"),
    sent: count("sent"),
    failed: count("failed"),
    suppressed: count("suppressed"),
    ambiguous: count("ambiguous"),
    delivered: Number(e?.delivered ?? 0),
    bounced: Number(e?.bounced ?? 0) + (addressBounces.rows[0]?.n ?? 0),
    complained: Number(e?.complained ?? 0),
    opened: Number(e?.opened ?? 0),
    clicked: Number(e?.clicked ?? 0),
    humanOpened: Number(e?.human_opened ?? 0),
    humanClicked: Number(e?.human_clicked ?? 0),
  };
}
