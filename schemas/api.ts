import { z } from "zod";
import { geofence } from "./campaign.js";
import { locale, timeZone } from "./common.js";
import { condition } from "./condition.js";
import { CATALOG_SEGMENT_PATTERN, MAX_CATALOG_DEPTH } from "./locales.js";
import { depthLimited } from "./nesting.js";
import { project, topic } from "./project.js";
import { subscriber, subscriberAttributes, subscriberTags } from "./subscriber.js";

/**
 * Payloads of the runtime's HTTP API (`/v1/*`), shared by the runtime, which
 * validates requests with them, and the CLI, which sends them.
 */

export const RESOURCE_KINDS = ["Project", "Audience", "Campaign", "Sequence", "Template", "Catalog", "Message"] as const;
export const resourceKind = z.enum(RESOURCE_KINDS);
export type ResourceKind = z.infer<typeof resourceKind>;

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, { error: "must be a SHA-256 hex digest" });
/** Levels of objects and lists a resource's spec may nest: far more than any file kind has, few enough to parse without exhausting the stack. */
export const MAX_SPEC_DEPTH = 100;
const jsonObject = depthLimited(z.record(z.string(), z.json()), {
  max: MAX_SPEC_DEPTH,
  message: `nests more than ${MAX_SPEC_DEPTH} levels of objects and lists here`,
});

/** A resource as the repository describes it. */
export const desiredResource = z.strictObject({
  kind: resourceKind,
  name: z.string().min(1).max(300),
  spec: jsonObject,
});
export type DesiredResource = z.infer<typeof desiredResource>;

/** Keys one applied catalog may hold: far more than any project translates, few enough to keep a send's translator small. */
export const MAX_CATALOG_KEYS = 10_000;

/** A dotted catalog key as the CLI flattens a catalog file: `checkout.cta`. */
const catalogKey = z
  .string()
  .max(600)
  .refine((key) => key.split(".").length <= MAX_CATALOG_DEPTH && key.split(".").every((segment) => CATALOG_SEGMENT_PATTERN.test(segment)), {
    error: `must be a dotted catalog key (at most ${MAX_CATALOG_DEPTH} segments of letters, digits, _ and -)`,
  });

/** A Catalog resource as the runtime stores it: its name is its locale code, its spec the flat messages. */
export const catalogSpec = z.strictObject({
  messages: z
    .record(catalogKey, z.string().max(10_000))
    .refine((messages) => Object.keys(messages).length <= MAX_CATALOG_KEYS, { error: `holds more than ${MAX_CATALOG_KEYS.toLocaleString("en-US")} keys` }),
});

/** Compiled HTML, stored once by the SHA-256 of its content. */
export const compiledTemplate = z.strictObject({ hash: sha256, html: z.string() });
export type CompiledTemplateBody = z.infer<typeof compiledTemplate>;

/** Where an apply came from (simple-git). */
export const applySource = z.strictObject({
  commit: z.string().max(64).nullable(),
  author: z.string().max(300).nullable(),
  branch: z.string().max(300).nullable(),
  dirty: z.boolean().nullable(),
});
export type ApplySource = z.infer<typeof applySource>;

/** A problem the CLI's lint found in a compiled template, as `mk validate --json` prints it. */
const templateProblem = z.strictObject({
  file: z.string().max(1000),
  line: z.int().min(1),
  col: z.int().min(1),
  severity: z.enum(["error", "warning"]),
  code: z.string().regex(/^MK\d{3}$/),
  message: z.string().max(2000),
});

/**
 * What compiling a template gave, by the fingerprint of its inputs (its
 * MJML and every included file, the mk and mjml versions): `mk plan`
 * skips compiling a template whose fingerprint the runtime holds.
 */
export const templateFingerprint = z.strictObject({
  /** The Template resource's name: the template's path. */
  name: z.string().min(1).max(300),
  fingerprint: sha256,
  /** The SHA-256 of the compiled HTML. */
  html: sha256,
  hasPreview: z.boolean(),
  problems: z.array(templateProblem).max(100),
});
export type TemplateFingerprint = z.infer<typeof templateFingerprint>;

export const applyRequest = z.strictObject({
  /** The serial the plan was made against; the apply is refused if it moved. */
  baseSerial: z.int().min(0),
  resources: z.array(desiredResource),
  /** HTML the runtime does not hold yet; every hash a resource names must be here or stored. */
  templates: z.array(compiledTemplate),
  source: applySource,
  /** Deleting a sequence ends its active enrollments; without this the apply is refused. */
  allowExitActive: z.boolean().optional(),
  /** Each template's fingerprint, recorded beside the applied state (sent by mk apply, not kept in plan files). */
  fingerprints: z.array(templateFingerprint).max(100_000).optional(),
});
export type ApplyRequest = z.infer<typeof applyRequest>;

export interface ApplyResponse {
  serial: number;
  added: number;
  changed: number;
  deleted: number;
  /** Sequences that got a new version, with its number. */
  sequenceVersions?: Record<string, number>;
  /** Active enrollments moved to a new version by step name, and ended because their sequence was deleted. */
  enrollmentsMigrated?: number;
  enrollmentsExited?: number;
}

/** A sequence's enrollments still running: how many, and on which version. */
export interface ActiveEnrollments {
  active: number;
  byVersion: Record<string, number>;
}

/** A resource as the runtime holds it. */
export interface AppliedResource {
  kind: ResourceKind;
  name: string;
  spec: DesiredResource["spec"];
  hash: string;
  /** When a campaign started sending (then it can no longer change). */
  startedAt: string | null;
}

export interface StateResponse {
  serial: number;
  resources: AppliedResource[];
  /** Hashes of the compiled HTML the runtime holds. */
  templates: string[];
  /** Active enrollments of each sequence that has any (absent from runtimes older than sequences). */
  sequences?: Record<string, ActiveEnrollments>;
  /** The fingerprint recorded for each applied template (absent from runtimes older than fingerprints). */
  fingerprints?: TemplateFingerprint[];
}

export interface ApplyRecord {
  serial: number;
  baseSerial: number;
  appliedAt: string;
  commit: string | null;
  author: string | null;
  branch: string | null;
  dirty: boolean | null;
  added: number;
  changed: number;
  deleted: number;
}

const topicRule = topic.pick({ name: true, default: true });

export const audienceCountRequest = z.strictObject({
  /** Audience conditions by name (the repository's, which may not be applied yet); null = everyone. */
  audiences: z.record(z.string(), condition.nullable()),
  /** The project's time zone, for subscribers without one. */
  timezone: timeZone,
  /** Who a campaign would reach: its audience, consent when it is marketing mail, its geofence. */
  campaigns: z.array(
    z.strictObject({
      name: z.string(),
      audience: z.string(),
      marketing: z.boolean(),
      geofence: geofence.optional(),
      /** Its topic: only subscribers who consent to it (marketing mail). */
      topic: topicRule.optional(),
    }),
  ),
  /** Topics whose reach to count: who consents to each (absent from CLIs older than topics). */
  topics: z.array(topicRule).max(100).optional(),
  /** The repository's locales: split each campaign's reach by the locale each recipient would get (absent without mk.yaml locales:). */
  locales: z.strictObject({ default: locale, supported: z.array(locale).min(1).max(100) }).optional(),
});
export type AudienceCountRequest = z.infer<typeof audienceCountRequest>;

export interface AudienceCountResponse {
  audiences: Record<string, number>;
  campaigns: Record<string, number>;
  /** Subscribers each topic of the request reaches (absent from runtimes older than topics). */
  topics?: Record<string, number>;
  /** With the request's locales: each campaign's recipients by the locale they would get (its fallback chain's first), every supported locale listed. */
  campaignLocales?: Record<string, Record<string, number>>;
}

/** How and when consent was given, as the source of a subscriber recorded it. */
export const consentProof = z.strictObject({
  grantedAt: z.iso.datetime({ offset: true }).optional(),
  ip: z.union([z.ipv4(), z.ipv6()]).optional(),
  confirmedAt: z.iso.datetime({ offset: true }).optional(),
  confirmIp: z.union([z.ipv4(), z.ipv6()]).optional(),
  source: z.string().max(300).optional(),
});
export type ConsentProof = z.infer<typeof consentProof>;

/**
 * One subscriber of an import. A field left out keeps what the runtime has;
 * `consent: null` withdraws consent; `tags` replaces the tags; `attributes`
 * are merged into the stored ones.
 */
export const importedSubscriber = subscriber.extend({
  tags: subscriberTags.optional(),
  consent: z.enum(["marketing"]).nullable().optional(),
  attributes: subscriberAttributes.optional(),
  /** The CSV line the row came from: the consent history's source is "file:line". */
  line: z.int().min(1).optional(),
  /** Evidence of the consent the row grants (e.g. a Mailchimp export's OPTIN_TIME/OPTIN_IP/CONFIRM_TIME/CONFIRM_IP). */
  consentProof: consentProof.optional(),
});
export type ImportedSubscriber = z.infer<typeof importedSubscriber>;

/** Subscribers in one batch of the import at most, in either form (./subscriber-import.ts has the compact one). */
export const SUBSCRIBER_IMPORT_BATCH_LIMIT = 10_000;

/** A batch of the subscribers import, already validated row by row by the CLI. */
export const subscriberImportRequest = z.strictObject({
  subscribers: z.array(importedSubscriber).max(SUBSCRIBER_IMPORT_BATCH_LIMIT),
  /** The CSV's repository-relative or base name, for the consent history. */
  file: z.string().min(1).max(300).optional(),
});
export type SubscriberImportRequest = z.infer<typeof subscriberImportRequest>;

export interface SubscriberImportResponse {
  inserted: number;
  updated: number;
  unchanged: number;
  /** Rows refused and not stored: addresses erased at their owner's request (runtime/subscribers/erase.ts); `index` in the batch, `line` when the row gave one. */
  refused?: { index: number; line?: number; reason: string }[];
}

/**
 * `POST /v1/subscribers` (upsert one) and `PATCH /v1/subscribers/:email`
 * (change one; the email comes from the URL): the import's fields and rules.
 */
export const subscriberUpsertRequest = importedSubscriber.omit({ line: true });
export const subscriberPatchRequest = importedSubscriber.omit({ line: true, email: true });

export const SUBSCRIBER_PAGE_LIMIT = 1000;
/** `GET /v1/subscribers`: keyset pages (cursor = the last id of the page before), filtered by an applied audience or a tag. */
export const subscriberListQuery = z.strictObject({
  audience: z.string().min(1).max(300).optional(),
  tag: z.string().min(1).max(100).optional(),
  cursor: z.string().regex(/^[0-9]{1,18}$/, { error: "must be the nextCursor of the page before" }).optional(),
  limit: z.coerce.number().int().min(1).max(SUBSCRIBER_PAGE_LIMIT).default(100),
});
export type SubscriberListQuery = z.infer<typeof subscriberListQuery>;

/** One entry of a subscriber's consent history. */
export interface ConsentEvent {
  topic: string;
  action: "granted" | "withdrawn";
  source: string;
  sourceDetail: string | null;
  occurredAt: string;
  ip: string | null;
  userAgent: string | null;
  textHash: string | null;
  evidence: Record<string, unknown> | null;
}

/** A subscriber as the API returns it. */
export interface SubscriberRecord {
  email: string;
  firstName: string | null;
  lastName: string | null;
  country: string | null;
  timezone: string | null;
  locale: string | null;
  tags: string[];
  consent: "marketing" | null;
  attributes: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
  /** Topics with a recorded choice (others have their default). */
  topics: Record<string, boolean>;
}

export interface SubscriberDetail extends SubscriberRecord {
  consentHistory: ConsentEvent[];
}

export interface SubscriberPage {
  subscribers: SubscriberRecord[];
  /** Pass as cursor for the next page; null on the last. */
  nextCursor: string | null;
}

/** Every error the API returns has this shape. */
export interface ApiErrorBody {
  error: {
    code: string;
    message: string;
    /** For 400: each failing request field. */
    fields?: { path: string; message: string }[];
    requestId?: string;
  };
}

/** `POST /v1/sends/start`: start one campaign now (`mk send <campaign>`). */
export const sendStartRequest = z.strictObject({ campaign: z.string().min(1) });

export interface SendDueResponse {
  started: { campaign: string; recipients: number }[];
  refused: { campaign: string; reason: string }[];
  waiting: { campaign: string; startsAt: string }[];
}

export interface SendStartResponse {
  campaign: string;
  recipients: number;
  alreadyStarted: boolean;
}

/** A ledger row whose outcome is unknown (`GET /v1/sends/ambiguous`, `mk send reconcile`). */
export interface AmbiguousSend {
  id: string;
  campaign: string;
  email: string;
  attempts: number;
  transport: string | null;
  lastError: string | null;
  since: string;
}

/** Ledger rows by status, per campaign (`GET /v1/sends`). */
export interface SendProgress {
  campaign: string;
  startedAt: string;
  recipients: number;
  statuses: Record<string, number>;
}

export interface OutboxSummary {
  sendId: string;
  campaign: string;
  to: string;
  subject: string;
  createdAt: string;
}

export interface OutboxMessage extends OutboxSummary {
  from: string;
  html: string;
  text: string;
  headers: Record<string, string>;
}

/** The Project resource as the runtime stores it: mk.yaml without apiVersion, kind and environments; defaults filled in on read. */
export const storedProject = project.omit({ apiVersion: true, kind: true, environments: true, name: true }).extend({ name: z.string() });
export type StoredProject = z.infer<typeof storedProject>;

/** An event that failed validation (`GET /v1/events/dead-letters`). */
export interface DeadLetter {
  id: number;
  idempotencyKey: string | null;
  reason: string;
  receivedAt: string;
  /** Exactly what was sent. */
  payload: unknown;
}

/** `POST /v1/events/dead-letters/replay`: which to replay (default: every pending one, oldest first). */
export const deadLetterReplayRequest = z.strictObject({ ids: z.array(z.int().positive()).max(10_000).optional() });

export interface DeadLetterReplay {
  replayed: number;
  accepted: number;
  duplicates: number;
  stillRejected: { id: number; reason: string }[];
}
