import path from "node:path";
import { ConditionSizes, forEachCondition, RESERVED_ENVIRONMENT, type Condition } from "../../schemas/index.js";
import { problem, type Problem } from "../problems.js";
import { dkimChecks } from "./dkim-alignment.js";
import { messagesOf, type MessageSpec } from "./messages.js";
import type { Repository, Resource } from "./reader.js";
import { refusalMessage, resolveRepositoryFile, type RepositoryFile } from "./repository-paths.js";
import { locate, type PathSegment } from "./yaml-source.js";
import { suggest } from "./zod-problems.js";

/**
 * Cross-file checks over a repository whose files each passed their schema:
 * unique names, references between files, template files, A/B weights
 * and environments (schedules: ./schedules.ts). Returns the messages whose template exists.
 */
export async function resolveRepository(repo: Repository): Promise<[MessageSpec[], Problem[]]> {
  const problems: Problem[] = [
    ...uniqueNames(repo.audiences),
    ...uniqueNames(repo.campaigns),
    ...uniqueNames(repo.sequences),
    ...uniqueNames(repo.messages),
    ...audienceReferences(repo),
    ...audienceCycles(repo),
    ...topicReferences(repo),
    ...formChecks(repo),
    ...conditionSizeChecks(repo),
    ...variantChecks(repo),
    ...stepNameChecks(repo),
    ...environmentChecks(repo),
    ...dkimChecks(repo),
  ];
  const [messages, templateProblems] = await existingTemplates(repo);
  return [messages, [...problems, ...templateProblems]];
}

function uniqueNames(resources: readonly Resource[]): Problem[] {
  const first = new Map<string, Resource>();
  const problems: Problem[] = [];
  for (const resource of resources) {
    const earlier = first.get(resource.name);
    if (!earlier) {
      first.set(resource.name, resource);
      continue;
    }
    const at = locate(resource.source, "name" in (resource.source.data as object) ? ["name"] : []);
    problems.push(
      problem("MK020", at, `${resource.kind.toLowerCase()} "${resource.name}" is already defined in ${earlier.source.file}; names are unique per kind`),
    );
  }
  return problems;
}

function audienceReferences(repo: Repository): Problem[] {
  const names = repo.audiences.map((a) => a.name);
  const known = new Set([...names, ...repo.failed.Audience]);
  const missing = (resource: Resource, at: PathSegment[], name: string): Problem => {
    const hint = suggest(name, [...known]);
    return problem(
      "MK021",
      locate(resource.source, at),
      `audience "${name}" does not exist${hint ? `; did you mean "${hint}"?` : names.length ? `; audiences are ${names.join(", ")}` : "; add it under audiences/"}`,
    );
  };
  const problems: Problem[] = [];
  for (const campaign of repo.campaigns) {
    if (!known.has(campaign.spec.audience)) problems.push(missing(campaign, ["audience"], campaign.spec.audience));
  }
  for (const sequence of repo.sequences) {
    const { audience, steps } = sequence.spec;
    if (audience !== undefined && !known.has(audience)) problems.push(missing(sequence, ["audience"], audience));
    steps.forEach((step, i) => {
      if ("if" in step) {
        forEachCondition(step.if, (c, p) => {
          if ("audience" in c && !known.has(c.audience)) problems.push(missing(sequence, ["steps", i, "if", ...p, "audience"], c.audience));
        });
      }
    });
  }
  for (const audience of repo.audiences) {
    if (!audience.spec.where) continue;
    forEachCondition(audience.spec.where, (c, p) => {
      if ("audience" in c && !known.has(c.audience)) problems.push(missing(audience, ["where", ...p, "audience"], c.audience));
    });
  }
  return problems;
}

/** A campaign's or sequence's `topic:` names one of mk.yaml's `topics:`. */
function topicReferences(repo: Repository): Problem[] {
  const names = (repo.project?.spec.topics ?? []).map((t) => t.name);
  const problems: Problem[] = [];
  for (const resource of [...repo.campaigns, ...repo.sequences]) {
    const topic = resource.spec.topic;
    if (topic === undefined || names.includes(topic)) continue;
    const hint = suggest(topic, names);
    const known = names.length ? `; topics are ${names.join(", ")}` : "; add it under topics: in mk.yaml";
    problems.push(problem("MK108", locate(resource.source, ["topic"]), `topic "${topic}" is not defined in mk.yaml${hint ? `; did you mean "${hint}"?` : known}`));
  }
  return problems;
}

/** A form's `topics:` name topics of mk.yaml's `topics:`; a double opt-in form has its confirmation template. */
function formChecks(repo: Repository): Problem[] {
  const project = repo.project;
  if (!project) return [];
  const names = (project.spec.topics ?? []).map((t) => t.name);
  return (project.spec.forms ?? []).flatMap((form, i) => [
    ...(form.doubleOptIn && form.template === undefined
      ? [problem("MK111", locate(project.source, ["forms", i, "name"]), `form "${form.name}" has doubleOptIn (the default) but no template: set template: to an .mjml file that links {{confirmUrl}}, or doubleOptIn: false`)]
      : []),
    ...form.topics.flatMap((topic, j) => {
      if (names.includes(topic)) return [];
      const hint = suggest(topic, names);
      const known = names.length ? `; topics are ${names.join(", ")}` : "; add it under topics: in mk.yaml";
      return [problem("MK110", locate(project.source, ["forms", i, "topics", j]), `form "${form.name}" offers topic "${topic}", which mk.yaml does not define${hint ? `; did you mean "${hint}"?` : known}`)];
    }),
  ]);
}

/** `audience:` conditions may not refer back to themselves, directly or not. */
function audienceCycles(repo: Repository): Problem[] {
  const byName = new Map(repo.audiences.map((a) => [a.name, a]));
  const edges = new Map<string, { target: string; path: PathSegment[] }[]>();
  for (const audience of repo.audiences) {
    const list: { target: string; path: PathSegment[] }[] = [];
    if (audience.spec.where) {
      forEachCondition(audience.spec.where as Condition, (c, p) => {
        if ("audience" in c && byName.has(c.audience)) list.push({ target: c.audience, path: ["where", ...p, "audience"] });
      });
    }
    edges.set(audience.name, list);
  }

  const problems: Problem[] = [];
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (name: string): void => {
    state.set(name, "visiting");
    stack.push(name);
    for (const edge of edges.get(name) ?? []) {
      const seen = state.get(edge.target);
      if (seen === "visiting") {
        const cycle = [...stack.slice(stack.indexOf(edge.target)), edge.target];
        const from = byName.get(name) as Resource<"Audience">;
        problems.push(problem("MK028", locate(from.source, edge.path), `audiences refer to each other in a cycle: ${cycle.join(" → ")}`));
      } else if (seen === undefined) visit(edge.target);
    }
    stack.pop();
    state.set(name, "done");
  };
  for (const audience of repo.audiences) if (!state.has(audience.name)) visit(audience.name);
  return problems;
}

/**
 * Audiences and sequence conditions must stay within CONDITION_LIMITS once
 * their `audience:` references are expanded, as the runtime compiles them.
 * Reported where the growth happens: at the first reference to the audience
 * contributing most, and only for a condition whose audiences are each
 * within the limits (the ones that refer to it are too large because of it).
 */
function conditionSizeChecks(repo: Repository): Problem[] {
  const audiences = new Map(repo.audiences.map((a) => [a.name, a.spec.where as Condition | undefined]));
  const sizes = new ConditionSizes(audiences);
  const tooLarge = new Set(repo.audiences.filter((a) => sizes.excess("", a.spec.where as Condition | undefined)).map((a) => a.name));
  const check = (resource: Resource, what: string, condition: Condition, at: PathSegment[]): Problem[] => {
    const excess = sizes.excess(what, condition);
    if (!excess) return [];
    let path = at;
    let causedElsewhere = false;
    forEachCondition(condition, (c, p) => {
      if (!("audience" in c)) return;
      if (tooLarge.has(c.audience)) causedElsewhere = true;
      if (c.audience === excess.reference && path === at) path = [...at, ...p, "audience"];
    });
    return causedElsewhere ? [] : [problem("MK102", locate(resource.source, path), excess.message)];
  };
  return [
    ...repo.audiences.flatMap((a) => (a.spec.where ? check(a, `audience "${a.name}"`, a.spec.where as Condition, ["where"]) : [])),
    ...repo.sequences.flatMap((s) =>
      s.spec.steps.flatMap((step, i) => ("if" in step ? check(s, `sequence "${s.name}" step ${i + 1}`, step.if, ["steps", i, "if"]) : [])),
    ),
  ];
}

function variantChecks(repo: Repository): Problem[] {
  const problems: Problem[] = [];
  for (const campaign of repo.campaigns) {
    const variants = campaign.spec.variants;
    if (!variants) {
      if (campaign.spec.decideBy !== undefined) {
        problems.push(problem("MK140", locate(campaign.source, ["decideBy"]), `decideBy picks an A/B test's winner, and this campaign has no variants; add variants: or remove decideBy`));
      }
      continue;
    }
    const total = variants.reduce((sum, v) => sum + v.weight, 0);
    if (total !== 100) {
      problems.push(
        problem(
          "MK023",
          locate(campaign.source, ["variants"]),
          `variant weights add up to ${total}, not 100 (${variants.map((v) => `${v.name}: ${v.weight}`).join(", ")})`,
        ),
      );
    }
    const seen = new Set<string>();
    variants.forEach((variant, i) => {
      if (seen.has(variant.name)) {
        problems.push(problem("MK030", locate(campaign.source, ["variants", i, "name"]), `variant "${variant.name}" appears twice`));
      }
      seen.add(variant.name);
    });
  }
  return problems;
}

/** Step names identify steps across versions (`migrate: by-step-name`), so they are unique within a sequence. */
function stepNameChecks(repo: Repository): Problem[] {
  const problems: Problem[] = [];
  for (const sequence of repo.sequences) {
    const seen = new Map<string, number>();
    sequence.spec.steps.forEach((step, i) => {
      if (step.name === undefined) return;
      const earlier = seen.get(step.name);
      if (earlier !== undefined) {
        problems.push(problem("MK033", locate(sequence.source, ["steps", i, "name"]), `step name "${step.name}" is already used by step ${earlier + 1}; step names are unique in a sequence`));
      } else seen.set(step.name, i);
    });
    if (sequence.spec.migrate === "by-step-name" && seen.size === 0) {
      problems.push(
        problem("MK034", locate(sequence.source, ["migrate"]), "migrate: by-step-name moves enrollments to the step of the same name, but no step has a name; name the steps"),
      );
    }
  }
  return problems;
}

function environmentChecks(repo: Repository): Problem[] {
  const project = repo.project;
  if (!project || !(RESERVED_ENVIRONMENT in project.spec.environments)) return [];
  return [
    problem(
      "MK031",
      locate(project.source, ["environments"], RESERVED_ENVIRONMENT),
      `the environment "${RESERVED_ENVIRONMENT}" always exists and means the runtime started by mk up; give this one another name`,
    ),
  ];
}

/**
 * Every message whose template file exists inside the repository and mk may
 * read (see ./repository-paths.ts); the others are problems at `template:`.
 */
async function existingTemplates(repo: Repository): Promise<[MessageSpec[], Problem[]]> {
  const messages = messagesOf(repo);
  const located = new Map<string, Promise<RepositoryFile>>();
  const locateTemplate = (template: string): Promise<RepositoryFile> => {
    let found = located.get(template);
    if (!found) {
      found = isInside(repo.root, path.resolve(repo.root, template)) ? resolveRepositoryFile(repo.root, template) : Promise.resolve({ status: "missing" });
      located.set(template, found);
    }
    return found;
  };
  const results = await Promise.all(messages.map((m) => locateTemplate(m.template)));
  const problems = new Map<string, Problem>();
  messages.forEach((m, i) => {
    const result = results[i] as RepositoryFile;
    if (result.status === "readable") return;
    const at = locate(m.resource.source, m.templateAt);
    problems.set(
      `${at.file}:${at.line}:${at.col}`,
      result.status === "refused"
        ? problem("MK047", at, refusalMessage(`template ${m.template}`, result.refusal))
        : problem("MK022", at, `template file ${m.template} does not exist in the repository`),
    );
  });
  return [messages.filter((_, i) => results[i]?.status === "readable"), [...problems.values()]];
}

export function isInside(root: string, absolute: string): boolean {
  const relative = path.relative(root, absolute);
  return relative !== "" && !relative.startsWith("..") && !path.isAbsolute(relative);
}
