import type { AppliedResource } from "../../schemas/api.js";
import type { ResourceChange } from "./diff.js";

/**
 * Campaigns that have started sending cannot change: their recipients, variants
 * and content are fixed by what went out. Shared by plan and apply.
 */
export function startedCampaignProblems(changes: readonly ResourceChange[], current: readonly AppliedResource[]): string[] {
  const started = new Set(current.filter((r) => r.kind === "Campaign" && r.startedAt).map((r) => r.name));
  return changes
    .filter((c) => c.kind === "Campaign" && c.action !== "create" && started.has(c.name))
    .map(
      (c) =>
        `campaign "${c.name}" has started sending, so it can no longer be ${c.action === "delete" ? "deleted" : "changed"}; ` +
        `put it back as it was and create a new campaign (a new file with a new name) for the change`,
    );
}
