import { problem, sortProblems, type Problem } from "./problems.js";
import { findProjectRoot } from "./project/find-root.js";
import { ParseCache } from "./project/parse-cache.js";
import type { MessageSpec } from "./project/messages.js";
import { readRepository, type Repository } from "./project/reader.js";
import { resolveRepository } from "./project/resolver.js";
import { checkSchedules, pastScheduleWarning, type PastSchedule } from "./project/schedules.js";
import { CompileCache } from "./templates/compile-cache.js";
import { checkTemplates, type CompiledTemplate, type RecordedTemplates, type TemplateWork } from "./templates/check-templates.js";

export interface Validation {
  /** Undefined when no mk.yaml was found (the one problem says so). */
  repo: Repository | undefined;
  messages: MessageSpec[];
  templates: Map<string, CompiledTemplate>;
  /** Sorted by file, line, column. A past schedule is a warning here (MK035); see `pastSchedules`. */
  problems: Problem[];
  /** Campaigns whose schedule.at has passed: `mk plan` turns these into errors for those the runtime has not started. */
  pastSchedules: PastSchedule[];
  /** How many templates were compiled, and how many not because the runtime recorded their fingerprint. */
  templateWork: TemplateWork;
}

export interface ValidateOptions {
  /** Where to look for mk.yaml (it or any folder above it). */
  dir: string;
  /** The time schedules are compared with. */
  now?: Date;
  /** Keep compiled templates and parsed files in .mk/cache/ and reuse them while their files are unchanged. */
  cache?: boolean;
  /**
   * What the runtime recorded of compiling its templates (`mk plan`), asked
   * once every file is read with the problems found so far: templates whose
   * fingerprint it holds are not compiled.
   */
  recorded?: (repo: Repository, problems: readonly Problem[]) => Promise<RecordedTemplates>;
}

/**
 * The whole of `mk validate`: find the repository, read every file, resolve
 * references, compile and lint templates; every problem at once, nothing
 * thrown for anything a user wrote. `plan`, `render` and `apply` start here.
 */
export async function validateRepository(options: ValidateOptions): Promise<Validation> {
  const root = await findProjectRoot(options.dir);
  if (!root) {
    return {
      repo: undefined,
      messages: [],
      templates: new Map(),
      pastSchedules: [],
      templateWork: { compiled: 0, recorded: 0 },
      problems: [problem("MK004", { file: "mk.yaml", line: 1, col: 1 }, `no mk.yaml in ${options.dir} or any folder above it; run mk init, or pass --dir`)],
    };
  }
  const parsed = options.cache ? await ParseCache.forRepository(root) : ParseCache.none();
  const [repo, readProblems] = await readRepository(root, parsed);
  const [messages, resolveProblems] = await resolveRepository(repo);
  const [scheduleProblems, pastSchedules] = checkSchedules(repo, options.now ?? new Date());
  const found = [...readProblems, ...resolveProblems, ...scheduleProblems, ...pastSchedules.map(pastScheduleWarning)];
  const [templates, templateProblems, templateWork] = await checkTemplates(repo, messages, {
    cache: options.cache ? CompileCache.forRepository(root) : undefined,
    parsed,
    recorded: options.recorded && ((problems) => options.recorded!(repo, [...found, ...problems])),
  });
  await parsed.save();
  const problems = sortProblems([...found, ...templateProblems]);
  return { repo, messages, templates, problems, pastSchedules, templateWork };
}
