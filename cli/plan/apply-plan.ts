import { createInterface } from "node:readline/promises";
import type { ApplyRequest, ApplyResponse } from "../../schemas/api.js";
import { MkError } from "../errors.js";
import { resolveTarget } from "../environments.js";
import { RuntimeClient } from "../runtime-client.js";
import { validateRepository } from "../validation.js";
import type { Plan } from "./make-plan.js";
import { readPlanFile } from "./plan-file.js";

/** Ask before applying: only on a terminal, and only "yes" goes ahead. */
export async function confirmApply(env: string, autoApprove: boolean, input: NodeJS.ReadableStream & { isTTY?: boolean } = process.stdin): Promise<boolean> {
  if (autoApprove) return true;
  if (!input.isTTY) throw new MkError("MK079", "not on a terminal, so there is nobody to confirm; pass --auto-approve to apply without asking");
  const rl = createInterface({ input, output: process.stderr });
  try {
    const answer = await rl.question(`\nApply these changes to "${env}"? Only 'yes' will be accepted: `);
    return answer.trim() === "yes";
  } finally {
    rl.close();
  }
}

/**
 * `mk apply plan.json`: the saved request, checked, sent to the environment
 * it was planned against. `env` (the --env flag, when given) must agree.
 */
export async function applyPlanFile(file: string, dir: string, env: string | undefined): Promise<{ env: string; result: ApplyResponse; request: ApplyRequest }> {
  const saved = await readPlanFile(file);
  if (env !== undefined && env !== saved.env) throw new MkError("MK078", `${file} was planned against "${saved.env}", not "${env}"; plan again with --env ${env}`);
  const validation = await validateRepository({ dir });
  const project = validation.repo?.project?.spec;
  if (!project || !validation.repo) throw new MkError("MK062", "mk.yaml could not be read; run mk validate");
  const target = await resolveTarget(saved.env, project, validation.repo.root);
  const result = await new RuntimeClient(target).apply(saved.request);
  return { env: saved.env, result, request: saved.request };
}

/**
 * What `mk apply` sends for a plan it made: the request, and each template's
 * fingerprint for the runtime to record beside it (plan files leave them out,
 * so that what a plan file holds is what it always held).
 */
export function applyRequest(plan: Plan): ApplyRequest {
  return { ...plan.request, fingerprints: plan.fingerprints };
}

export function applyCompleteLine(result: ApplyResponse): string {
  const lines = [`Apply complete! Resources: ${result.added} added, ${result.changed} changed, ${result.deleted} deleted. State serial ${result.serial}.`];
  for (const [name, version] of Object.entries(result.sequenceVersions ?? {})) lines.push(`Sequence "${name}" is at version ${version}; new enrollments start on it.`);
  if (result.enrollmentsMigrated) lines.push(`${result.enrollmentsMigrated} active enrollment${result.enrollmentsMigrated === 1 ? "" : "s"} moved to the new version by step name.`);
  if (result.enrollmentsExited) lines.push(`${result.enrollmentsExited} active enrollment${result.enrollmentsExited === 1 ? "" : "s"} ended with their deleted sequence.`);
  return lines.join("\n");
}
