import { countBySeverity, type Problem } from "../problems.js";
import { problemsAgainstRuntime } from "../project/schedules.js";
import { resolveTarget } from "../environments.js";
import { gitSource } from "../git.js";
import { RuntimeClient } from "../runtime-client.js";
import { validateRepository } from "../validation.js";
import type { Project, StateResponse } from "../../schemas/index.js";
import { makePlan, recordedTemplates, type Plan } from "./make-plan.js";

export interface PlanOptions {
  dir: string;
  env: string;
  /** Reuse compiled templates from .mk/cache/ (on in mk plan unless --no-cache). */
  cache?: boolean;
  now?: Date;
  environment?: NodeJS.ProcessEnv;
  /** Let the plan delete sequences that have active enrollments (they exit). */
  allowExitActive?: boolean;
}

export type PlanOutcome = { problems: Problem[]; plan?: undefined } | { problems: Problem[]; plan: Plan; client: RuntimeClient };

/**
 * What `mk plan` and `mk apply` share: validate (stopping on errors), find
 * the environment, fetch its state, check past schedules against the
 * campaigns it has started or holds at that time (stopping on MK026), then
 * plan. The state is fetched once every file is read without errors, before
 * templates are compiled, so that only templates whose fingerprint the
 * runtime has not recorded are compiled; when it cannot be fetched, every
 * template is compiled and their problems come first, as they would without
 * a runtime.
 */
export async function planRepository(options: PlanOptions): Promise<PlanOutcome> {
  let runtime: { client: RuntimeClient; state: StateResponse } | undefined;
  let failure: unknown;
  const connect = async (project: Project, root: string) => {
    const client = new RuntimeClient(await resolveTarget(options.env, project, root, options.environment));
    return { client, state: await client.state() };
  };
  const validation = await validateRepository({
    dir: options.dir,
    cache: options.cache ?? false,
    ...(options.now ? { now: options.now } : {}),
    recorded: async (repo, problems) => {
      if (!repo.project || countBySeverity(problems).errors > 0) return new Map();
      try {
        runtime = await connect(repo.project.spec, repo.root);
        return recordedTemplates(runtime.state);
      } catch (error) {
        failure = error;
        return new Map();
      }
    },
  });
  if (countBySeverity(validation.problems).errors > 0 || !validation.repo?.project) return { problems: validation.problems };
  if (failure !== undefined) throw failure;
  const { repo } = validation;
  const { client, state } = runtime ?? (await connect(repo.project!.spec, repo.root));
  const problems = problemsAgainstRuntime(validation.problems, validation.pastSchedules, state.resources, client.target.env);
  if (countBySeverity(problems).errors > 0) return { problems };
  const plan = await makePlan(validation, client, state, await gitSource(repo.root, options.environment), { allowExitActive: options.allowExitActive ?? false });
  return { problems, plan, client };
}
