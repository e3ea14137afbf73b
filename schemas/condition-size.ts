import { ENGAGEMENT_EVENTS, type AttributeCondition, type Condition, type EventCondition } from "./condition.js";

/**
 * How large a condition grows once every `audience:` reference in it is
 * replaced by that audience's own condition, which is how the runtime
 * compiles it to SQL (runtime/audiences/condition-sql.ts). An audience that
 * refers to another twice, nested, doubles at each level: the limits keep a
 * small file from becoming megabytes of SQL (README, "Limits").
 */
export const CONDITION_LIMITS = {
  /** Conditions (all, any, not and each test) once expanded. */
  nodes: 10_000,
  /** SQL parameters once expanded (PostgreSQL takes at most 65,535 in one query). */
  parameters: 20_000,
  /** Levels once expanded, through references. */
  depth: 64,
} as const;

export interface ConditionSize {
  nodes: number;
  parameters: number;
  depth: number;
}

/** SQL parameters the compiler binds for one test (an upper bound: `event` counts back from a bound time). */
function ownParameters(condition: Condition): number {
  if ("attribute" in condition) return 1 + attributeParameters(condition);
  if ("tag" in condition || "country" in condition) return 1;
  if ("timezone" in condition) return 2;
  if ("event" in condition) return 3 + ((condition.min ?? (condition.max === undefined ? 1 : 0)) > 0 ? 1 : 0) + (condition.max === undefined ? 0 : 1) + actorParameters(condition);
  return 0;
}

/** Opens and clicks bind whose engagement counts, unless any. */
function actorParameters(condition: EventCondition): number {
  return ENGAGEMENT_EVENTS.includes(condition.event) && condition.by !== "any" ? 1 : 0;
}

function attributeParameters(condition: AttributeCondition): number {
  if (condition.exists !== undefined) return 0;
  if (condition.contains !== undefined) return 2;
  return 1;
}

/**
 * Sizes of conditions with references expanded, counted without expanding
 * them: each audience is sized once and remembered, so an audience doubling
 * 24 levels deep costs 24 steps, not 2^24. Audiences are sized with a stack
 * of their own, so a long chain of references costs no call stack. A
 * reference to an unknown audience counts as one node, and one that closes a
 * cycle as nothing: both are refused on their own.
 */
export class ConditionSizes {
  private readonly sized = new Map<string, ConditionSize>();

  /** Audiences' conditions by name; undefined is everyone. */
  constructor(private readonly audiences: ReadonlyMap<string, Condition | undefined>) {}

  /** The size of `condition` with its references expanded. */
  of(condition: Condition | undefined): ConditionSize {
    for (const name of references(condition)) this.ofAudience(name);
    return this.measure(condition, new Set());
  }

  /** The size of audience `name`'s condition with its references expanded. */
  ofAudience(name: string): ConditionSize {
    const visiting = new Set<string>();
    const stack = [name];
    for (let top = stack.at(-1); top !== undefined; top = stack.at(-1)) {
      if (this.sized.has(top) || !this.audiences.has(top)) {
        stack.pop();
        continue;
      }
      const where = this.audiences.get(top);
      const pending = visiting.has(top) ? [] : references(where).filter((r) => this.audiences.has(r) && !this.sized.has(r) && !visiting.has(r));
      visiting.add(top);
      if (pending.length > 0) stack.push(...pending);
      else {
        this.sized.set(top, this.measure(where, visiting));
        visiting.delete(top);
        stack.pop();
      }
    }
    return this.sized.get(name) ?? { nodes: 1, parameters: 0, depth: 1 };
  }

  /**
   * Why `condition` is too large once expanded, as a sentence that starts
   * with `what` ("audience \"vip\""), and the audience whose references
   * contribute most; undefined when it is within the limits.
   */
  excess(what: string, condition: Condition | undefined): { message: string; reference?: string } | undefined {
    const size = this.of(condition);
    const over = overLimit(size);
    if (!over) return undefined;
    const n = (value: number) => value.toLocaleString("en-US");
    const sentence = `${what} expands to ${n(size[over.measure])} ${over.unit}, more than the ${n(CONDITION_LIMITS[over.measure])} allowed`;
    const counts = new Map<string, number>();
    for (const name of references(condition, true)) if (this.audiences.has(name)) counts.set(name, (counts.get(name) ?? 0) + 1);
    const [biggest] = [...counts]
      .map(([name, count]) => ({ name, count, each: this.ofAudience(name)[over.measure] }))
      .sort((a, b) => b.count * b.each - a.count * a.each);
    if (!biggest) return { message: sentence };
    return {
      message: `${sentence}: it refers to audience "${biggest.name}" ${biggest.count === 1 ? "once" : `${biggest.count} times`}, and each reference brings in its ${n(biggest.each)} ${over.unit} (refer to an audience once, or write the condition out)`,
      reference: biggest.name,
    };
  }

  /** One condition, its references already sized (or being sized: a cycle, counted as nothing). */
  private measure(condition: Condition | undefined, cycle: ReadonlySet<string>): ConditionSize {
    if (condition === undefined) return { nodes: 1, parameters: 0, depth: 1 };
    const below = (children: Condition[]) => children.map((c) => this.measure(c, cycle));
    const inner =
      "all" in condition ? below(condition.all)
      : "any" in condition ? below(condition.any)
      : "not" in condition ? below([condition.not])
      : "audience" in condition ? [cycle.has(condition.audience) ? { nodes: 0, parameters: 0, depth: 0 } : (this.sized.get(condition.audience) ?? { nodes: 1, parameters: 0, depth: 1 })]
      : [];
    return {
      nodes: 1 + inner.reduce((sum, s) => sum + s.nodes, 0),
      parameters: ownParameters(condition) + inner.reduce((sum, s) => sum + s.parameters, 0),
      depth: 1 + Math.max(0, ...inner.map((s) => s.depth)),
    };
  }
}

/** The audiences a condition refers to directly: each once, or (`every`) once per reference. */
export function references(condition: Condition | undefined, every = false): string[] {
  const names: string[] = [];
  const visit = (c: Condition): void => {
    if ("all" in c) c.all.forEach(visit);
    else if ("any" in c) c.any.forEach(visit);
    else if ("not" in c) visit(c.not);
    else if ("audience" in c) names.push(c.audience);
  };
  if (condition) visit(condition);
  return every ? names : [...new Set(names)];
}

/** The first measure over its limit, with the words for its unit. */
function overLimit(size: ConditionSize): { measure: keyof ConditionSize; unit: string } | undefined {
  if (size.nodes > CONDITION_LIMITS.nodes) return { measure: "nodes", unit: "condition nodes" };
  if (size.parameters > CONDITION_LIMITS.parameters) return { measure: "parameters", unit: "SQL parameters" };
  if (size.depth > CONDITION_LIMITS.depth) return { measure: "depth", unit: "levels of conditions" };
  return undefined;
}
