import type pg from "pg";
import type { ConsentEvent, SubscriberDetail, SubscriberListQuery, SubscriberPage, SubscriberRecord } from "../../schemas/api.js";
import { ConditionCompiler } from "../audiences/condition-sql.js";
import { ApiError } from "../http/errors.js";
import type { SubscriberRow } from "../sending/compose.js";
import { appliedAudiences, appliedProject } from "../state/applied.js";
import { SUBSCRIBER_SQL, subscriberPageSql } from "./queries.js";

/** A subscribers row as the sending worker reads it, with what only the API shows. */
interface SubscriberRecordRow extends SubscriberRow {
  email: string;
  consent: "marketing" | null;
  created_at: Date;
  updated_at: Date;
  topics: Record<string, boolean>;
}

interface ConsentRow {
  topic: string;
  action: "granted" | "withdrawn";
  source: string;
  source_detail: string | null;
  occurred_at: Date;
  ip: string | null;
  user_agent: string | null;
  text_hash: string | null;
  evidence: Record<string, unknown> | null;
}

function toRecord(row: SubscriberRecordRow): SubscriberRecord {
  return {
    email: row.email,
    firstName: row.first_name,
    lastName: row.last_name,
    country: row.country,
    timezone: row.timezone,
    locale: row.locale,
    tags: row.tags,
    consent: row.consent,
    attributes: row.attributes,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    topics: row.topics,
  };
}

function toConsentEvent(row: ConsentRow): ConsentEvent {
  return {
    topic: row.topic,
    action: row.action,
    source: row.source,
    sourceDetail: row.source_detail,
    occurredAt: row.occurred_at.toISOString(),
    ip: row.ip,
    userAgent: row.user_agent,
    textHash: row.text_hash,
    evidence: row.evidence,
  };
}

/** The email as subscribers store it: trimmed, lower case. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** One subscriber with its consent history, or a 404. */
export async function readSubscriber(db: pg.Pool | pg.PoolClient, email: string): Promise<SubscriberDetail> {
  const row = (await db.query<SubscriberRecordRow>(SUBSCRIBER_SQL.byEmail, [normaliseEmail(email)])).rows[0];
  if (!row) throw new ApiError(404, "unknown_subscriber", "no subscriber has this email address");
  const history = (await db.query<ConsentRow>(SUBSCRIBER_SQL.history, [row.id])).rows;
  return { ...toRecord(row), consentHistory: history.map(toConsentEvent) };
}

/**
 * A page of subscribers in id order after the cursor, in an applied audience
 * (its condition compiled and sized as sends compile it) and with a tag when
 * asked. The cursor is the last id of the page before.
 */
export async function listSubscribers(pool: pg.Pool, query: SubscriberListQuery): Promise<SubscriberPage> {
  const audiences = await appliedAudiences(pool);
  if (query.audience !== undefined && !audiences.has(query.audience)) {
    throw new ApiError(404, "unknown_audience", `no audience "${query.audience}" is applied`, [{ path: "audience", message: "not an applied audience" }]);
  }
  const timezone = (await appliedProject(pool))?.defaults.timezone ?? "UTC";
  const compiler = new ConditionCompiler(audiences, timezone);
  compiler.param(query.cursor ?? "0");
  compiler.param(query.limit);
  const parts = [query.audience === undefined ? "true" : compiler.compile({ audience: query.audience })];
  if (query.tag !== undefined) parts.push(compiler.compile({ tag: query.tag }));
  const rows = (await pool.query<SubscriberRecordRow>(subscriberPageSql(parts.join(" and ")), compiler.params)).rows;
  return { subscribers: rows.map(toRecord), nextCursor: rows.length === query.limit ? rows.at(-1)!.id : null };
}
