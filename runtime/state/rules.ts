import type { ActiveEnrollments, AppliedResource } from "../../schemas/api.js";
import type { ResourceChange } from "./diff.js";

/** The names of the campaigns that have started sending. */
function startedCampaigns(current: readonly AppliedResource[]): Set<string> {
  return new Set(current.filter((r) => r.kind === "Campaign" && r.startedAt).map((r) => r.name));
}

/**
 * Campaigns that have started sending cannot change: their recipients, variants
 * and content are fixed by what went out (`schedule.allowPast` is no part of
 * that; the diff leaves it out). Shared by plan and apply.
 */
export function startedCampaignProblems(changes: readonly ResourceChange[], current: readonly AppliedResource[]): string[] {
  const started = startedCampaigns(current);
  return changes
    .filter((c) => c.kind === "Campaign" && c.action !== "create" && started.has(c.name))
    .map(
      (c) =>
        `campaign "${c.name}" has started sending, so it can no longer be ${c.action === "delete" ? "deleted" : "changed"}; ` +
        `put it back as it was and create a new campaign (a new file with a new name) for the change`,
    );
}

/**
 * Deleting a sequence ends its active enrollments mid-journey, so it needs
 * `--allow-exit-active`. Shared by plan and apply.
 */
export function activeSequenceProblems(changes: readonly ResourceChange[], active: Readonly<Record<string, ActiveEnrollments>>, allowExitActive: boolean): string[] {
  if (allowExitActive) return [];
  return changes
    .filter((c) => c.kind === "Sequence" && c.action === "delete" && (active[c.name]?.active ?? 0) > 0)
    .map(
      (c) =>
        `sequence "${c.name}" has ${active[c.name]!.active} active enrollment${active[c.name]!.active === 1 ? "" : "s"}; deleting it ends them where they are. ` +
        `Pass --allow-exit-active to mk plan / mk apply to delete it anyway, or keep the file until they finish`,
    );
}
