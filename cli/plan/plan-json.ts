import type { Plan } from "./make-plan.js";

/** `mk plan --json`: the plan without the payload apply sends. */
export function planJson(plan: Plan) {
  const count = (action: string) => plan.changes.filter((c) => c.action === action).length;
  return {
    env: plan.env,
    url: plan.url,
    baseSerial: plan.baseSerial,
    summary: { add: count("create"), change: count("update"), delete: count("delete") },
    changes: plan.changes,
    errors: plan.errors,
    audiences: plan.audiences,
    campaigns: plan.campaigns,
    sequences: plan.sequences,
    ...(plan.catalogs ? { catalogs: plan.catalogs } : {}),
  };
}
