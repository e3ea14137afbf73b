import type pg from "pg";
import type { ActiveEnrollments } from "../../schemas/api.js";
import { ApiError } from "../http/errors.js";
import { canonicalJson, sha256 } from "../state/canonical.js";
import type { ResourceChange } from "../state/diff.js";
import { appliedProject } from "../state/applied.js";
import { snapshotCampaign, type ProjectSpec, type SendSnapshot } from "../sending/snapshot.js";
import { SEQUENCE_SQL } from "./queries.js";
import { parseSequenceSpec, stepKey, stepLabel, type SequenceSpec } from "./spec.js";

/** Why enrollments of a deleted sequence ended. */
export const SEQUENCE_DELETED = "sequence-deleted";

/** Active enrollments per sequence (for plan, and apply's check on deletes). */
export async function activeEnrollments(db: pg.Pool | pg.PoolClient): Promise<Record<string, ActiveEnrollments>> {
  const { rows } = await db.query<{ sequence: string; version: number; active: number }>(SEQUENCE_SQL.activeCounts);
  const out: Record<string, ActiveEnrollments> = {};
  for (const row of rows) {
    const entry = (out[row.sequence] ??= { active: 0, byVersion: {} });
    entry.active += row.active;
    entry.byVersion[String(row.version)] = row.active;
  }
  return out;
}

export interface SequenceApplyResult {
  /** New versions: sequence name → version. */
  versions: Record<string, number>;
  /** Enrollments moved to a new version by step name. */
  migrated: number;
  /** Enrollments ended because their sequence was deleted. */
  exited: number;
}

/**
 * The sequence side of an apply, inside its transaction, after the resources
 * are written: deleted sequences end their active enrollments; every applied
 * sequence whose content changed (its spec, or what a send step sends: a
 * template, the sender, tracking) gets a new version with a snapshot per send
 * step, and with `migrate: by-step-name` its active enrollments move to it.
 */
export async function applySequences(client: pg.PoolClient, changes: readonly ResourceChange[], serial: number, now: Date): Promise<SequenceApplyResult> {
  const result: SequenceApplyResult = { versions: {}, migrated: 0, exited: 0 };
  for (const change of changes.filter((c) => c.kind === "Sequence" && c.action === "delete")) {
    result.exited += (await client.query(SEQUENCE_SQL.exitAll, [change.name, SEQUENCE_DELETED, now])).rowCount ?? 0;
  }

  // What a send step sends comes from the sequence, its templates, the project and its catalogs: other changes cannot make a version.
  if (!changes.some((c) => c.kind === "Sequence" || c.kind === "Template" || c.kind === "Project" || c.kind === "Catalog")) return result;
  const live = (await client.query<{ name: string; spec: unknown; version: number | null; fingerprint: string | null }>(SEQUENCE_SQL.live)).rows;
  if (live.length === 0) return result;
  const project = await appliedProject(client);
  if (!project) throw new ApiError(400, "invalid_request", "sequences need the Project resource (mk.yaml) in the same state: their mail takes its sender, address and tracking");
  for (const row of live) {
    const spec = parseSequenceSpec(row.spec);
    const steps = await stepSnapshots(client, project, row.name, spec);
    const fingerprint = sha256(canonicalJson({ spec, steps: [...steps] }));
    if (fingerprint === row.fingerprint) continue;

    const version = (row.version ?? 0) + 1;
    await client.query(SEQUENCE_SQL.insertVersion, [row.name, version, JSON.stringify(spec), fingerprint, serial]);
    for (const [index, snapshot] of steps) {
      const key = stepKey(row.name, version, index);
      const full: SendSnapshot = { ...snapshot, campaign: key, sequence: { name: row.name, version, step: index + 1, stepName: spec.steps[index]?.name } };
      await client.query(SEQUENCE_SQL.recordStepSnapshot, [key, serial, JSON.stringify(full), row.name, version, index]);
    }
    result.versions[row.name] = version;
    if (spec.migrate === "by-step-name" && version > 1) result.migrated += await migrateByStepName(client, row.name, version, spec, now);
  }
  return result;
}

/** Each send step's snapshot, made as a campaign's is; utm_campaign is the sequence, utm_content the step. */
async function stepSnapshots(client: pg.PoolClient, project: ProjectSpec, name: string, spec: SequenceSpec): Promise<Map<number, SendSnapshot>> {
  const out = new Map<number, SendSnapshot>();
  for (const [index, step] of spec.steps.entries()) {
    if (!("send" in step)) continue;
    const { send } = step;
    out.set(
      index,
      await snapshotCampaign(client, project, name, {
        subject: send.subject,
        preheader: send.preheader,
        from: send.from,
        template: send.template,
        data: send.data,
        locales: send.locales,
        transactional: spec.transactional,
        topic: spec.topic,
        utm: { campaign: name, content: step.name ?? `step-${index + 1}` },
      }, `sequence "${name}" ${stepLabel(spec.steps, index)}`),
    );
  }
  return out;
}

/**
 * Active enrollments on older versions move to `version` at the step with the
 * name of the step they were about to run; those whose step has no name, or a
 * name the new version lacks, stay where they are.
 */
async function migrateByStepName(client: pg.PoolClient, name: string, version: number, spec: SequenceSpec, now: Date): Promise<number> {
  const rows = (await client.query<{ id: string; version: number; step: number }>(SEQUENCE_SQL.activeOnOlderVersions, [name, version])).rows;
  const older = new Map<number, SequenceSpec>();
  const moves: { id: string; step: number; from: string }[] = [];
  for (const row of rows) {
    let before = older.get(row.version);
    if (!before) {
      before = parseSequenceSpec((await client.query<{ spec: unknown }>(SEQUENCE_SQL.version, [name, row.version])).rows[0]?.spec);
      older.set(row.version, before);
    }
    const stepName = before.steps[row.step]?.name;
    const target = stepName === undefined ? -1 : spec.steps.findIndex((s) => s.name === stepName);
    if (target >= 0) moves.push({ id: row.id, step: target, from: `from v${row.version} ${stepLabel(before.steps, row.step)}` });
  }
  if (moves.length === 0) return 0;
  await client.query(SEQUENCE_SQL.migrate, [moves.map((m) => m.id), version, moves.map((m) => m.step)]);
  await client.query(SEQUENCE_SQL.history, [
    moves.map((m) => m.id),
    moves.map(() => version),
    moves.map((m) => m.step),
    moves.map(() => "migrate"),
    moves.map((m) => m.from),
    moves.map(() => now),
  ]);
  return moves.length;
}
