import type pg from "pg";
import { event as eventSchema, type IngestEvent } from "../../schemas/event.js";
import { fieldPath } from "../http/errors.js";
import { copyRows } from "../db/copy-rows.js";
import { withTransaction } from "../db/transaction.js";
import { taxContext } from "../tax/context.js";
import { appendToLedger, type LedgerEntry, type LedgerKey } from "../tax/ledger.js";
import { tagTaxes } from "../tax/tagging.js";
import { systemClock, type Clock } from "../clock.js";
import type { NetworkLookup } from "../engagement/networks.js";
import { storedAddress, type IpSetting } from "../engagement/ip-privacy.js";
import { ENGAGEMENT_SQL } from "../engagement/queries.js";
import { classifyReported, type ReportedClassification } from "../engagement/reported.js";
import { enrollFromEvents } from "../sequences/enroll.js";
import { attribute } from "./attribution.js";
import type { CountryLookup } from "./geoip.js";
import { EVENT_SQL } from "./queries.js";

export type EventOutcome = { index: number; status: "accepted" | "duplicate" } | { index: number; status: "rejected"; reason: string };

export interface IngestResult {
  accepted: number;
  duplicates: number;
  rejected: number;
  results: EventOutcome[];
}

interface Valid {
  index: number;
  event: IngestEvent;
}

/** The first problems of an invalid event as one line: `amount.currency: … ; occurredAt: …`. */
function reasonOf(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, 5)
    .map((issue) => `${fieldPath(issue.path) || "(event)"}: ${issue.message}`)
    .join("; ");
}

/**
 * Store a batch of events (`POST /v1/events`). Each is checked on its own:
 * an invalid one goes to the dead-letter table with its reason and exactly
 * what was sent, and never costs its neighbours. A key already stored, or
 * earlier in the same batch, is a duplicate, whatever its occurredAt. Keys,
 * events and dead letters commit together. Events are attributed to a
 * campaign as they are stored (attribution.ts), and enroll subscribers in
 * the sequences they trigger (sequences/enroll.ts).
 */
export interface IngestOptions {
  /** Record rejected events in the dead-letter table (a replay does not: they are there already). */
  deadLetter: boolean;
  /** How long after a send or click an event counts for that campaign. */
  attributionWindowMs: number;
  /** The country of an IP address, for events with neither their own country nor a subscriber's. */
  countryOf?: CountryLookup | undefined;
  /** The network of an open's or click's IP address, one piece of the evidence of who made it. */
  networkOf?: NetworkLookup | undefined;
  /** The time enrollments in sequences start at. */
  clock?: Clock | undefined;
  /** MK_LEDGER_KEY: tax ledger entries are hashed with it (HMAC-SHA-256), plain SHA-256 without. */
  ledgerKey?: LedgerKey | undefined;
}

export async function ingestEvents(pool: pg.Pool, raw: readonly unknown[], options: IngestOptions): Promise<IngestResult> {
  const outcomes: EventOutcome[] = new Array(raw.length);
  const dead: { index: number; key: string | null; reason: string }[] = [];

  // 1. Validate each event on its own.
  const valid: Valid[] = [];
  raw.forEach((item, index) => {
    const parsed = eventSchema.safeParse(item);
    if (parsed.success) valid.push({ index, event: parsed.data });
    else dead.push({ index, key: keyOf(item), reason: reasonOf(parsed.error.issues) });
  });

  // 2. Whose events they are: subscribers by email or id.
  const emails = valid.flatMap((v) => ("email" in v.event.subscriber ? [v.event.subscriber.email.trim().toLowerCase()] : []));
  const ids = valid.flatMap((v) => ("id" in v.event.subscriber ? [v.event.subscriber.id] : []));
  const { rows } = emails.length + ids.length > 0 ? await pool.query<{ id: string; email: string; country: string | null }>({ name: "mk_event_subscribers", text: EVENT_SQL.subscribers, values: [emails, ids] }) : { rows: [] };
  const byEmail = new Map(rows.map((r) => [r.email, r]));
  const byId = new Map(rows.map((r) => [Number(r.id), r]));
  const known: { valid: Valid; subscriber: { id: string; country: string | null } }[] = [];
  for (const v of valid) {
    const who = v.event.subscriber;
    const subscriber = "email" in who ? byEmail.get(who.email.trim().toLowerCase()) : byId.get(who.id);
    if (subscriber) known.push({ valid: v, subscriber });
    else dead.push({ index: v.index, key: v.event.idempotencyKey, reason: `subscriber: no subscriber ${"email" in who ? `with email ${who.email}` : `with id ${who.id}`}` });
  }

  // 3. The first of each key in the batch is a candidate; later ones are duplicates.
  const first = new Map<string, (typeof known)[number]>();
  for (const item of known) {
    const key = item.valid.event.idempotencyKey;
    if (first.has(key)) outcomes[item.valid.index] = { index: item.valid.index, status: "duplicate" };
    else first.set(key, item);
  }

  // 4. One transaction: claim the keys, store the events whose key was new, dead-letter the rest.
  const fresh = await withTransaction(pool, async (client) => {
    let ledger: LedgerEntry[] = [];
    const claimed = new Set((await client.query<{ idempotency_key: string }>({ name: "mk_event_claim_keys", text: EVENT_SQL.claimKeys, values: [[...first.keys()].sort()] })).rows.map((r) => r.idempotency_key));
    const store = [...first.values()].filter((item) => claimed.has(item.valid.event.idempotencyKey));
    if (store.length > 0) {
      const e = store.map((item) => item.valid.event);
      const attributed = await attribute(client, store.map((item) => ({ event: item.valid.event, subscriberId: item.subscriber.id })), options.attributionWindowMs);
      const countries = store.map((item) => item.valid.event.country ?? item.subscriber.country ?? (item.valid.event.ip ? options.countryOf?.(item.valid.event.ip) : undefined) ?? null);
      const actors = await classifyEngagement(client, e, options.networkOf);
      const taxable = e.some((x) => x.type === "purchase" || x.type === "refund");
      const { tags, entries } = taxable
        ? tagTaxes(e.map((event, i) => ({ event, country: countries[i]!, campaign: attributed[i]?.campaign ?? null, variant: attributed[i]?.variant ?? null })), await taxContext(client))
        : { tags: [], entries: [] };
      await copyRows(
        client,
        EVENT_SQL.copyEvents,
        store.map(({ valid: { event: x }, subscriber }, i) => [
          x.idempotencyKey,
          subscriber.id,
          x.type,
          x.occurredAt,
          JSON.stringify(x.properties ?? {}),
          x.amount?.value ?? null,
          x.amount?.currency ?? null,
          countries[i] ?? null,
          // An open's or click's address as tracking.ip says, once its network and country were read; other events' as sent.
          actors[i] ? actors[i].ip : (x.ip ?? null),
          x.utm ? JSON.stringify(x.utm) : null,
          x.sendId ?? null,
          attributed[i]?.campaign ?? null,
          attributed[i]?.variant ?? null,
          x.region ?? null,
          tags[i]?.rate ?? null,
          tags[i]?.type ?? null,
          actors[i]?.actor ?? null,
          actors[i]?.reason ?? null,
        ]),
      );
      // Sequences these events trigger, in the same transaction: an event and its enrollments exist together or not at all.
      await enrollFromEvents(client, store.map((item) => ({ idempotencyKey: item.valid.event.idempotencyKey, subscriberId: item.subscriber.id, name: item.valid.event.type })), (options.clock ?? systemClock)());
      ledger = entries;
    }
    if (options.deadLetter && dead.length > 0) {
      dead.sort((a, b) => a.index - b.index);
      await client.query(EVENT_SQL.deadLetter, [dead.map((d) => d.key), dead.map((d) => d.reason), dead.map((d) => JSON.stringify(raw[d.index]) ?? "null")]);
    }
    // The tax ledger, likewise, and last: its chains stay locked until the commit, so concurrent batches wait only for that.
    if (ledger.length > 0) await appendToLedger(client, ledger, options.ledgerKey);
    return claimed;
  });
  for (const item of first.values()) {
    const index = item.valid.index;
    outcomes[index] = { index, status: fresh.has(item.valid.event.idempotencyKey) ? "accepted" : "duplicate" };
  }
  for (const d of dead) outcomes[d.index] = { index: d.index, status: "rejected", reason: d.reason };

  return {
    accepted: outcomes.filter((o) => o.status === "accepted").length,
    duplicates: outcomes.filter((o) => o.status === "duplicate").length,
    rejected: dead.length,
    results: outcomes,
  };
}

/** An open's or click's classification, and its address as tracking.ip keeps it. */
interface Engagement extends ReportedClassification {
  ip: string | null;
}

/**
 * Who made each open and click of the batch (undefined for other events), from
 * what the sender says of the request: its `ip` and `properties.userAgent`,
 * and, when it names its send, how soon after the send it came.
 */
async function classifyEngagement(client: pg.PoolClient, events: readonly IngestEvent[], networkOf: NetworkLookup | undefined): Promise<(Engagement | undefined)[]> {
  const engaged = events.filter((x) => x.type === "open" || x.type === "click");
  if (engaged.length === 0) return events.map(() => undefined);
  const sendIds = [...new Set(engaged.flatMap((x) => (x.sendId ? [x.sendId] : [])))];
  const sentAt = new Map(
    sendIds.length === 0 ? [] : (await client.query<{ id: string; sent_at: Date }>({ name: "mk_event_sent_at", text: EVENT_SQL.sentAt, values: [sendIds] })).rows.map((r) => [r.id, r.sent_at]),
  );
  const setting = (await client.query<{ ip: IpSetting }>(ENGAGEMENT_SQL.trackingIp)).rows[0]?.ip ?? "truncate";
  return events.map((x) => {
    if (x.type !== "open" && x.type !== "click") return undefined;
    const userAgent = x.properties?.["userAgent"];
    const classification = classifyReported(
      { kind: x.type, ip: x.ip, userAgent: typeof userAgent === "string" ? userAgent : undefined, occurredAt: new Date(x.occurredAt), sentAt: x.sendId ? sentAt.get(x.sendId) : undefined, source: "api" },
      networkOf,
    );
    return { ...classification, ip: storedAddress(x.ip, setting) };
  });
}

/** The idempotency key of an event that failed validation, when it has a usable one. */
function keyOf(item: unknown): string | null {
  const key = (item as { idempotencyKey?: unknown } | null)?.idempotencyKey;
  return typeof key === "string" && key.length <= 200 && !key.includes("\u0000") ? key : null;
}
