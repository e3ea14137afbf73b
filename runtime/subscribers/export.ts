import type pg from "pg";
import type { ExportedEnrollment, StoredRow, SubscriberExport } from "../../schemas/privacy.js";
import { erasedAt, namesAddress, type ErasureKey } from "./erase.js";

/**
 * Rows as stored (to_jsonb: every column, so a column added later is
 * exported too), less the internal subscriber id. $1 is the subscriber's id,
 * or the normalised address where the query says so.
 */
const SQL = {
  profile: "select id, to_jsonb(s) - 'id' as row from subscribers s where email = $1",
  consent: "select to_jsonb(c) - 'subscriber_id' as row from consent_events c where subscriber_id = $1 order by occurred_at, id",
  topics: "select to_jsonb(c) - 'subscriber_id' as row from consent_state c where subscriber_id = $1 order by topic",
  sends: "select to_jsonb(s) - 'subscriber_id' as row from sends s where subscriber_id = $1 order by created_at, id",
  outbox: "select to_jsonb(o) as row from outbox o join sends s on s.id = o.send_id where s.subscriber_id = $1 order by o.created_at",
  events: "select to_jsonb(e) - 'subscriber_id' as row from events e where subscriber_id = $1 order by occurred_at, id",
  enrollments: `
    select to_jsonb(e) - 'subscriber_id' || jsonb_build_object('steps', coalesce(
      (select jsonb_agg(to_jsonb(h) - 'enrollment_id' order by h.id) from enrollment_history h where h.enrollment_id = e.id), '[]'::jsonb)) as row
    from enrollments e where subscriber_id = $1 order by enrolled_at, id`,
  clicks: "select to_jsonb(c) - 'subscriber_id' as row from campaign_link_clicks c where subscriber_id = $1 order by campaign, link, actor",
  /** By address: suppressions outlive a subscriber (a bounce of an address never imported). */
  suppressions: "select to_jsonb(s) as row from suppressions s where email = $1",
  signups: "select to_jsonb(s) - 'token_digest' as row from signups s where email = $1 order by requested_at, id",
  deadLetters: `select to_jsonb(d) as row from event_dead_letters d where ${namesAddress("payload")} or ${namesAddress("reason")} order by id`,
} as const;

async function rows(db: pg.Pool, sql: string, parameter: unknown): Promise<StoredRow[]> {
  return (await db.query<{ row: StoredRow }>(sql, [parameter])).rows.map((r) => r.row);
}

/** A dead letter's payload is the JSON text that was sent: parsed, unless it was not JSON. */
function parsedPayload(row: StoredRow): StoredRow {
  try {
    return { ...row, payload: JSON.parse(String(row["payload"])) as unknown };
  } catch {
    return row;
  }
}

/**
 * Everything held about `email` (normalised), for a right-of-access request:
 * profile, consent history, sends, outbox messages, events (SES events and
 * clicks among them), enrollments with their steps, links clicked,
 * suppressions and dead letters naming the address. The parts are read side
 * by side, each complete as of its own read.
 */
export async function exportSubscriber(pool: pg.Pool, key: ErasureKey, email: string, now: Date): Promise<SubscriberExport> {
  const subscriber = (await pool.query<{ id: string; row: StoredRow }>(SQL.profile, [email])).rows[0];
  const id = subscriber?.id;
  const ofSubscriber = (sql: string) => (id === undefined ? Promise.resolve([]) : rows(pool, sql, id));
  const [consent, topics, sends, outbox, events, enrollments, clicks, suppressions, deadLetters, signups, erased] = await Promise.all([
    ofSubscriber(SQL.consent),
    ofSubscriber(SQL.topics),
    ofSubscriber(SQL.sends),
    ofSubscriber(SQL.outbox),
    ofSubscriber(SQL.events),
    ofSubscriber(SQL.enrollments),
    ofSubscriber(SQL.clicks),
    rows(pool, SQL.suppressions, email),
    rows(pool, SQL.deadLetters, email),
    rows(pool, SQL.signups, email),
    erasedAt(pool, key, email),
  ]);
  return {
    email,
    exportedAt: now.toISOString(),
    erasedAt: erased?.toISOString() ?? null,
    profile: subscriber?.row ?? null,
    consent,
    topics,
    sends,
    outbox,
    events,
    enrollments: enrollments as ExportedEnrollment[],
    clicks,
    suppressions,
    deadLetters: deadLetters.map(parsedPayload),
    signups,
  };
}
