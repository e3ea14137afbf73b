import { z } from "zod";
import { countryCode, duration, eventName, inOrNotIn, resourceName, timeZone } from "./common.js";
import { depthLimited, type Children } from "./nesting.js";

/**
 * An audience condition (FORMAT.md, "audiences/*.yaml"). Each condition is an
 * object with exactly one deciding key; the union below lists them in the
 * order the documentation does.
 */

export type Scalar = string | number | boolean;

export type AttributeOperator = "eq" | "ne" | "in" | "notIn" | "gt" | "gte" | "lt" | "lte" | "exists" | "contains";

export type AttributeCondition = {
  attribute: string;
  eq?: Scalar;
  ne?: Scalar;
  in?: Scalar[];
  notIn?: Scalar[];
  gt?: number | string;
  gte?: number | string;
  lt?: number | string;
  lte?: number | string;
  exists?: boolean;
  contains?: Scalar;
};

export type ListOrValue = string | { in: string[] } | { notIn: string[] };

export type Condition =
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition }
  | AttributeCondition
  | { tag: string }
  | { country: ListOrValue }
  | { timezone: ListOrValue }
  | { consent: "marketing" }
  | EventCondition
  | { audience: string };

/** Whose engagement an `event:` condition counts (opens and clicks only): people's unless it says otherwise. */
export type EngagementActor = "human" | "machine" | "any";

export type EventCondition = { event: string; within: string; min?: number; max?: number; by?: EngagementActor };

/** The event names whose rows carry an actor (runtime/engagement/classify.ts), so `by:` applies to them only. */
export const ENGAGEMENT_EVENTS: readonly string[] = ["open", "click", "ses.open", "ses.click"];

export const ATTRIBUTE_OPERATORS: readonly AttributeOperator[] = [
  "eq", "ne", "in", "notIn", "gt", "gte", "lt", "lte", "exists", "contains",
];

const scalar = z.union([z.string(), z.number(), z.boolean()]);
const comparable = z.union([z.number(), z.string()]);
const attributeName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "must be an attribute name: letters, digits and _" });

const attributeCondition = z
  .strictObject({
    attribute: attributeName,
    eq: scalar.optional(),
    ne: scalar.optional(),
    in: z.array(scalar).min(1).optional(),
    notIn: z.array(scalar).min(1).optional(),
    gt: comparable.optional(),
    gte: comparable.optional(),
    lt: comparable.optional(),
    lte: comparable.optional(),
    exists: z.boolean().optional(),
    contains: scalar.optional(),
  })
  .superRefine((value, ctx) => {
    const used = ATTRIBUTE_OPERATORS.filter((op) => value[op] !== undefined);
    if (used.length !== 1) {
      ctx.addIssue({
        code: "custom",
        message:
          used.length === 0
            ? `an attribute condition needs one operator: ${ATTRIBUTE_OPERATORS.join(", ")}`
            : `an attribute condition takes exactly one operator, found ${used.join(" and ")}; combine conditions with all:`,
        params: { code: "MK016" },
      });
    }
  });

const eventCondition = z
  .strictObject({
    event: eventName,
    within: duration,
    min: z.int().min(0).optional().meta({ description: "at least this many events (default 1)" }),
    max: z.int().min(0).optional().meta({ description: "at most this many events" }),
    by: z
      .enum(["human", "machine", "any"])
      .optional()
      .meta({ description: "for opens and clicks (open, click, ses.open, ses.click): whose engagement counts, human (the default), machine or any" }),
  })
  .superRefine((value, ctx) => {
    if (value.min !== undefined && value.max !== undefined && value.max < value.min) {
      ctx.addIssue({ code: "custom", path: ["max"], message: `max (${value.max}) is below min (${value.min})`, params: { code: "MK010" } });
    }
    if (value.by !== undefined && !ENGAGEMENT_EVENTS.includes(value.event)) {
      ctx.addIssue({
        code: "custom",
        path: ["by"],
        message: `by applies to open, click, ses.open and ses.click only, the events a person or a machine makes; remove it from this "${value.event}" condition`,
        params: { code: "MK139" },
      });
    }
  });

/** Levels of all / any / not a condition may nest, as written (README, "Limits"). */
export const MAX_CONDITION_DEPTH = 32;

/** The conditions one level down: inside all, any and not. */
const subConditions: Children = (value) => {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return [];
  const { all, any, not } = value as Record<string, unknown>;
  const listed = (key: string, list: unknown): [PropertyKey[], unknown][] => (Array.isArray(list) ? list.map((c, i) => [[key, i], c]) : []);
  return [...listed("all", all), ...listed("any", any), ...(not !== undefined ? [[["not"], not] as [PropertyKey[], unknown]] : [])];
};

const conditionForms: z.ZodType<Condition> = z.lazy(() =>
  z.union([
    z.strictObject({ all: z.array(conditionForms).min(1) }),
    z.strictObject({ any: z.array(conditionForms).min(1) }),
    z.strictObject({ not: conditionForms }),
    attributeCondition,
    z.strictObject({ tag: z.string().min(1) }),
    z.strictObject({ country: z.union([countryCode, inOrNotIn(countryCode)]) }),
    z.strictObject({ timezone: z.union([timeZone, inOrNotIn(timeZone)]) }),
    z.strictObject({ consent: z.literal("marketing") }),
    eventCondition,
    z.strictObject({ audience: resourceName }),
  ]),
);

export const condition: z.ZodType<Condition> = depthLimited(conditionForms, {
  max: MAX_CONDITION_DEPTH,
  children: subConditions,
  message: `conditions nest more than ${MAX_CONDITION_DEPTH} levels deep (all, any, not) here; an all inside an all is one all, and a part used in several places can be an audience of its own`,
  code: "MK103",
});

/** The keys that decide which kind of condition an object is. */
export const CONDITION_KEYS = [
  "all", "any", "not", "attribute", "tag", "country", "timezone", "consent", "event", "audience",
] as const;

/** Visit a condition and every condition nested in it, with its path. */
export function forEachCondition(
  root: Condition,
  visit: (condition: Condition, path: (string | number)[]) => void,
  path: (string | number)[] = [],
): void {
  visit(root, path);
  if ("all" in root) root.all.forEach((child, i) => forEachCondition(child, visit, [...path, "all", i]));
  else if ("any" in root) root.any.forEach((child, i) => forEachCondition(child, visit, [...path, "any", i]));
  else if ("not" in root) forEachCondition(root.not, visit, [...path, "not"]);
}
