import { ConditionSizes, durationMs, ENGAGEMENT_EVENTS, type AttributeCondition, type Condition, type EventCondition } from "../../schemas/index.js";
import { ApiError } from "../http/errors.js";

/**
 * Compiles audience conditions (FORMAT.md) into one SQL boolean expression
 * over `subscribers s`. Every value is a parameter; the only text taken from
 * the condition is the shape, never a value.
 */
export class ConditionCompiler {
  readonly params: unknown[] = [];
  private readonly sizes: ConditionSizes;

  constructor(
    /** Other audiences' conditions by name, for `audience:` (undefined = everyone). */
    private readonly audiences: ReadonlyMap<string, Condition | undefined>,
    /** The project's time zone, for subscribers without one. */
    private readonly defaultTimezone: string,
    /** The moment `event … within` counts back from: the runtime's clock; the database's now() when not given. */
    private readonly now?: Date,
  ) {
    this.sizes = new ConditionSizes(audiences);
  }

  /** `$n` for a new parameter. */
  param(value: unknown, cast = ""): string {
    this.params.push(value);
    return `$${this.params.length}${cast}`;
  }

  /**
   * The condition as SQL, every `audience:` reference expanded. Refused (400)
   * when it would expand past CONDITION_LIMITS: the size is counted first,
   * without expanding anything.
   */
  compile(condition: Condition | undefined): string {
    const excess = tooLarge(this.sizes, this.audiences, condition);
    if (excess) throw new ApiError(400, "condition_too_large", excess);
    return this.expand(condition, []);
  }

  private expand(condition: Condition | undefined, seen: readonly string[]): string {
    if (condition === undefined) return "true";
    if ("all" in condition) return condition.all.length === 0 ? "true" : `(${condition.all.map((c) => this.expand(c, seen)).join(" and ")})`;
    if ("any" in condition) return condition.any.length === 0 ? "false" : `(${condition.any.map((c) => this.expand(c, seen)).join(" or ")})`;
    if ("not" in condition) return `not coalesce(${this.expand(condition.not, seen)}, false)`;
    if ("attribute" in condition) return this.attribute(condition);
    if ("tag" in condition) return `${this.param(condition.tag)} = any(s.tags)`;
    if ("country" in condition) return this.listOrValue("s.country", condition.country);
    if ("timezone" in condition) return this.listOrValue(`coalesce(s.timezone, ${this.param(this.defaultTimezone)})`, condition.timezone);
    if ("consent" in condition) return "s.consent = 'marketing'";
    if ("event" in condition) return this.event(condition);
    if ("audience" in condition) {
      if (seen.includes(condition.audience)) throw new ApiError(400, "audience_cycle", `audiences refer to each other in a cycle: ${[...seen, condition.audience].join(" → ")}`);
      if (!this.audiences.has(condition.audience)) throw new ApiError(400, "unknown_audience", `audience "${condition.audience}" does not exist`);
      return this.expand(this.audiences.get(condition.audience), [...seen, condition.audience]);
    }
    throw new ApiError(400, "invalid_condition", `not an audience condition: ${JSON.stringify(condition)}`);
  }

  /** `country: TH`, `country: { in: [...] }`, `{ notIn: [...] }`; an unknown value is not in any list. */
  listOrValue(column: string, value: string | { in: string[] } | { notIn: string[] }): string {
    if (typeof value === "string") return `${column} = ${this.param(value)}`;
    if ("in" in value) return `${column} = any(${this.param(value.in, "::text[]")})`;
    return `coalesce(${column} <> all(${this.param(value.notIn, "::text[]")}), true)`;
  }

  private attribute(condition: AttributeCondition): string {
    const name = this.param(condition.attribute, "::text");
    const value = `(s.attributes -> ${name})`;
    const json = (v: unknown) => this.param(JSON.stringify(v), "::jsonb");
    if (condition.eq !== undefined) return `${value} = ${json(condition.eq)}`;
    if (condition.ne !== undefined) return `coalesce(${value} <> ${json(condition.ne)}, true)`;
    if (condition.in !== undefined) return `${value} in (select jsonb_array_elements(${json(condition.in)}))`;
    if (condition.notIn !== undefined) return `coalesce(${value} not in (select jsonb_array_elements(${json(condition.notIn)})), true)`;
    if (condition.exists !== undefined) return `${condition.exists ? "" : "not "}(s.attributes ? ${name})`;
    if (condition.contains !== undefined) {
      // A list attribute contains the value; a text attribute contains it as a substring.
      return `(case jsonb_typeof(${value}) when 'array' then ${value} @> jsonb_build_array(${json(condition.contains)}) ` +
        `when 'string' then strpos(${value} #>> '{}', ${this.param(String(condition.contains))}) > 0 else false end)`;
    }
    for (const [op, sql] of [["gt", ">"], ["gte", ">="], ["lt", "<"], ["lte", "<="]] as const) {
      const bound = condition[op];
      if (bound === undefined) continue;
      // Numbers compare as numbers, text (dates such as 2026-01-31) as text.
      return typeof bound === "number"
        ? `(jsonb_typeof(${value}) = 'number' and (${value})::numeric ${sql} ${this.param(String(bound), "::numeric")})`
        : `(jsonb_typeof(${value}) = 'string' and (${value} #>> '{}') ${sql} ${this.param(bound)})`;
    }
    throw new ApiError(400, "invalid_condition", `attribute condition on "${condition.attribute}" has no operator`);
  }

  private event(condition: EventCondition): string {
    // Opens and clicks count people's unless the condition says otherwise: a privacy proxy or a link scanner is nobody's interest.
    // Rows stored before mk classified them (actor null) count as people's, as they always did: an upgrade changes no audience.
    const by = ENGAGEMENT_EVENTS.includes(condition.event) ? (condition.by ?? "human") : "any";
    const count =
      `(select count(*) from events e where e.subscriber_id = s.id and e.name = ${this.param(condition.event)} ` +
      `and e.occurred_at >= ${this.now ? this.param(this.now, "::timestamptz") : "now()"} - ${this.param(`${durationMs(condition.within)} milliseconds`, "::interval")}` +
      `${by === "any" ? "" : ` and (e.actor = ${this.param(by, "::text")}${by === "human" ? " or e.actor is null" : ""})`})`;
    const min = condition.min ?? (condition.max === undefined ? 1 : 0);
    const parts = [];
    if (min > 0) parts.push(`${count} >= ${this.param(min, "::bigint")}`);
    if (condition.max !== undefined) parts.push(`${count} <= ${this.param(condition.max, "::bigint")}`);
    return parts.length === 0 ? "true" : `(${parts.join(" and ")})`;
  }
}

/**
 * Why a condition is too large to compile, naming the audience when it is
 * one (`{ audience: vip }`, as counts, sends and enrollments ask); undefined
 * when it is within the limits.
 */
export function tooLarge(sizes: ConditionSizes, audiences: ReadonlyMap<string, Condition | undefined>, condition: Condition | undefined): string | undefined {
  const audience = condition && "audience" in condition && audiences.has(condition.audience) ? condition.audience : undefined;
  return audience === undefined ? sizes.excess("the condition", condition)?.message : sizes.excess(`audience "${audience}"`, audiences.get(audience))?.message;
}
