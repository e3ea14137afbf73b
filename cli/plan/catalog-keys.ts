import type { Action, ResourceChange } from "../../runtime/state/diff.js";

/** One key of a catalog that a plan adds, changes or removes, with its messages. */
export interface CatalogKeyChange {
  action: Action;
  key: string;
  before?: string;
  after?: string;
}

/** What a plan does to one locale's catalog: its key count once applied (before, when deleted) and each key that changes, in key order. */
export interface CatalogChange {
  keys: number;
  changes: CatalogKeyChange[];
}

type Spec = { kind: string; name: string; spec: Record<string, unknown> };

/**
 * The key-level view of the plan's Catalog changes, by locale: the diff's
 * field paths join a catalog's dotted keys to `messages.` with dots again,
 * so the keys are read from both sides' specs instead.
 */
export function catalogChanges(changes: readonly ResourceChange[], current: readonly Spec[], desired: readonly Spec[]): Record<string, CatalogChange> {
  const messages = (list: readonly Spec[], name: string): Record<string, string> => {
    const spec = list.find((r) => r.kind === "Catalog" && r.name === name)?.spec["messages"];
    return spec !== null && typeof spec === "object" ? (spec as Record<string, string>) : {};
  };
  const out: Record<string, CatalogChange> = {};
  for (const change of changes.filter((c) => c.kind === "Catalog")) {
    const before = messages(current, change.name);
    const after = messages(desired, change.name);
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    const changed = keys.flatMap((key): CatalogKeyChange[] => {
      const [was, is] = [before[key], after[key]];
      if (was === is) return [];
      if (was === undefined) return [{ action: "create", key, after: is! }];
      if (is === undefined) return [{ action: "delete", key, before: was }];
      return [{ action: "update", key, before: was, after: is }];
    });
    out[change.name] = { keys: Object.keys(change.action === "delete" ? before : after).length, changes: changed };
  }
  return out;
}
