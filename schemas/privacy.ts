import { z } from "zod";
import { SUBSCRIBER_LIMITS } from "./subscriber.js";

/**
 * The address of a data-subject request (`/v1/subscribers/:email/export`,
 * `DELETE /v1/subscribers/:email`), normalised as import normalises it:
 * trimmed and lower-cased. Not checked to be a well-formed address: a
 * malformed one may still sit in a dead letter, and erasing it is harmless.
 */
export const privacyAddress = z
  .string()
  .trim()
  .min(1, { error: "must be an email address" })
  .max(SUBSCRIBER_LIMITS.email, { error: `must be at most ${SUBSCRIBER_LIMITS.email} characters` })
  .refine((value) => !value.includes("\u0000"), { error: "may not contain the NUL character (\\u0000)" })
  .transform((value) => value.toLowerCase());

/** One stored row as the database holds it (its column names), less the internal subscriber id. */
export type StoredRow = Record<string, unknown>;

/** An enrollment in a sequence with what each of its steps did. */
export type ExportedEnrollment = StoredRow & { steps: StoredRow[] };

/**
 * `GET /v1/subscribers/:email/export`: everything held about one address
 * (right of access), each part as stored. Empty lists where nothing is held;
 * `profile` null when there is no subscriber (erased, or never imported).
 */
export interface SubscriberExport {
  email: string;
  exportedAt: string;
  /** When the address was erased, if it was (only a keyed hash of it is kept, to refuse re-imports). */
  erasedAt: string | null;
  profile: StoredRow | null;
  /** The consent history, oldest first. */
  consent: StoredRow[];
  /** Current consent per topic. */
  topics: StoredRow[];
  /** Every send of a campaign or sequence step: campaign, status, times. */
  sends: StoredRow[];
  /** The messages the outbox transport stored for those sends. */
  outbox: StoredRow[];
  /** Every event, SES events (ses.*) and clicks included, oldest first. */
  events: StoredRow[];
  enrollments: ExportedEnrollment[];
  /** The links clicked, once per campaign and link. */
  clicks: StoredRow[];
  suppressions: StoredRow[];
  /** Rejected events whose payload or reason names the address (payload parsed when it is JSON). */
  deadLetters: StoredRow[];
  /** Signups through forms, pending or confirmed and not yet purged (the token only as its digest). */
  signups: StoredRow[];
}

/** `DELETE /v1/subscribers/:email`: whether anything was held (and is now gone); the same answer for an unknown address. */
export interface ErasureResult {
  erased: boolean;
}
