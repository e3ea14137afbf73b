import type pg from "pg";
import { storedProject, type StoredProject } from "../../schemas/api.js";
import type { Form } from "../../schemas/project.js";
import type { SignupRequest } from "../../schemas/signup.js";
import type { Clock } from "../clock.js";
import { withTransaction } from "../db/transaction.js";
import { ingestEvents } from "../events/ingest.js";
import { snapshotCampaign } from "../sending/snapshot.js";
import { canonicalJson, sha256 } from "../state/canonical.js";
import { clearErasure, type ErasureKey } from "../subscribers/erase.js";
import { signConfirmToken, tokenDigest, type ConfirmKey, type ConfirmToken } from "./confirm-token.js";
import { FORM_SQL } from "./queries.js";

/** How long a confirmation link works. */
export const CONFIRM_LIFETIME_MS = 48 * 3600 * 1000;
/** Confirmation emails one address gets in a day, whatever the forms. */
export const CONFIRMATIONS_PER_DAY = 3;

export interface SignupDeps {
  pool: pg.Pool;
  confirmKey: ConfirmKey;
  erasureKey: ErasureKey;
  clock: Clock;
  attributionWindowMs: number;
  /** Ledger keys of form snapshots stored already, by what they were made of (formSnapshot). */
  snapshots: Map<string, string>;
}

/** Delete signups whose link ran out (pending ones unconfirmed; confirmed ones live on as consent events with their proof). */
export async function purgeExpiredSignups(db: pg.Pool | pg.PoolClient, now: Date): Promise<number> {
  return (await db.query(FORM_SQL.purgeExpired, [now])).rowCount ?? 0;
}

/** The IP address and user agent of a request, the evidence kept with consent. */
export interface RequestEvidence {
  ip: string | null;
  userAgent: string | null;
}

/** The applied project and one of its forms, if both exist. */
export async function findForm(pool: pg.Pool, name: string): Promise<{ project: StoredProject; form: Form } | undefined> {
  const row = (await pool.query<{ spec: unknown }>(FORM_SQL.project)).rows[0];
  if (!row) return undefined;
  const project = storedProject.parse(row.spec);
  const form = project.forms?.find((f) => f.name === name);
  return form ? { project, form } : undefined;
}

/** The topics a signup asked for, among the form's (all of the form's when it named none). */
export function chosenTopics(form: Form, asked: readonly string[] | undefined): string[] {
  return [...new Set(asked === undefined ? form.topics : asked.filter((t) => form.topics.includes(t)))].sort();
}

/** What happened to a signup; the form's answer is the same for each (no enumeration). */
export type SignupOutcome = "queued" | "confirmed" | "already-confirmed" | "capped";

/**
 * Store a signup. With double opt-in: a pending row and its confirmation in
 * the send ledger, unless the address consents to all of it already or got
 * CONFIRMATIONS_PER_DAY confirmations today. Without: consent at once.
 * (Expired signups are purged by the runtime's daily maintenance, not here:
 * a public endpoint's request does no housekeeping.)
 */
export async function submitSignup(deps: SignupDeps, found: { project: StoredProject; form: Form }, request: SignupRequest, evidence: RequestEvidence): Promise<SignupOutcome> {
  const { form, project } = found;
  const now = deps.clock();
  const topics = chosenTopics(form, request.topics);
  const textHash = await consentTextHash(deps.pool, form);
  const outcome = await withTransaction(deps.pool, async (client) => {
    if ((await client.query<{ confirmed: boolean }>(FORM_SQL.alreadyConfirmed, [request.email, topics])).rows[0]?.confirmed) return { outcome: "already-confirmed" as const };
    const recent = (await client.query<{ n: number }>(FORM_SQL.recentSignups, [request.email, now])).rows[0]?.n ?? 0;
    if (form.doubleOptIn && recent >= CONFIRMATIONS_PER_DAY) return { outcome: "capped" as const };

    const expiresAt = new Date(Math.ceil((now.getTime() + CONFIRM_LIFETIME_MS) / 1000) * 1000);
    const placeholder = tokenDigest(`pending:${request.email}:${now.getTime()}:${Math.random()}`);
    const id = (await client.query<{ id: string }>(FORM_SQL.insertSignup, [
      form.name, request.email, request.firstName ?? null, topics, now, evidence.ip, evidence.userAgent, textHash, placeholder, expiresAt, recent + 1,
    ])).rows[0]!.id;
    const token = signConfirmToken(deps.confirmKey, { signupId: id, expiresAt });
    await client.query(FORM_SQL.setDigest, [id, tokenDigest(token)]);
    if (!form.doubleOptIn) return { outcome: "confirmed" as const, token: { token, parsed: { signupId: id, expiresAt } } };

    const snapshot = await formSnapshot(client, deps.snapshots, project, form, textHash);
    await client.query(FORM_SQL.queueConfirmation, [snapshot.key, id, request.email, project.defaults.timezone]);
    return { outcome: "queued" as const, snapshot };
  });
  if (outcome.outcome === "queued") {
    // A few versions per apply at most; bounded all the same.
    if (deps.snapshots.size >= 100) deps.snapshots.clear();
    deps.snapshots.set(outcome.snapshot.source, outcome.snapshot.key);
  }
  if (outcome.outcome === "confirmed") await confirmSignup(deps, outcome.token, evidence);
  return outcome.outcome;
}

/** The hash of the consent text shown: the confirmation template's compiled HTML, or the form's settings without one. */
async function consentTextHash(pool: pg.Pool, form: Form): Promise<string> {
  if (form.template === undefined) return sha256(canonicalJson(form));
  return (await pool.query<{ hash: string | null }>(FORM_SQL.template, [form.template])).rows[0]?.hash ?? sha256(canonicalJson(form));
}

/**
 * The ledger key of a form's confirmation email as applied now: its snapshot
 * (template, subject, sender) stored once per version, so an apply that
 * changes the form changes the next confirmations, never queued ones. Keys
 * known to be stored (`stored`, by the project, form and template they were
 * made of) cost no query.
 */
async function formSnapshot(client: pg.PoolClient, stored: ReadonlyMap<string, string>, project: StoredProject, form: Form, templateHash: string): Promise<{ key: string; source: string }> {
  // With locales, the snapshot holds the applied catalogs too: a catalog's apply makes a new version.
  const catalogs = project.locales ? (await client.query<{ name: string; spec_hash: string }>(FORM_SQL.catalogHashes)).rows : [];
  const source = sha256(canonicalJson({ project, form: form.name, templateHash, ...(project.locales ? { catalogs } : {}) }));
  const known = stored.get(source);
  if (known) return { key: known, source };
  const noClicks = { ...project, tracking: { ...project.tracking, clicks: false } };
  const snapshot = await snapshotCampaign(client, noClicks, `form:${form.name}`, { subject: form.subject, from: form.from, template: form.template!, transactional: true }, `form "${form.name}"`);
  const key = `form:${form.name}/${sha256(canonicalJson(snapshot)).slice(0, 16)}`;
  await client.query(FORM_SQL.recordSnapshot, [key, 0, JSON.stringify({ ...snapshot, campaign: key }), form.name]);
  // Remembered by submitSignup once this transaction commits.
  return { key, source };
}

export type ConfirmOutcome = { status: "confirmed" | "already-confirmed"; form: string; topics: string[] } | { status: "expired" } | { status: "unknown" };

interface SignupRow {
  id: string;
  form: string;
  email: string;
  first_name: string | null;
  topics: string[];
  requested_at: Date;
  ip: string | null;
  user_agent: string | null;
  text_hash: string;
  expires_at: Date;
  confirmed_at: Date | null;
}

/**
 * Follow a confirmation link: the subscriber created or updated (an erasure
 * or unsubscribe of the address cleared: the person signed up again), consent granted with
 * proof for marketing mail and each chosen topic, and a `signup` event
 * through ingest, so sequences it triggers enroll. Idempotent: a confirmed
 * signup changes nothing again, and the event's key is the signup's.
 */
export async function confirmSignup(deps: SignupDeps, token: { token: string; parsed: ConfirmToken }, evidence: RequestEvidence): Promise<ConfirmOutcome> {
  const now = deps.clock();
  const result = await withTransaction(deps.pool, async (client) => {
    const row = (await client.query<SignupRow>(FORM_SQL.lockSignup, [token.parsed.signupId, tokenDigest(token.token)])).rows[0];
    if (!row) return { outcome: { status: "unknown" } as ConfirmOutcome };
    if (row.confirmed_at) return { outcome: { status: "already-confirmed", form: row.form, topics: row.topics } as ConfirmOutcome, email: row.email, id: row.id };
    if (row.expires_at <= now) return { outcome: { status: "expired" } as ConfirmOutcome };
    await clearErasure(client, deps.erasureKey, row.email);
    await client.query(FORM_SQL.clearUnsubscribe, [row.email]);
    const subscriberId = (await client.query<{ id: string }>(FORM_SQL.upsertSubscriber, [row.email, row.first_name])).rows[0]!.id;
    const proof = JSON.stringify({ form: row.form, requestedAt: row.requested_at.toISOString(), requestIp: row.ip, requestUserAgent: row.user_agent, confirmedAt: now.toISOString() });
    for (const topic of ["", ...row.topics]) {
      await client.query(FORM_SQL.grant, [subscriberId, topic, row.form, evidence.ip, evidence.userAgent, row.text_hash, proof, now]);
    }
    await client.query(FORM_SQL.markConfirmed, [row.id, now]);
    return { outcome: { status: "confirmed", form: row.form, topics: row.topics } as ConfirmOutcome, email: row.email, id: row.id };
  });
  if (result.outcome.status === "confirmed" || result.outcome.status === "already-confirmed") {
    // Its own transaction, after the consent: a crash between is mended by following the link again (the key makes it once).
    await ingestEvents(
      deps.pool,
      [{ idempotencyKey: `signup:${result.id}`, type: "signup", subscriber: { email: result.email }, occurredAt: now.toISOString(), properties: { form: result.outcome.form } }],
      { deadLetter: true, attributionWindowMs: deps.attributionWindowMs, clock: deps.clock },
    );
  }
  return result.outcome;
}

/** A signup's token as the worker signs it into the confirmation email. */
export function confirmationToken(key: ConfirmKey, signup: { id: string; expires_at: Date }): string {
  return signConfirmToken(key, { signupId: signup.id, expiresAt: signup.expires_at });
}
