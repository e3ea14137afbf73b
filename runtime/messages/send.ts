import { randomUUID } from "node:crypto";
import type pg from "pg";
import { z } from "zod";
import { storedProject, type StoredProject } from "../../schemas/api.js";
import { dataProblems, message as messageFile, type MessageSendRequest, type MessageSendResponse, type MessageSpec } from "../../schemas/message.js";
import { withTransaction } from "../db/transaction.js";
import { ApiError } from "../http/errors.js";
import { snapshotCampaign } from "../sending/snapshot.js";
import { canonicalJson, sha256 } from "../state/canonical.js";
import { MESSAGE_SQL } from "./queries.js";

/** A Message resource as applied: the file without apiVersion, kind and name. */
const storedMessage = messageFile.omit({ apiVersion: true, kind: true, name: true });

export interface MessageDeps {
  pool: pg.Pool;
  /** Ledger keys of message snapshots stored already, by what they were made of: a known one costs no query. */
  snapshots: Map<string, string>;
  /** Applied messages as last read, by name, each with the state serial it was read at: exact while the serial stands. */
  applied: Map<string, AppliedMessage>;
}

/** The answer to a request, and whether it is the first request's, given again. */
export interface MessageOutcome {
  response: MessageSendResponse;
  replayed: boolean;
}

interface AppliedMessage {
  project: StoredProject;
  spec: MessageSpec;
  templateHash: string | null;
  serial: string;
  /** What its snapshot is made of, hashed (the snapshot cache's key). */
  source: string;
}

/**
 * POST /v1/messages/:name: one message queued in the send ledger for the
 * send worker, exactly once per idempotency key. The key's row, the ledger
 * row and the answer are written in one transaction; a request with a key
 * another request holds waits for that one to commit and answers what it
 * answered (or, if it rolled back, goes on as the first). A refusal (an
 * unknown subscriber, a suppressed address) writes nothing.
 */
export async function sendMessage(deps: MessageDeps, name: string, key: string, request: MessageSendRequest): Promise<MessageOutcome> {
  const email = ("to" in request ? request.to : request.subscriber).trim().toLowerCase();
  const requestHash = sha256(canonicalJson({ message: name, recipient: "to" in request ? { to: email } : { subscriber: email }, data: request.data, locale: request.locale ?? null }));
  // 1. A key answered in the last 24 hours answers again, even if its message was changed or deleted since.
  const earlier = (await deps.pool.query<{ serial: string } & ({ request_hash: string; response: string } | { request_hash: null; response: null })>(MESSAGE_SQL.recentAnswer, [key])).rows[0]!;
  if (earlier.request_hash !== null) return { response: answerOf(earlier, requestHash), replayed: true };

  // 2. The applied message, and its data checked against its schema (a 400 naming each field).
  const applied = await appliedMessage(deps, name, earlier.serial);
  const problems = dataProblems(applied.spec.data, request.data);
  if (problems.length > 0) {
    throw new ApiError(400, "invalid_data", `${problems.map((p) => p.message).slice(0, 3).join("; ")}`, problems.slice(0, 100));
  }
  const sendId = randomUUID();
  const response: MessageSendResponse = { id: sendId, message: name, status: "queued" };

  // 3. The key, the ledger row and the answer, together.
  const outcome = await withTransaction(deps.pool, async (client): Promise<{ first: MessageSendResponse } | { snapshot: { key: string; source: string } }> => {
    const claim = async () => (await client.query(MESSAGE_SQL.claimKey, [key, name, email, requestHash, JSON.stringify(request.data), request.locale ?? null, JSON.stringify(response), sendId])).rowCount === 1;
    // Held already: by a request of the last 24 hours (its answer is given again), or by an older one, whose key is free.
    const claimed = (await claim()) || ((await client.query(MESSAGE_SQL.expireKey, [key])).rowCount === 1 && (await claim()));
    if (!claimed) return { first: await firstAnswer(client, key, requestHash) };

    const found = (await client.query<{ id: string | null; timezone: string | null; reason: string | null; created_at: Date | null }>(MESSAGE_SQL.recipient, [email])).rows[0]!;
    const subscriber = found.id === null ? undefined : { id: found.id, timezone: found.timezone };
    if (!subscriber && "subscriber" in request) {
      throw new ApiError(422, "unknown_subscriber", `no subscriber has the address given as subscriber; send it as to: to mail an address that is no subscriber`, [{ path: "subscriber", message: "no such subscriber" }]);
    }
    if (found.reason !== null) {
      const why = found.reason === "bounce" ? "it bounced for good" : "its owner reported mail from this sender as spam";
      throw new ApiError(409, "suppressed", `not sent: the address is suppressed because ${why} (${found.reason}, since ${found.created_at!.toISOString()}); transactional messages skip only bounced and complaining addresses`, [
        { path: "to" in request ? "to" : "subscriber", message: `suppressed (${found.reason})` },
      ]);
    }
    const snapshot = await messageSnapshot(client, deps.snapshots, name, applied);
    // The ledger row's message_key: the key and the send, unique for ever (a key is free again after 24 hours).
    await client.query(MESSAGE_SQL.queueSend, [sendId, snapshot.key, subscriber?.id ?? null, email, subscriber?.timezone ?? applied.project.defaults.timezone, `${key}/${sendId}`]);
    return { snapshot };
  });
  if ("first" in outcome) return { response: outcome.first, replayed: true };
  // A few versions per apply at most; bounded all the same.
  if (deps.snapshots.size >= 100) deps.snapshots.clear();
  deps.snapshots.set(outcome.snapshot.source, outcome.snapshot.key);
  return { response, replayed: false };
}

/** The first request's answer; the key sent again with another request (another message, recipient or data) is refused. */
async function firstAnswer(client: pg.PoolClient, key: string, requestHash: string): Promise<MessageSendResponse> {
  const row = (await client.query<AnswerRow>(MESSAGE_SQL.firstAnswer, [key])).rows[0];
  // Gone between the conflict and this read: only an erasure of its address in that instant does that.
  if (!row) throw new ApiError(409, "idempotency_key_in_use", "another request with this Idempotency-Key was being answered; try again");
  return answerOf(row, requestHash);
}

interface AnswerRow {
  request_hash: string;
  response: string;
}

/** The stored answer, unless the key comes with another request than the one it answered. */
function answerOf(row: AnswerRow, requestHash: string): MessageSendResponse {
  if (row.request_hash !== requestHash) {
    throw new ApiError(422, "idempotency_key_reused", "this Idempotency-Key was used in the last 24 hours for another request (another message, recipient or data); use a new key for a new message", [
      { path: "Idempotency-Key", message: "used for another request" },
    ]);
  }
  return JSON.parse(row.response) as MessageSendResponse;
}

/** The applied message and project: read and checked again only when an apply moved the serial (`serial`, read just before) since. */
async function appliedMessage(deps: MessageDeps, name: string, serial: string): Promise<AppliedMessage> {
  const cached = deps.applied.get(name);
  if (cached && cached.serial === serial) return cached;
  const { rows } = await deps.pool.query<{ kind: string; spec: unknown; template_hash: string | null; serial: string }>(MESSAGE_SQL.applied, [name]);
  const project = rows.find((r) => r.kind === "Project");
  const message = rows.find((r) => r.kind === "Message");
  // Nothing else is said: not which messages exist, nor whether anything is applied.
  if (!project || !message) throw new ApiError(404, "unknown_message", `no message "${name}" is applied`);
  const spec = storedMessage.safeParse(message.spec);
  if (!spec.success) throw new ApiError(409, "invalid_message", `message "${name}" as applied is not valid (${z.prettifyError(spec.error).split("\n")[0]}); apply it again with this mk`);
  const applied = { project: storedProject.parse(project.spec), spec: spec.data, templateHash: message.template_hash, serial: message.serial };
  const found = { ...applied, source: sha256(canonicalJson({ name, ...applied })) };
  // A few messages per project; bounded all the same.
  if (deps.applied.size >= 1000) deps.applied.clear();
  deps.applied.set(name, found);
  return found;
}

/**
 * The ledger key of a message as applied now: its snapshot (template, subject,
 * sender, configuration set, the project's catalogs) stored once per version
 * as a form's confirmation is, so an apply changes the next requests, never
 * queued ones.
 */
async function messageSnapshot(client: pg.PoolClient, stored: ReadonlyMap<string, string>, name: string, applied: AppliedMessage): Promise<{ key: string; source: string }> {
  const { source } = applied;
  const known = stored.get(source);
  if (known) return { key: known, source };
  const { project, spec } = applied;
  // A transactional message tracks clicks and opens only when it says so, whatever the project does for campaigns.
  const tracked = { ...project, tracking: { ...project.tracking, clicks: spec.tracking?.clicks ?? false, opens: spec.tracking?.opens ?? false } };
  const prepared = await snapshotCampaign(
    client,
    tracked,
    `message:${name}`,
    { subject: spec.subject, preheader: spec.preheader, from: spec.from, replyTo: spec.replyTo, template: spec.template, transactional: true },
    `message "${name}"`,
  );
  // Transactional campaigns carry no pixel; a Message carries one when it says so.
  const snapshot = { ...prepared, tracking: { ...prepared.tracking!, opens: spec.tracking?.opens ?? false } };
  const configurationSet = spec.configurationSet ?? project.sending.transactional?.configurationSet ?? project.sending.configurationSet;
  const key = `message:${name}/${sha256(canonicalJson({ ...snapshot, configurationSet })).slice(0, 16)}`;
  const full = { ...snapshot, campaign: key, message: name, configurationSet };
  await client.query(MESSAGE_SQL.recordSnapshot, [key, JSON.stringify(full), name]);
  return { key, source };
}

/** Free the keys of messages older than 24 hours that are no longer on their way (the runtime's daily maintenance). */
export async function purgeExpiredMessageRequests(db: pg.Pool): Promise<number> {
  return (await db.query(MESSAGE_SQL.purgeExpired)).rowCount ?? 0;
}
