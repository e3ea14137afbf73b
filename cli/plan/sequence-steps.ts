import { diffArrays } from "diff";
import type { SequenceStep } from "../../schemas/index.js";
import { canonicalJson } from "../../runtime/state/canonical.js";
import { fieldChanges, type Action, type FieldChange } from "../../runtime/state/diff.js";
import { stepKind as kind, stepLabel as label, stepSummary as summary } from "../../runtime/sequences/spec.js";

/** One step added, changed or removed between two versions of a sequence. */
export interface StepChange {
  action: Action;
  /** "step 3 (tips)": the new position for added and changed steps, the old one for removed steps. */
  label: string;
  /** The step in one line (stepSummary). */
  summary: string;
  /** For changes: the step's changed fields. */
  fields: FieldChange[];
}

/**
 * The steps that differ between two versions, in order (a longest common
 * subsequence): steps are the same step when they have the same name, or,
 * unnamed, the same content, so a named step edited in place is one change
 * with its fields; a step replaced by one of the same kind at the same place
 * is shown as a change too. A step moved elsewhere shows as removed and added.
 */
export function stepChanges(before: readonly SequenceStep[], after: readonly SequenceStep[]): StepChange[] {
  const same = (a: SequenceStep, b: SequenceStep) => (a.name !== undefined || b.name !== undefined ? a.name === b.name : canonicalJson(a) === canonicalJson(b));
  const changes: StepChange[] = [];
  let oldIndex = 0;
  let newIndex = 0;
  const parts = diffArrays(before as SequenceStep[], after as SequenceStep[], { comparator: same });
  for (let p = 0; p < parts.length; p++) {
    const part = parts[p]!;
    if (!part.added && !part.removed) {
      for (const [i, step] of part.value.entries()) {
        const previous = before[oldIndex + i]!;
        const fields = fieldChanges(previous, step);
        if (fields.length > 0) changes.push({ action: "update", label: label(after, newIndex + i), summary: summary(step), fields });
      }
      oldIndex += part.count ?? part.value.length;
      newIndex += part.count ?? part.value.length;
      continue;
    }
    const next = parts[p + 1];
    if (part.removed && next?.added) {
      // Replaced in place: pair them up while the kinds agree.
      const pairs = Math.min(part.value.length, next.value.length);
      let paired = 0;
      while (paired < pairs && kind(part.value[paired]!) === kind(next.value[paired]!)) {
        changes.push({ action: "update", label: label(after, newIndex + paired), summary: summary(next.value[paired]!), fields: fieldChanges(part.value[paired]!, next.value[paired]!) });
        paired++;
      }
      for (let i = paired; i < part.value.length; i++) changes.push({ action: "delete", label: label(before, oldIndex + i), summary: summary(part.value[i]!), fields: [] });
      for (let i = paired; i < next.value.length; i++) changes.push({ action: "create", label: label(after, newIndex + i), summary: summary(next.value[i]!), fields: [] });
      oldIndex += part.value.length;
      newIndex += next.value.length;
      p++;
      continue;
    }
    if (part.removed) {
      part.value.forEach((step, i) => changes.push({ action: "delete", label: label(before, oldIndex + i), summary: summary(step), fields: [] }));
      oldIndex += part.value.length;
    } else {
      part.value.forEach((step, i) => changes.push({ action: "create", label: label(after, newIndex + i), summary: summary(step), fields: [] }));
      newIndex += part.value.length;
    }
  }
  return changes;
}
