import type { ActiveEnrollments, ApplyRequest, ApplySource, AudienceCountRequest, Condition, SequenceStep, StateResponse } from "../../schemas/index.js";
import { templateFingerprint, type TemplateFingerprint } from "../../schemas/api.js";
import { diffState, type ResourceChange } from "../../runtime/state/diff.js";
import { activeSequenceProblems, startedCampaignProblems } from "../../runtime/state/rules.js";
import type { RuntimeClient } from "../runtime-client.js";
import type { Validation } from "../validation.js";
import { problemJson } from "../output/problems.js";
import { isProblemCode, PROBLEM_CODES, type Problem } from "../problems.js";
import type { RecordedTemplates, TemplateWork } from "../templates/check-templates.js";
import { campaignReach, type CampaignReach } from "../../runtime/sending/budget.js";
import { localesOf } from "../../runtime/locales/applied.js";
import { catalogChanges, type CatalogChange } from "./catalog-keys.js";
import { desiredState } from "./desired-state.js";
import { stepChanges, type StepChange } from "./sequence-steps.js";

/** Everything `mk plan` found out: what would change, and what it would mean. */
export interface Plan {
  env: string;
  url: string;
  baseSerial: number;
  changes: ResourceChange[];
  /** Changes the runtime will refuse (a started campaign edited); the plan cannot be applied. */
  errors: string[];
  /** Sizes of audiences being created or changed. */
  audiences: Record<string, number>;
  /** Reach of campaigns being created or changed; with mk.yaml locales:, split by the locale each recipient would get. */
  campaigns: Record<string, PlannedReach>;
  /** Catalogs being created, changed or deleted, key by key; absent when none is. */
  catalogs?: Record<string, CatalogChange>;
  /** Sequences being changed or deleted: their active enrollments, and for changes the steps that differ. */
  sequences: Record<string, { active: number; migrate: boolean; steps: StepChange[] }>;
  /** Subscribers each of mk.yaml's topics reaches (marketing consent, not suppressed, in the topic); absent without topics. */
  topics?: Record<string, number>;
  /** What `mk apply` sends (and `mk plan --out` saves). */
  request: ApplyRequest;
  /** Each template's fingerprint, which `mk apply` sends with the request for the runtime to record (see applyRequest). */
  fingerprints: TemplateFingerprint[];
  /** How many templates were compiled for this plan, and how many were not because the runtime recorded their fingerprint. */
  templateWork?: TemplateWork;
}

/** A campaign's reach, and with locales its recipients by locale before budget caps (every supported locale, in mk.yaml's order). */
export type PlannedReach = CampaignReach & { locales?: Record<string, number> };

/**
 * Compare the repository with the runtime's `state` (what `client.state()`
 * answered): a pure diff of specs, then audience sizes and costs for what
 * changes, counted by `client`. `validation` must have no errors.
 */
export async function makePlan(
  validation: Validation,
  client: RuntimeClient,
  state: StateResponse,
  source: ApplySource,
  options: { allowExitActive?: boolean } = {},
): Promise<Plan> {
  // 1. Desired and current state, and the difference.
  const desired = desiredState(validation);
  const changes = diffState(state.resources, desired.resources);
  const allowExitActive = options.allowExitActive ?? false;
  const errors = [...startedCampaignProblems(changes, state.resources), ...activeSequenceProblems(changes, state.sequences ?? {}, allowExitActive)];

  // 2. Sizes and costs of what changes.
  const project = validation.repo?.project?.spec;
  if (!project) throw new Error("makePlan needs a repository that validated");
  const changed = (kind: string) => new Set(changes.filter((c) => c.kind === kind && c.action !== "delete").map((c) => c.name));
  const audiences = changed("Audience");
  const campaigns = validation.repo?.campaigns.filter((c) => changed("Campaign").has(c.name)) ?? [];
  const topics = (project.topics ?? []).map((t) => ({ name: t.name, default: t.default }));
  const topicRule = (name: string | undefined) => topics.find((t) => t.name === name);
  const request: AudienceCountRequest = {
    timezone: project.defaults.timezone,
    audiences: Object.fromEntries((validation.repo?.audiences ?? []).map((a) => [a.name, (a.spec.where as Condition | undefined) ?? null])),
    campaigns: campaigns.map((c) => ({
      name: c.name,
      audience: c.spec.audience,
      marketing: !c.spec.transactional,
      ...(c.spec.geofence ? { geofence: c.spec.geofence } : {}),
      ...(topicRule(c.spec.topic) ? { topic: topicRule(c.spec.topic)! } : {}),
    })),
    ...(topics.length > 0 ? { topics } : {}),
    // The desired locales, not the applied ones: the plan shows what this repository would send.
    ...(project.locales ? { locales: localesOf(project) } : {}),
  };
  const counts = audiences.size + campaigns.length + topics.length > 0 ? await client.countAudiences(request) : { audiences: {}, campaigns: {} };
  const price = project.sending.pricePer1000Usd;
  const reach: Record<string, PlannedReach> = {};
  for (const campaign of campaigns) {
    const byLocale = counts.campaignLocales?.[campaign.name];
    reach[campaign.name] = { ...campaignReach(counts.campaigns[campaign.name] ?? 0, price, campaign.spec.budget), ...(byLocale ? { locales: byLocale } : {}) };
  }
  const catalogs = catalogChanges(changes, state.resources, desired.resources);

  // 3. The apply request: only HTML the runtime does not hold yet.
  const held = new Set(state.templates);
  return {
    env: client.target.env,
    url: client.target.url,
    baseSerial: state.serial,
    changes,
    errors,
    audiences: Object.fromEntries([...audiences].map((name) => [name, counts.audiences[name] ?? 0])),
    campaigns: reach,
    ...(Object.keys(catalogs).length > 0 ? { catalogs } : {}),
    // A runtime older than sequences has no counts: none are active there.
    sequences: sequenceChanges(changes, state.resources, desired.resources, state.sequences ?? {}),
    ...(topics.length > 0 && counts.topics ? { topics: counts.topics } : {}),
    request: {
      baseSerial: state.serial,
      resources: desired.resources,
      templates: desired.templates.filter((t) => !held.has(t.hash)),
      source,
      ...(allowExitActive ? { allowExitActive } : {}),
    },
    templateWork: validation.templateWork,
    fingerprints: [...validation.templates.values()]
      .map((t) => ({ name: t.template, fingerprint: t.fingerprint, html: t.hash, hasPreview: t.hasPreview, problems: t.problems.map(problemJson) }))
      .filter((f) => templateFingerprint.safeParse(f).success),
  };
}

/**
 * The runtime's fingerprints of the templates it holds the HTML of, by
 * path, as checkTemplates takes them; records of problems this mk does not
 * know are left out (their templates are compiled).
 */
export function recordedTemplates(state: StateResponse): RecordedTemplates {
  const held = new Set(state.templates);
  const recorded = new Map<string, Omit<TemplateFingerprint, "problems"> & { problems: Problem[] }>();
  for (const record of state.fingerprints ?? []) {
    const problems = record.problems.filter((p) => isProblemCode(p.code) && PROBLEM_CODES[p.code].severity === p.severity) as Problem[];
    if (held.has(record.html) && problems.length === record.problems.length) recorded.set(record.name, { ...record, problems });
  }
  return recorded;
}

function sequenceChanges(
  changes: readonly ResourceChange[],
  current: readonly { kind: string; name: string; spec: Record<string, unknown> }[],
  desired: readonly { kind: string; name: string; spec: Record<string, unknown> }[],
  active: Readonly<Record<string, ActiveEnrollments>>,
): Plan["sequences"] {
  const spec = (list: typeof current, name: string) => list.find((r) => r.kind === "Sequence" && r.name === name)?.spec;
  const out: Plan["sequences"] = {};
  for (const change of changes.filter((c) => c.kind === "Sequence" && c.action !== "create")) {
    const before = spec(current, change.name);
    const after = spec(desired, change.name);
    out[change.name] = {
      active: active[change.name]?.active ?? 0,
      migrate: after?.["migrate"] === "by-step-name",
      steps: before && after ? stepChanges(before["steps"] as SequenceStep[], after["steps"] as SequenceStep[]) : [],
    };
  }
  return out;
}
