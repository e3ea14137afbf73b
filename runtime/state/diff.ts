import { RESOURCE_KINDS, type ResourceKind } from "../../schemas/api.js";
import { canonicalJson } from "./canonical.js";

export type Action = "create" | "update" | "delete";

/** One changed leaf of a spec; `undefined` means absent on that side. */
export interface FieldChange {
  path: string;
  before: unknown;
  after: unknown;
}

export interface ResourceChange {
  action: Action;
  kind: ResourceKind;
  name: string;
  /** For updates: each changed field. Creates and deletes list every field. */
  fields: FieldChange[];
}

interface Spec {
  kind: ResourceKind;
  name: string;
  spec: Record<string, unknown>;
}

/**
 * What has to happen for `current` to become `desired`: a pure function,
 * used by `mk plan` to show the change and by the runtime to apply it.
 * Ordered by kind (project, templates, audiences, campaigns, sequences), then name.
 */
export function diffState(current: readonly Spec[], desired: readonly Spec[]): ResourceChange[] {
  const key = (r: Spec) => `${r.kind}\u0000${r.name}`;
  const before = new Map(current.map((r) => [key(r), r]));
  const after = new Map(desired.map((r) => [key(r), r]));
  const changes: ResourceChange[] = [];

  for (const [k, next] of after) {
    const previous = before.get(k);
    if (!previous) {
      changes.push({ action: "create", kind: next.kind, name: next.name, fields: fieldChanges(undefined, actedOn(next)) });
    } else {
      const fields = fieldChanges(actedOn(previous), actedOn(next));
      if (fields.length > 0) changes.push({ action: "update", kind: next.kind, name: next.name, fields });
    }
  }
  for (const [k, previous] of before) {
    if (!after.has(k)) changes.push({ action: "delete", kind: previous.kind, name: previous.name, fields: fieldChanges(actedOn(previous), undefined) });
  }
  const order = (kind: ResourceKind) => KIND_ORDER.indexOf(kind);
  return changes.sort((a, b) => order(a.kind) - order(b.kind) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * The part of a spec the runtime acts on. A campaign's `schedule.allowPast`
 * only tells mk plan that a past `at` is meant: it changes nothing that is or
 * was sent, so adding or removing it is no change (not even to a campaign that
 * has started sending, which may not change at all).
 */
function actedOn(resource: Spec): Record<string, unknown> {
  const schedule = resource.spec["schedule"];
  if (resource.kind !== "Campaign" || !isObject(schedule) || !("allowPast" in schedule)) return resource.spec;
  const { allowPast: _allowPast, ...rest } = schedule;
  return { ...resource.spec, schedule: rest };
}

const KIND_ORDER: readonly ResourceKind[] = ["Project", "Catalog", "Template", "Audience", "Campaign", "Sequence", "Message"];
if (KIND_ORDER.length !== RESOURCE_KINDS.length) throw new Error("KIND_ORDER must list every resource kind");

/** Changed leaves between two JSON values; objects are compared key by key, equal-length arrays item by item. */
export function fieldChanges(before: unknown, after: unknown, path = ""): FieldChange[] {
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => fieldChanges(before[k], after[k], path ? `${path}.${k}` : k));
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    return before.flatMap((item, i) => fieldChanges(item, after[i], `${path}[${i}]`));
  }
  if (isObject(before) && after === undefined) return Object.keys(before).sort().flatMap((k) => fieldChanges(before[k], undefined, path ? `${path}.${k}` : k));
  if (before === undefined && isObject(after)) return Object.keys(after).sort().flatMap((k) => fieldChanges(undefined, after[k], path ? `${path}.${k}` : k));
  if (canonicalJson(before) === canonicalJson(after)) return [];
  return [{ path, before, after }];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
