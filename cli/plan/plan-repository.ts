import { countBySeverity, type Problem } from "../problems.js";
import { problemsAgainstRuntime } from "../project/schedules.js";
import { resolveTarget } from "../environments.js";
import { gitSource } from "../git.js";
import { RuntimeClient } from "../runtime-client.js";
import { validateRepository } from "../validation.js";
import { makePlan, type Plan } from "./make-plan.js";

export interface PlanOptions {
  dir: string;
  env: string;
  /** Reuse compiled templates from .mk/cache/ (mk validate --cache). */
  cache?: boolean;
  now?: Date;
  environment?: NodeJS.ProcessEnv;
  /** Let the plan delete sequences that have active enrollments (they exit). */
  allowExitActive?: boolean;
}

export type PlanOutcome = { problems: Problem[]; plan?: undefined } | { problems: Problem[]; plan: Plan; client: RuntimeClient };

/**
 * What `mk plan` and `mk apply` share: validate (stopping on errors, before
 * anything touches the runtime), find the environment, fetch its state, check
 * past schedules against the campaigns it has started or holds at that time
 * (stopping on MK026), then plan.
 */
export async function planRepository(options: PlanOptions): Promise<PlanOutcome> {
  const validation = await validateRepository({ dir: options.dir, cache: options.cache ?? false, ...(options.now ? { now: options.now } : {}) });
  if (countBySeverity(validation.problems).errors > 0 || !validation.repo?.project) return { problems: validation.problems };
  const { repo } = validation;
  const project = repo.project!;
  const target = await resolveTarget(options.env, project.spec, repo.root, options.environment);
  const client = new RuntimeClient(target);
  const state = await client.state();
  const problems = problemsAgainstRuntime(validation.problems, validation.pastSchedules, state.resources, target.env);
  if (countBySeverity(problems).errors > 0) return { problems };
  const plan = await makePlan(validation, client, state, await gitSource(repo.root, options.environment), { allowExitActive: options.allowExitActive ?? false });
  return { problems, plan, client };
}
