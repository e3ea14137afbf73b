import type pg from "pg";

/** One email, personalised and ready for a transport. */
export interface OutgoingMessage {
  /** The ledger row's id: tagged on the provider message so its events find the row. */
  sendId: string;
  campaign: string;
  to: string;
  from: string;
  replyTo?: string | undefined;
  subject: string;
  html: string;
  text: string;
  /** Extra headers: List-Unsubscribe, List-Unsubscribe-Post, X-Mk-Send-Id. */
  headers: Record<string, string>;
  configurationSet?: string | undefined;
  /** The locale it was composed in (the first of the recipient's chain), when the project has locales: the ledger records it. */
  locale?: string | undefined;
}

/**
 * How a transport call failed, which decides what happens to the ledger row:
 * retry   the provider did not take it (throttled, 5xx, connection refused): send again after a backoff
 * reject  the provider refused it for good (invalid address, SMTP 5xx): failed, with the reason
 * unknown the provider may have taken it (timeout, connection lost mid-call): ambiguous, never resent by itself
 */
export type FailureKind = "retry" | "reject" | "unknown";

export class TransportError extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    /** The provider's own wait, when it gave one (Retry-After). */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = "TransportError";
  }
}

/** A transport that calls a provider: SES v2 or SMTP ("null" is the benchmarks' zero-latency one). */
export interface RemoteTransport {
  readonly name: "ses" | "smtp" | "null";
  readonly kind: "remote";
  /** The provider's message id; a TransportError when it failed. */
  send(message: OutgoingMessage): Promise<string>;
  close(): Promise<void>;
}

/**
 * A transport that writes into the runtime's own database: the message and
 * the ledger update commit in the same transaction, so there is no moment in
 * which one happened without the other.
 */
export interface DatabaseTransport {
  readonly name: "outbox";
  readonly kind: "database";
  store(client: pg.PoolClient, messages: readonly OutgoingMessage[]): Promise<void>;
  close(): Promise<void>;
}

export type Transport = RemoteTransport | DatabaseTransport;
