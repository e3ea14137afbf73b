import type pg from "pg";
import { z } from "zod";
import { withTransaction } from "../db/transaction.js";
import { storedAddress, validAddress, type IpSetting } from "../engagement/ip-privacy.js";
import { ENGAGEMENT_SQL } from "../engagement/queries.js";
import type { NetworkLookup } from "../engagement/networks.js";
import { classifyReported, type ReportedClassification } from "../engagement/reported.js";
import { storedUserAgent } from "../engagement/request-evidence.js";
import { CONSENT_SQL } from "../subscribers/consent.js";
import type { SnsMessage } from "./sns-signature.js";

/** An SES event-publishing record (eventType), or a feedback notification (notificationType). */
const sesEvent = z.looseObject({
  eventType: z.string().optional(),
  notificationType: z.string().optional(),
  mail: z.looseObject({
    timestamp: z.string(),
    messageId: z.string(),
    destination: z.array(z.string()).default([]),
    tags: z.record(z.string(), z.array(z.string())).optional(),
  }),
  bounce: z.looseObject({ bounceType: z.string(), bouncedRecipients: z.array(z.looseObject({ emailAddress: z.string() })), timestamp: z.string().optional() }).optional(),
  complaint: z.looseObject({ complainedRecipients: z.array(z.looseObject({ emailAddress: z.string() })), timestamp: z.string().optional() }).optional(),
  reject: z.looseObject({ reason: z.string().optional() }).optional(),
  failure: z.looseObject({ errorMessage: z.string().optional() }).optional(),
  // SES's own open pixel and link redirect (event publishing, "Open object" and "Click object").
  open: z.looseObject({ ipAddress: z.string().optional(), userAgent: z.string().optional(), timestamp: z.string().optional() }).optional(),
  click: z
    .looseObject({ ipAddress: z.string().optional(), userAgent: z.string().optional(), link: z.string().optional(), linkTags: z.unknown().optional(), timestamp: z.string().optional() })
    .optional(),
});

type SesRecord = z.infer<typeof sesEvent>;

/** The SES event types and what each does to the send ledger. */
const SETTLES_AS_SENT = new Set(["Send", "Delivery", "Bounce", "Complaint", "DeliveryDelay", "Open", "Click", "Subscription"]);
const SETTLES_AS_FAILED = new Set(["Reject", "Rendering Failure"]);

const SQL = {
  seen: "insert into sns_messages (message_id, topic_arn, type) values ($1, $2, $3) on conflict (message_id) do nothing",
  sendById: "select id, subscriber_id, status, sent_at from sends where id = $1",
  sendByMessageId: "select id, subscriber_id, status, sent_at from sends where provider_message_id = $1",
  settleSent: `
    update sends set status = 'sent', provider_message_id = coalesce(provider_message_id, $2), sent_at = coalesce(sent_at, now()),
      last_error = 'settled by an SES ' || $3 || ' event', updated_at = now()
    where id = $1 and status = 'ambiguous'`,
  settleFailed: "update sends set status = 'failed', last_error = $2, updated_at = now() where id = $1 and status = 'ambiguous'",
  /** A hard bounce or complaint replaces an unsubscribe or a manual suppression: transactional mail, which those do not stop, must stop too. */
  suppress: `
    insert into suppressions (email, reason, source) select unnest($1::text[]), $2, $3
    on conflict (email) do update set reason = excluded.reason, source = excluded.source, created_at = now()
      where suppressions.reason in ('unsubscribe', 'manual') and excluded.reason in ('bounce', 'complaint')`,
  subscriberByEmail: "select id from subscribers where email = any($1::text[]) limit 1",
  key: "insert into event_keys (idempotency_key) values ($1) on conflict do nothing returning idempotency_key",
  /** The event, attributed to its send's campaign and variant (when mk sent it), in the subscriber's country; opens and clicks with who made them. */
  event: `
    insert into events (idempotency_key, subscriber_id, name, occurred_at, send_id, data, campaign, variant, country, actor, actor_reason, ip)
    select $1, sub.id, $3, $4, s.id, $6, s.campaign, s.variant, sub.country, $7, $8, $9::inet
    from subscribers sub left join sends s on s.id = $5 where sub.id = $2`,
} as const;

export interface SesOutcome {
  status: "handled" | "duplicate";
  eventType?: string;
  /** The send the event belongs to, when mk sent the message. */
  sendId?: string;
}

/** "Rendering Failure" → "ses.rendering-failure". */
function eventName(type: string): string {
  return `ses.${type.replace(/([a-z])([A-Z])/g, "$1-$2").replace(/\s+/g, "-").toLowerCase()}`;
}

/**
 * One verified SNS notification carrying an SES event, in one transaction:
 * counted once by SNS MessageId; matched to its send by the mk-send-id tag or
 * the provider's message id; an ambiguous send settled (SES had the message,
 * or refused it); permanent bounces and complaints suppressed, their consent
 * withdrawn in the consent history; the event
 * recorded for the subscriber, an open or click with who made it (a person,
 * a privacy proxy, a link scanner) and its address as tracking.ip keeps it.
 */
/** Record that an SNS message was handled; false when it had been already (a redelivery). */
export async function firstDelivery(pool: pg.Pool, message: SnsMessage): Promise<boolean> {
  return Boolean((await pool.query(SQL.seen, [message.MessageId, message.TopicArn, message.Type])).rowCount);
}

export async function handleSesNotification(pool: pg.Pool, message: SnsMessage, networkOf?: NetworkLookup): Promise<SesOutcome> {
  const parsed = sesEvent.safeParse(parseJson(message.Message));
  return withTransaction(pool, async (client): Promise<SesOutcome> => {
    const { rowCount } = await client.query(SQL.seen, [message.MessageId, message.TopicArn, message.Type]);
    if (!rowCount || !parsed.success) return { status: rowCount ? "handled" : "duplicate" };
    const ses = parsed.data;
    const type = ses.eventType ?? ses.notificationType ?? "Unknown";
    const tagged = ses.mail.tags?.["mk-send-id"]?.[0];
    const uuid = tagged && /^[0-9a-f-]{36}$/.test(tagged) ? tagged : undefined;
    const send = (await client.query<{ id: string; subscriber_id: string; status: string; sent_at: Date | null }>(uuid ? SQL.sendById : SQL.sendByMessageId, [uuid ?? ses.mail.messageId])).rows[0];

    if (send && SETTLES_AS_SENT.has(type)) await client.query(SQL.settleSent, [send.id, ses.mail.messageId, type]);
    if (send && SETTLES_AS_FAILED.has(type)) {
      await client.query(SQL.settleFailed, [send.id, `SES ${type}: ${ses.reject?.reason ?? ses.failure?.errorMessage ?? "refused"}`]);
    }
    const source = `ses:${ses.mail.messageId}`;
    if (type === "Bounce" && ses.bounce?.bounceType === "Permanent") {
      const emails = ses.bounce.bouncedRecipients.map((r) => r.emailAddress.trim().toLowerCase());
      await client.query(SQL.suppress, [emails, "bounce", source]);
      await client.query(CONSENT_SQL.withdrawEmails, [emails, "bounce", source]);
    }
    if (type === "Complaint" && ses.complaint) {
      const emails = ses.complaint.complainedRecipients.map((r) => r.emailAddress.trim().toLowerCase());
      await client.query(SQL.suppress, [emails, "complaint", source]);
      await client.query(CONSENT_SQL.withdrawEmails, [emails, "complaint", source]);
    }

    const subscriberId = send?.subscriber_id ?? (await client.query<{ id: string }>(SQL.subscriberByEmail, [ses.mail.destination.map((d) => d.trim().toLowerCase())])).rows[0]?.id;
    const key = `sns:${message.MessageId}`;
    if (subscriberId && (await client.query(SQL.key, [key])).rowCount) {
      const seen = engagementOf(type, ses);
      const occurredAt = validTime(seen?.timestamp) ?? ses.bounce?.timestamp ?? ses.complaint?.timestamp ?? message.Timestamp;
      const data: Record<string, unknown> = { sesMessageId: ses.mail.messageId, ...(ses.bounce ? { bounceType: ses.bounce.bounceType } : {}) };
      let who: ReportedClassification | undefined;
      let ip: string | null = null;
      if (seen) {
        // In turn with the send's other opens and clicks (runtime/engagement/queries.ts).
        if (send) await client.query(ENGAGEMENT_SQL.lockSendEngagement, [send.id]);
        // The column is inet: anything but an address would fail the whole notification.
        const address = validAddress(seen.ipAddress);
        who = classifyReported({ kind: seen.kind, ip: address, userAgent: seen.userAgent, occurredAt: new Date(occurredAt), sentAt: send?.sent_at ?? undefined, source: "ses" }, networkOf);
        ip = storedAddress(address, (await client.query<{ ip: IpSetting }>(ENGAGEMENT_SQL.trackingIp)).rows[0]?.ip ?? "truncate");
        Object.assign(data, { userAgent: storedUserAgent(seen.userAgent), asn: who.network?.asn, detail: who.detail, ...(seen.kind === "click" ? { link: seen.link } : {}) });
      }
      await client.query(SQL.event, [key, subscriberId, eventName(type), occurredAt, send?.id ?? null, JSON.stringify(data), who?.actor ?? null, who?.reason ?? null, ip]);
    }
    return { status: "handled", eventType: type, ...(send ? { sendId: send.id } : {}) };
  });
}

/** An SES Open or Click: the request SES's pixel or link redirect saw. */
function engagementOf(type: string, ses: SesRecord): { kind: "open" | "click"; ipAddress?: string | undefined; userAgent?: string | undefined; timestamp?: string | undefined; link?: string | undefined } | undefined {
  if (type === "Open") return { ...ses.open, kind: "open" };
  if (type === "Click") return { ...ses.click, kind: "click" };
  return undefined;
}

/** SES's time of the request, as ISO 8601, when it is a time at all (the notification's is used otherwise). */
function validTime(text: string | undefined): string | undefined {
  const ms = text === undefined ? Number.NaN : Date.parse(text);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
