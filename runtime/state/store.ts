import type pg from "pg";
import type { AppliedResource, ApplyRecord, ApplyRequest, ApplyResponse, ResourceKind, StateResponse, TemplateFingerprint } from "../../schemas/api.js";
import { checkAppliedConditions } from "../audiences/apply-limits.js";
import { checkAppliedCatalogs } from "./catalog-check.js";
import { ApiError, fieldPath } from "../http/errors.js";
import { SEQUENCE_SQL } from "../sequences/queries.js";
import { storedSequence } from "../sequences/spec.js";
import { specHash } from "./canonical.js";
import { diffState } from "./diff.js";
import { STATE_SQL } from "./queries.js";
import { activeSequenceProblems, startedCampaignProblems } from "./rules.js";
import { withTransaction } from "../db/transaction.js";
import { activeEnrollments, applySequences } from "../sequences/versions.js";

interface ResourceRow {
  kind: ResourceKind;
  name: string;
  spec: AppliedResource["spec"];
  spec_hash: string;
  started_at: Date | null;
}

const toResource = (row: ResourceRow): AppliedResource => ({
  kind: row.kind,
  name: row.name,
  spec: row.spec,
  hash: row.spec_hash,
  startedAt: row.started_at?.toISOString() ?? null,
});

/** The serial the applied state is at. */
export async function readSerial(db: pg.Pool | pg.PoolClient): Promise<number> {
  return Number((await db.query<{ serial: string }>(STATE_SQL.serial)).rows[0]?.serial ?? 0);
}

/** Everything applied, with the serial it is at (`GET /v1/state`). */
export async function readState(db: pg.Pool | pg.PoolClient): Promise<StateResponse> {
  const [serial, resources, templates, sequences, fingerprints] = await Promise.all([
    readSerial(db),
    db.query<ResourceRow>(STATE_SQL.resources),
    db.query<{ hash: string }>(STATE_SQL.templateHashes),
    activeEnrollments(db),
    db.query<FingerprintRow>(STATE_SQL.fingerprints),
  ]);
  return {
    serial,
    resources: resources.rows.map(toResource),
    templates: templates.rows.map((r) => r.hash),
    sequences,
    fingerprints: fingerprints.rows.map((r) => ({ name: r.name, fingerprint: r.fingerprint, html: r.html_hash, ...r.compiled })),
  };
}

interface FingerprintRow {
  name: string;
  fingerprint: string;
  html_hash: string;
  compiled: Pick<TemplateFingerprint, "hasPreview" | "problems">;
}

/** Record the fingerprints an apply sent, for templates it applies with that HTML; drop those of templates no longer applied. */
async function recordFingerprints(client: pg.PoolClient, request: ApplyRequest, serial: number): Promise<void> {
  const applied = new Map(request.resources.filter((r) => r.kind === "Template").map((r) => [r.name, templateHash(r)]));
  const kept = (request.fingerprints ?? []).filter((f) => applied.get(f.name) === f.html);
  await client.query(STATE_SQL.upsertFingerprints, [
    kept.map((f) => f.name),
    kept.map((f) => f.fingerprint),
    kept.map((f) => f.html),
    kept.map((f) => JSON.stringify({ hasPreview: f.hasPreview, problems: f.problems })),
    serial,
  ]);
  await client.query(STATE_SQL.deleteStaleFingerprints);
}

/** The compiled HTML a Template resource refers to. */
function templateHash(resource: { kind: ResourceKind; spec: Record<string, unknown> }): string | undefined {
  return resource.kind === "Template" && typeof resource.spec["html"] === "string" ? resource.spec["html"] : undefined;
}

/**
 * `POST /v1/apply`: make the applied state what the request describes, in one
 * transaction. The state row is locked first, so concurrent applies queue;
 * each checks the serial it was planned against and the loser gets a 409.
 * Nothing changes and the serial stays when the state already matches.
 */
export async function applyState(pool: pg.Pool, request: ApplyRequest, now = new Date()): Promise<ApplyResponse> {
  return withTransaction(pool, async (client) => {
    // 1. Lock the state and check the plan is not stale.
    const serial = Number((await client.query<{ serial: string }>(STATE_SQL.lockSerial)).rows[0]?.serial ?? 0);
    if (serial !== request.baseSerial) {
      throw new ApiError(
        409,
        "stale_plan",
        `the state moved from serial ${request.baseSerial} to ${serial} since this plan was made; run mk plan again and apply the new plan`,
      );
    }

    // Sequences' rows before any write, in name order, as ingest share-locks them (see SEQUENCE_SQL.lockSequences).
    await client.query(SEQUENCE_SQL.lockSequences);

    // 2. Work out the change, and refuse what must not change.
    const current = (await client.query<ResourceRow>(STATE_SQL.resources)).rows.map(toResource);
    checkUnique(request);
    checkAppliedConditions(request.resources);
    checkAppliedCatalogs(request.resources);
    const changes = diffState(current, request.resources);
    const refused = startedCampaignProblems(changes, current);
    if (refused.length > 0) throw new ApiError(409, "campaign_started", refused.join("; "));
    const exiting = activeSequenceProblems(changes, await activeEnrollments(client), request.allowExitActive ?? false);
    if (exiting.length > 0) throw new ApiError(409, "sequence_active", exiting.join("; "));
    const counts = {
      added: changes.filter((c) => c.action === "create").length,
      changed: changes.filter((c) => c.action === "update").length,
      deleted: changes.filter((c) => c.action === "delete").length,
    };
    if (changes.length === 0) return { serial, ...counts };

    // 3. Store new compiled HTML; every template must have its HTML.
    const needed = new Set(request.resources.map(templateHash).filter((h): h is string => h !== undefined));
    const sent = request.templates.filter((t) => needed.has(t.hash));
    await client.query(STATE_SQL.insertTemplates, [sent.map((t) => t.hash), sent.map((t) => t.html)]);
    const stored = new Set((await client.query<{ hash: string }>(STATE_SQL.storedTemplates, [[...needed]])).rows.map((r) => r.hash));
    const missing = [...needed].filter((h) => !stored.has(h));
    if (missing.length > 0) {
      throw new ApiError(400, "missing_template", `compiled HTML ${missing.slice(0, 3).join(", ")} is neither stored nor in the request; send it in templates`);
    }

    // 4. Write the resources, move the serial, record the apply.
    const next = serial + 1;
    const writes = request.resources.filter((r) => changes.some((c) => c.action !== "delete" && c.kind === r.kind && c.name === r.name));
    await client.query(STATE_SQL.upsertResources, [
      writes.map((r) => r.kind),
      writes.map((r) => r.name),
      writes.map((r) => JSON.stringify(r.spec)),
      writes.map((r) => specHash(r.spec)),
      next,
    ]);
    const deletes = changes.filter((c) => c.action === "delete");
    await client.query(STATE_SQL.deleteResources, [deletes.map((c) => c.kind), deletes.map((c) => c.name)]);
    if (request.fingerprints) await recordFingerprints(client, request, next);
    await client.query(STATE_SQL.setSerial, [next]);
    const { commit, author, branch, dirty } = request.source;
    await client.query(STATE_SQL.recordApply, [next, serial, commit, author, branch, dirty, counts.added, counts.changed, counts.deleted]);

    // 5. Sequences: new versions, migrations, enrollments of deleted ones ended.
    const sequences = await applySequences(client, changes, next, now);
    return {
      serial: next,
      ...counts,
      ...(Object.keys(sequences.versions).length > 0 ? { sequenceVersions: sequences.versions } : {}),
      ...(sequences.migrated > 0 ? { enrollmentsMigrated: sequences.migrated } : {}),
      ...(sequences.exited > 0 ? { enrollmentsExited: sequences.exited } : {}),
    };
  });
}

function checkUnique(request: ApplyRequest): void {
  const seen = new Set<string>();
  request.resources.forEach((r, i) => {
    const key = `${r.kind}/${r.name}`;
    if (seen.has(key)) throw new ApiError(400, "invalid_request", `resources[${i}]: ${key} appears twice`, [{ path: `resources[${i}].name`, message: "appears twice" }]);
    seen.add(key);
  });
  // Sequences run in the runtime for weeks: one that cannot be read must not get in.
  const fields = request.resources.flatMap((r, i) => {
    if (r.kind !== "Sequence") return [];
    const parsed = storedSequence.safeParse(r.spec);
    return parsed.success ? [] : parsed.error.issues.slice(0, 20).map((issue) => ({ path: `resources[${i}].spec${issue.path.length > 0 ? "." : ""}${fieldPath(issue.path)}`, message: issue.message }));
  });
  if (fields.length > 0) {
    throw new ApiError(400, "invalid_request", `invalid sequence: ${fields.slice(0, 3).map((f) => `${f.path}: ${f.message}`).join("; ")}`, fields);
  }
  if (request.resources.filter((r) => r.kind === "Project").length > 1) {
    throw new ApiError(400, "invalid_request", "only one Project resource may be applied", [{ path: "resources", message: "more than one Project" }]);
  }
}

interface ApplyRow {
  serial: string;
  base_serial: string;
  applied_at: Date;
  commit_sha: string | null;
  author: string | null;
  branch: string | null;
  dirty: boolean | null;
  added: number;
  changed: number;
  deleted: number;
}

/** The newest applies first (`GET /v1/applies`, `mk history`). */
export async function listApplies(db: pg.Pool, limit: number): Promise<ApplyRecord[]> {
  const { rows } = await db.query<ApplyRow>(STATE_SQL.applies, [limit]);
  return rows.map((r) => ({
    serial: Number(r.serial),
    baseSerial: Number(r.base_serial),
    appliedAt: r.applied_at.toISOString(),
    commit: r.commit_sha,
    author: r.author,
    branch: r.branch,
    dirty: r.dirty,
    added: r.added,
    changed: r.changed,
    deleted: r.deleted,
  }));
}
