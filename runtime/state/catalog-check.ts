import type { z } from "zod";
import { catalogSpec, type DesiredResource } from "../../schemas/api.js";
import { locale } from "../../schemas/common.js";
import { ApiError, fieldPath } from "../http/errors.js";

/**
 * `POST /v1/apply`: every Catalog resource is named by a locale code and
 * holds `{ messages: { "dotted.key": "ICU message" } }`, as the CLI
 * flattens a catalog file, so a send's translator can read every applied
 * one. A 400 names the resource's field.
 */
export function checkAppliedCatalogs(resources: readonly DesiredResource[]): void {
  const fields = resources.flatMap((r, i) => {
    if (r.kind !== "Catalog") return [];
    const name = locale.safeParse(r.name);
    const spec = catalogSpec.safeParse(r.spec);
    return [
      ...(name.success ? [] : [{ path: `resources[${i}].name`, message: name.error.issues[0]?.message ?? "must be a locale code" }]),
      ...(spec.success ? [] : spec.error.issues.slice(0, 20).map((issue) => ({ path: `resources[${i}].spec${issue.path.length > 0 ? "." : ""}${fieldPath(issue.path)}`, message: issueMessage(issue) }))),
    ];
  });
  if (fields.length > 0) {
    throw new ApiError(400, "invalid_request", `invalid catalog: ${fields.slice(0, 3).map((f) => `${f.path}: ${f.message}`).join("; ")}`, fields);
  }
}

/** A bad key's own reason, rather than zod's "Invalid key in record". */
function issueMessage(issue: z.core.$ZodIssue): string {
  return issue.code === "invalid_key" ? (issue.issues[0]?.message ?? issue.message) : issue.message;
}
