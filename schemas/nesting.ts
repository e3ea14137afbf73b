import { z } from "zod";

/** The values one level down from a value, each with the path to it: how `tooDeep` walks. */
export type Children = (value: unknown) => [PropertyKey[], unknown][];

const isContainer = (value: unknown): value is object => value !== null && typeof value === "object";

/** JSON: the objects and arrays an object or array holds (scalars are no level of their own). */
export const jsonChildren: Children = (value) => {
  const found: [PropertyKey[], unknown][] = [];
  if (Array.isArray(value)) {
    value.forEach((child, i) => isContainer(child) && found.push([[i], child]));
  } else if (isContainer(value)) {
    for (const key of Object.keys(value)) {
      const child = (value as Record<string, unknown>)[key];
      if (isContainer(child)) found.push([[key], child]);
    }
  }
  return found;
};

/** A value on tooDeep's stack: its path is its parent's and then `at`, put together only for the one reported. */
interface Visit {
  value: unknown;
  parent: Visit | undefined;
  at: PropertyKey[];
  level: number;
}

function pathOf(visit: Visit): PropertyKey[] {
  const parts: PropertyKey[][] = [];
  for (let v: Visit | undefined = visit; v; v = v.parent) parts.push(v.at);
  return parts.reverse().flat();
}

/**
 * The path to the first value more than `max` levels down (the value itself
 * is level 1), or undefined. It walks with a stack of its own, so a value
 * nested a hundred thousand levels deep costs no call stack.
 */
export function tooDeep(value: unknown, max: number, children: Children): PropertyKey[] | undefined {
  const stack: Visit[] = [{ value, parent: undefined, at: [], level: 1 }];
  for (let item = stack.pop(); item; item = stack.pop()) {
    if (item.level > max) return pathOf(item);
    for (const [at, child] of children(item.value)) stack.push({ value: child, parent: item, at, level: item.level + 1 });
  }
  return undefined;
}

/**
 * `schema`, with values nested more than `max` levels deep refused before
 * `schema` sees them: zod parses recursive schemas recursively, and a value
 * deep enough exhausts the call stack. The issue is at the first value too
 * deep, carrying `code`: the problem code the CLI reports it with. Levels
 * are JSON's objects and arrays unless `children` says otherwise.
 */
export function depthLimited<T extends z.ZodType>(schema: T, options: { max: number; children?: Children; message: string; code?: string }) {
  return z.preprocess((value, ctx) => {
    const path = tooDeep(value, options.max, options.children ?? jsonChildren);
    if (path) ctx.issues.push({ code: "custom", message: options.message, path, input: value, ...(options.code ? { params: { code: options.code } } : {}) });
    return value;
  }, schema);
}
