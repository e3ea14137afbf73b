import { randomUUID } from "node:crypto";
import { CircuitState, ConsecutiveBreaker, circuitBreaker, handleWhen, isBrokenCircuitError, type CircuitBreakerPolicy } from "cockatiel";
import { DateTime } from "luxon";
import type pg from "pg";
import { RenderError } from "../templates/personalise.js";
import { toRecipient, type LedgerRow, type MessageComposer, type Recipient, type SubscriberRow } from "./compose.js";
import type { SendMetrics } from "./metrics.js";
import { SEND_SQL } from "./queries.js";
import { MESSAGE_SQL } from "../messages/queries.js";
import type { SendRateLimiter } from "./rate-limit.js";
import { PollingLoop } from "../polling-loop.js";
import { nextInWindow, parseWindow } from "./schedule.js";
import type { SendSnapshot } from "./snapshot.js";
import { TransportError, type OutgoingMessage, type RemoteTransport, type Transport } from "./transports/transport.js";
import { withTransaction } from "../db/transaction.js";
import type { DatabaseWatch } from "../db/database-status.js";

export interface WorkerLog {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

export interface WorkerOptions {
  pool: pg.Pool;
  transport: Transport;
  limiter: SendRateLimiter;
  composer: MessageComposer;
  metrics: SendMetrics;
  log: WorkerLog;
  /** Told about the database's calls; the runtime's one status, so an outage is logged once (see PollingLoop). */
  database?: DatabaseWatch;
  /** Most rows claimed at once. */
  batchSize?: number;
  /** Transport calls in flight at once (remote transports). */
  concurrency?: number;
  /** How long a claim holds; a worker that dies frees its rows after this. */
  leaseSeconds?: number;
  /** Wait between polls when nothing is due. */
  idleMs?: number;
  /** Attempts before a retryable failure becomes final. */
  maxAttempts?: number;
}

/** Backoff for attempt n (1-based): full jitter, uniformly 0 … min(60 s, 1 s × 2^(n−1)). */
export function backoffMs(attempt: number, random = Math.random): number {
  return Math.floor(random() * Math.min(60_000, 1000 * 2 ** Math.max(0, attempt - 1)));
}

/** A claimed ledger row with its subscriber's fields (all null when there is none) and its address's suppression. */
interface ClaimedRow extends LedgerRow {
  attempts: number;
  suppression: string | null;
  subscriber_found: string | null;
  first_name: string | null;
  last_name: string | null;
  country: string | null;
  subscriber_timezone: string | null;
  locale: string | null;
  tags: string[];
  consent: string | null;
  attributes: Record<string, unknown>;
}

/** The subscriber fields a claimed row was joined with (the caller checked subscriber_found: there is one). */
function subscriberOf(row: ClaimedRow): SubscriberRow {
  return {
    id: row.subscriber_id,
    first_name: row.first_name,
    last_name: row.last_name,
    country: row.country,
    timezone: row.subscriber_timezone,
    locale: row.locale,
    tags: row.tags,
    consent: row.consent,
    attributes: row.attributes,
  };
}

/** A pending signup a form's confirmation email goes to (forms, migration 000016). */
interface SignupRow {
  id: string;
  first_name: string | null;
  expires_at: Date;
}

/** The recipient of a confirmation email: the address and first name the signup gave, nothing else known yet. */
function signupRecipient(row: ClaimedRow, signup: SignupRow): Recipient {
  return {
    sendId: row.id,
    email: row.email,
    variant: null,
    subscriber: { firstName: signup.first_name, lastName: null, country: null, timezone: null, locale: null, tags: [], consent: null, attributes: {} },
    confirm: { signupId: signup.id, expiresAt: signup.expires_at },
  };
}

/** The request of a claimed transactional message (messages/, migration 000024): its data and the locale it asked for. */
interface MessageRequestRow {
  send_id: string;
  data: Record<string, unknown>;
  locale: string | null;
}

/** The recipient of a transactional message: a subscriber's fields when the address is one, else the address alone; the request's locale first. */
function messageRecipient(row: ClaimedRow, request: MessageRequestRow): Recipient {
  const known = row.subscriber_found !== null;
  const subscriber = known ? toRecipient(row, subscriberOf(row)).subscriber : { firstName: null, lastName: null, country: null, timezone: null, locale: null, tags: [], consent: null, attributes: {} };
  return { sendId: row.id, email: row.email, variant: null, subscriber: { ...subscriber, locale: request.locale ?? subscriber.locale }, message: { data: request.data } };
}

type Outcome =
  | { id: string; result: "sent"; messageId: string }
  | { id: string; result: "retry" | "reject" | "unknown" | "not-attempted"; error: string; retryAfterMs?: number | undefined };

/**
 * Works the send ledger: claims due rows (FOR UPDATE SKIP LOCKED, with a
 * lease), personalises them, takes rate-limit tokens, hands them to the
 * transport and settles each row. Any number of workers in any number of
 * replicas can run against one database: a row is only ever claimed by one,
 * and a row handed to a transport is never handed over again by a worker
 * that lost track of it: its lease runs out into "ambiguous".
 */
export class SendWorker {
  readonly id = `worker-${randomUUID().slice(0, 8)}`;
  private readonly snapshots = new Map<string, SendSnapshot>();
  private readonly breaker: CircuitBreakerPolicy;
  private readonly batchSize: number;
  private readonly concurrency: number;
  private readonly leaseSeconds: number;
  private readonly maxAttempts: number;
  private readonly loop: PollingLoop;
  private lastSweep = 0;
  /** The last batch's settling (its rows marked sent, retried, failed …), left in flight while the next batch is claimed. */
  private settling: Promise<void> = Promise.resolve();

  constructor(private readonly options: WorkerOptions) {
    this.batchSize = options.batchSize ?? 200;
    this.concurrency = options.concurrency ?? 16;
    this.leaseSeconds = options.leaseSeconds ?? 120;
    this.loop = new PollingLoop(() => this.runOnce(), { idleMs: options.idleMs ?? 500, log: options.log, name: "send worker", id: this.id, database: options.database });
    this.maxAttempts = options.maxAttempts ?? 8;
    const transport = options.transport.name;
    this.breaker = circuitBreaker(
      handleWhen((error) => error instanceof TransportError && error.kind === "retry"),
      { halfOpenAfter: 15_000, breaker: new ConsecutiveBreaker(10) },
    );
    this.breaker.onBreak(() => {
      options.metrics.breakerOpen.set({ transport }, 1);
      options.log.warn({ transport }, "circuit breaker open: the transport keeps failing; pausing sends to it for 15 s");
    });
    this.breaker.onReset(() => {
      options.metrics.breakerOpen.set({ transport }, 0);
      options.log.info({ transport }, "circuit breaker closed: the transport answers again");
    });
    options.metrics.breakerOpen.set({ transport }, 0);
  }

  /** Work until stop(). */
  start(): void {
    this.loop.start();
  }

  /** Finish the batch in hand and its settling, then stop. */
  async stop(): Promise<void> {
    await this.loop.stop();
    // Like a batch failing while the loop stops (PollingLoop): rows it could not settle run out of lease into "ambiguous".
    await this.settling.catch(() => {});
  }

  /** One batch: returns how many rows it settled (0 when nothing was due). */
  async runOnce(): Promise<number> {
    const { pool } = this.options;
    await this.sweepExpiredLeases();
    const granted = await this.options.limiter.take(this.batchSize, this.loop.signal);
    // The hot statements are named: each connection prepares them once and reuses the plan.
    // The previous batch settles beside this claim (other rows, another connection). Its failure fails this
    // batch (PollingLoop retries); rows claimed meanwhile go back to the queue when their lease runs out.
    const previous = this.settling;
    this.settling = Promise.resolve();
    const [claim] = await Promise.all([
      pool.query<ClaimedRow>({ name: "mk_send_claim", text: SEND_SQL.claim, values: [granted, this.leaseSeconds, this.id] }),
      previous,
    ]);
    const claimed = claim.rows;
    if (claimed.length === 0) return 0;

    const snapshots = await this.snapshotsFor(claimed.map((r) => r.campaign));
    const signupIds = claimed.flatMap((r) => (r.signup_id ? [r.signup_id] : []));
    const signups = new Map(
      signupIds.length === 0 ? [] : (await pool.query<SignupRow>(SEND_SQL.signups, [signupIds])).rows.map((s) => [s.id, s]),
    );
    const messageIds = claimed.flatMap((r) => (snapshots.get(r.campaign)!.message !== undefined ? [r.id] : []));
    const requests = new Map(
      messageIds.length === 0 ? [] : (await pool.query<MessageRequestRow>(MESSAGE_SQL.requestsOfSends, [messageIds])).rows.map((m) => [m.send_id, m]),
    );
    // Someone who unsubscribed may sign up again: their confirmation goes, and their receipts (transactional messages)
    // go whatever they unsubscribed from or an operator suppressed; a bounced or complaining address gets nothing.
    const suppressed = (row: ClaimedRow) =>
      row.suppression !== null && (requests.has(row.id) ? row.suppression === "bounce" || row.suppression === "complaint" : !(row.signup_id && row.suppression === "unsubscribe"));
    const addressed = (row: ClaimedRow) => (row.signup_id ? signups.has(row.signup_id) : requests.has(row.id) || row.subscriber_found !== null);

    // 1. Rows that may not go now: suppressed since the start, or outside their delivery window.
    const now = DateTime.utc();
    const later: { id: string; at: Date }[] = [];
    const dropped: string[] = [];
    const ready: ClaimedRow[] = [];
    for (const row of claimed) {
      if (suppressed(row) || !addressed(row)) {
        dropped.push(row.id);
        continue;
      }
      const next = nextInWindow(now, row.timezone, parseWindow(snapshots.get(row.campaign)!.window));
      if (next > now) later.push({ id: row.id, at: next.toJSDate() });
      else ready.push(row);
    }
    if (dropped.length > 0) {
      await pool.query(SEND_SQL.markSuppressed, [dropped, this.id]);
      this.options.metrics.sends.inc({ status: "suppressed", transport: this.options.transport.name }, dropped.length);
    }
    if (later.length > 0) await pool.query(SEND_SQL.reschedule, [later.map((l) => l.id), later.map((l) => l.at), this.id]);

    // 2. Personalise. A message its template cannot render (formatMoney on text, say) fails alone; the batch goes on.
    const messages: { row: ClaimedRow; message: OutgoingMessage }[] = [];
    const unrenderable: { row: ClaimedRow; reason: string }[] = [];
    for (const row of ready) {
      const request = requests.get(row.id);
      const recipient = row.signup_id ? signupRecipient(row, signups.get(row.signup_id)!) : request ? messageRecipient(row, request) : toRecipient(row, subscriberOf(row));
      try {
        messages.push({ row, message: await this.options.composer.compose(snapshots.get(row.campaign)!, recipient) });
      } catch (error) {
        if (!(error instanceof RenderError)) throw error;
        const variant = row.variant === null ? "" : `, variant ${row.variant}`;
        unrenderable.push({ row, reason: `${error.message} (campaign ${row.campaign}${variant}, subscriber ${row.email})` });
      }
    }
    if (unrenderable.length > 0) {
      await pool.query(SEND_SQL.markUnrenderable, [unrenderable.map((u) => u.row.id), unrenderable.map((u) => u.reason), this.id]);
      this.options.metrics.sends.inc({ status: "failed", transport: this.options.transport.name }, unrenderable.length);
      const campaigns = [...new Set(unrenderable.map((u) => u.row.campaign))];
      this.options.log.warn({ campaigns, count: unrenderable.length }, "messages their template cannot render: marked failed, with the reason on each row");
    }

    // 3. Hand over and settle.
    if (messages.length > 0) {
      if (this.options.transport.kind === "database") await this.storeInDatabase(messages.map((m) => m.message));
      else await this.sendRemote(this.options.transport, messages);
    }
    return claimed.length;
  }

  /** The outbox: messages and "sent" in one transaction, only for rows this worker still holds. */
  private async storeInDatabase(messages: OutgoingMessage[]): Promise<void> {
    const transport = this.options.transport;
    if (transport.kind !== "database") return;
    const started = performance.now();
    const stored = await withTransaction(this.options.pool, async (client) => {
      const held = new Set(
        (await client.query<{ id: string }>({ name: "mk_send_mark_sent", text: SEND_SQL.markSent, values: [messages.map((m) => m.sendId), messages.map((m) => `outbox:${m.sendId}`), "claimed", this.id, messages.map((m) => m.locale ?? null)] })).rows.map((r) => r.id),
      );
      await transport.store(client, messages.filter((m) => held.has(m.sendId)));
      return held.size;
    });
    this.options.metrics.sends.inc({ status: "sent", transport: transport.name }, stored);
    this.options.metrics.sendDuration.observe({ transport: transport.name }, (performance.now() - started) / 1000);
  }

  private async sendRemote(transport: RemoteTransport, messages: { row: ClaimedRow; message: OutgoingMessage }[]): Promise<void> {
    const { pool } = this.options;
    // From here on a lost lease means "ambiguous": the provider may have the message.
    const held = new Set((await pool.query<{ id: string }>({ name: "mk_send_mark_sending", text: SEND_SQL.markSending, values: [messages.map((m) => m.row.id), this.id, transport.name, messages.map((m) => m.message.locale ?? null)] })).rows.map((r) => r.id));
    const outcomes: Outcome[] = [];
    const queue = messages.filter((m) => held.has(m.row.id));
    const next = async (): Promise<void> => {
      for (let item = queue.shift(); item; item = queue.shift()) outcomes.push(await this.attempt(transport, item.message));
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, queue.length) }, next));

    const attempts = new Map(messages.map((m) => [m.row.id, m.row.attempts + 1]));
    const settling = this.settle(transport, outcomes, attempts);
    // Awaited by the next runOnce (or stop); until then, a failure must not count as unhandled.
    settling.catch(() => {});
    this.settling = settling;
  }

  /** Record each outcome on its row, as long as this worker still holds it. */
  private async settle(transport: RemoteTransport, outcomes: Outcome[], attempts: ReadonlyMap<string, number>): Promise<void> {
    const { pool, metrics } = this.options;
    const sent = outcomes.filter((o): o is Extract<Outcome, { result: "sent" }> => o.result === "sent");
    const failed = outcomes.filter((o): o is Exclude<Outcome, { result: "sent" }> => o.result !== "sent");
    const retry = failed.filter((o) => o.result === "retry" && attempts.get(o.id)! < this.maxAttempts);
    const reject = failed.filter((o) => o.result === "reject" || (o.result === "retry" && attempts.get(o.id)! >= this.maxAttempts));
    const unknown = failed.filter((o) => o.result === "unknown");
    const notAttempted = failed.filter((o) => o.result === "not-attempted");

    if (sent.length > 0) await pool.query({ name: "mk_send_mark_sent", text: SEND_SQL.markSent, values: [sent.map((o) => o.id), sent.map((o) => o.messageId), "sending", this.id, sent.map(() => null)] });
    if (retry.length > 0) {
      const due = retry.map((o) => new Date(Date.now() + Math.max(o.retryAfterMs ?? 0, backoffMs(attempts.get(o.id)!))));
      await pool.query(SEND_SQL.markRetry, [retry.map((o) => o.id), due, retry.map((o) => o.error), this.id]);
      metrics.retries.inc({ transport: transport.name, reason: "transient" }, retry.length);
    }
    if (reject.length > 0) {
      const reasons = reject.map((o) => (o.result === "retry" ? `gave up after ${this.maxAttempts} attempts: ${o.error}` : o.error));
      await pool.query(SEND_SQL.markFailed, [reject.map((o) => o.id), reasons, this.id]);
    }
    if (unknown.length > 0) {
      await pool.query(SEND_SQL.markAmbiguous, [unknown.map((o) => o.id), unknown.map((o) => o.error), this.id]);
      this.options.log.warn({ transport: transport.name, count: unknown.length, first: unknown[0]!.error }, "transport outcome unknown: rows left ambiguous, not resent");
    }
    if (notAttempted.length > 0) {
      await pool.query(SEND_SQL.markNotAttempted, [notAttempted.map((o) => o.id), new Date(Date.now() + 15_000), this.id]);
      metrics.retries.inc({ transport: transport.name, reason: "circuit_open" }, notAttempted.length);
    }
    for (const [status, list] of [["sent", sent], ["failed", reject], ["ambiguous", unknown]] as const) {
      if (list.length > 0) metrics.sends.inc({ status, transport: transport.name }, list.length);
    }
  }

  private async attempt(transport: RemoteTransport, message: OutgoingMessage): Promise<Outcome> {
    const started = performance.now();
    try {
      const messageId = await this.breaker.execute(() => transport.send(message));
      this.options.metrics.sendDuration.observe({ transport: transport.name }, (performance.now() - started) / 1000);
      return { id: message.sendId, result: "sent", messageId };
    } catch (error) {
      if (isBrokenCircuitError(error) || this.breaker.state === CircuitState.Isolated) {
        return { id: message.sendId, result: "not-attempted", error: "circuit open" };
      }
      if (error instanceof TransportError) return { id: message.sendId, result: error.kind, error: error.message, retryAfterMs: error.retryAfterMs };
      return { id: message.sendId, result: "unknown", error: (error as Error).message };
    }
  }

  /** Free rows whose worker died: unsent ones go back to the queue, handed-over ones become ambiguous. */
  private async sweepExpiredLeases(): Promise<void> {
    if (Date.now() - this.lastSweep < 1000) return;
    this.lastSweep = Date.now();
    const { pool } = this.options;
    await pool.query(SEND_SQL.requeueExpired);
    const { rowCount } = await pool.query(SEND_SQL.expireSending);
    if (rowCount) {
      this.options.metrics.sends.inc({ status: "ambiguous", transport: this.options.transport.name }, rowCount);
      this.options.log.warn({ count: rowCount }, "leases ran out while sending: rows left ambiguous until a provider event settles them (mk send reconcile)");
    }
  }

  private async snapshotsFor(campaigns: string[]): Promise<Map<string, SendSnapshot>> {
    const missing = [...new Set(campaigns)].filter((c) => !this.snapshots.has(c));
    if (missing.length > 0) {
      const { rows } = await this.options.pool.query<{ campaign: string; snapshot: SendSnapshot }>(SEND_SQL.snapshots, [missing]);
      for (const row of rows) this.snapshots.set(row.campaign, row.snapshot);
    }
    return this.snapshots;
  }
}
