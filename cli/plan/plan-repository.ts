import { countBySeverity, type Problem } from "../problems.js";
import { problemsAgainstRuntime } from "../project/schedules.js";
import { resolveTarget } from "../environments.js";
import { gitSource } from "../git.js";
import { RuntimeClient } from "../runtime-client.js";
import { validateRepository } from "../validation.js";
import { findProjectRoot } from "../project/find-root.js";
import { readProject } from "../project/reader.js";
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

/** The runtime and its state, or why they could not be had. */
type Runtime = { ok: true; client: RuntimeClient; state: StateResponse } | { ok: false; failure: unknown };

/**
 * What `mk plan` and `mk apply` share: validate (stopping on errors), find
 * the environment, fetch its state, check past schedules against the
 * campaigns it has started or holds at that time (stopping on MK026), then
 * plan. The state is asked for as soon as mk.yaml is read, while the rest of
 * the repository is read and checked, and git is asked about the working
 * copy meanwhile too; the state is used once every file is read without
 * errors (and abandoned otherwise), before templates are compiled, so that
 * only templates whose fingerprint the runtime has not recorded are
 * compiled. When it cannot be fetched, every template is compiled and their
 * problems come first, as they would without a runtime.
 */
export async function planRepository(options: PlanOptions): Promise<PlanOutcome> {
  const abandon = new AbortController();
  const early = connectEarly(options, abandon.signal).catch(() => undefined);
  const source = findProjectRoot(options.dir)
    .then((root) => (root ? gitSource(root, options.environment) : undefined))
    .catch(() => undefined);
  let runtime: Runtime | undefined;
  const validation = await validateRepository({
    dir: options.dir,
    cache: options.cache ?? false,
    ...(options.now ? { now: options.now } : {}),
    recorded: async (repo, problems) => {
      if (!repo.project || countBySeverity(problems).errors > 0) return new Map();
      runtime = (await early) ?? (await connect(options, repo.project.spec, repo.root));
      return runtime.ok ? recordedTemplates(runtime.state) : new Map();
    },
  });
  if (countBySeverity(validation.problems).errors > 0 || !validation.repo?.project) {
    abandon.abort();
    return { problems: validation.problems };
  }
  const { repo } = validation;
  runtime ??= (await early) ?? (await connect(options, repo.project!.spec, repo.root));
  if (!runtime.ok) throw runtime.failure;
  const { client, state } = runtime;
  const problems = problemsAgainstRuntime(validation.problems, validation.pastSchedules, state.resources, client.target.env);
  if (countBySeverity(problems).errors > 0) return { problems };
  const git = (await source) ?? (await gitSource(repo.root, options.environment));
  const plan = await makePlan(validation, client, state, git, { allowExitActive: options.allowExitActive ?? false });
  return { problems, plan, client };
}

/** The runtime named by mk.yaml as it is before the rest is read; undefined when mk.yaml cannot be read (validation says why, and the runtime is asked again after it). */
async function connectEarly(options: PlanOptions, signal: AbortSignal): Promise<Runtime | undefined> {
  const root = await findProjectRoot(options.dir);
  const [project] = root ? await readProject(root) : [undefined];
  return root && project ? connect(options, project.spec, root, signal) : undefined;
}

async function connect(options: PlanOptions, project: Project, root: string, signal?: AbortSignal): Promise<Runtime> {
  try {
    const client = new RuntimeClient(await resolveTarget(options.env, project, root, options.environment));
    return { ok: true, client, state: await client.state(signal) };
  } catch (failure) {
    return { ok: false, failure };
  }
}
