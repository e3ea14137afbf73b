import { audience, ConditionSizes, type Condition, type DesiredResource } from "../../schemas/index.js";
import { ApiError, fieldPath } from "../http/errors.js";
import { storedSequence } from "../sequences/spec.js";

/** An Audience as the runtime stores it: the file without apiVersion, kind and name. */
const storedAudience = audience.omit({ apiVersion: true, kind: true, name: true });

/**
 * `POST /v1/apply`: every audience must be one the runtime can compile later,
 * when a campaign starts or a sequence enrolls: a valid condition (nested at
 * most MAX_CONDITION_DEPTH levels) that stays within CONDITION_LIMITS once
 * its references are expanded, and so must each sequence's `if` step. A 400
 * names the resource's field.
 */
export function checkAppliedConditions(resources: readonly DesiredResource[]): void {
  // 1. Each audience's spec parses.
  const audiences = new Map<string, Condition | undefined>();
  const where = new Map<string, number>();
  const fields = resources.flatMap((r, i) => {
    if (r.kind !== "Audience") return [];
    const parsed = storedAudience.safeParse(r.spec);
    if (parsed.success) {
      audiences.set(r.name, parsed.data.where);
      where.set(r.name, i);
      return [];
    }
    return parsed.error.issues.slice(0, 20).map((issue) => ({ path: `resources[${i}].spec${issue.path.length > 0 ? "." : ""}${fieldPath(issue.path)}`, message: issue.message }));
  });
  if (fields.length > 0) {
    throw new ApiError(400, "invalid_request", `invalid audience: ${fields.slice(0, 3).map((f) => `${f.path}: ${f.message}`).join("; ")}`, fields);
  }

  // 2. Audiences and sequence conditions, expanded, within the limits.
  const sizes = new ConditionSizes(audiences);
  const refuse = (message: string, path: string): never => {
    throw new ApiError(400, "condition_too_large", message, [{ path, message }]);
  };
  for (const [name, i] of where) {
    const excess = sizes.excess(`audience "${name}"`, audiences.get(name));
    if (excess) refuse(excess.message, `resources[${i}].spec.where`);
  }
  resources.forEach((r, i) => {
    if (r.kind !== "Sequence") return;
    const parsed = storedSequence.safeParse(r.spec);
    if (!parsed.success) return;
    parsed.data.steps.forEach((step, j) => {
      if (!("if" in step)) return;
      const excess = sizes.excess(`sequence "${r.name}" step ${j + 1}`, step.if);
      if (excess) refuse(excess.message, `resources[${i}].spec.steps[${j}].if`);
    });
  });
}
