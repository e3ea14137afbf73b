import { sequence, type Sequence, type SequenceStep } from "../../schemas/index.js";
import { canonicalJson } from "../state/canonical.js";

/** A sequence as the runtime stores it: the repository's file without apiVersion, kind and name. */
export type SequenceSpec = Omit<Sequence, "apiVersion" | "kind" | "name">;

/** The stored form's schema: the runtime checks every applied Sequence against it. */
export const storedSequence = sequence.omit({ apiVersion: true, kind: true, name: true });

/** A stored spec, defaults filled in (versions applied before a field existed get its default). */
export function parseSequenceSpec(spec: unknown): SequenceSpec {
  return storedSequence.parse(spec);
}

/** The ledger key of a send step: never a campaign name, which cannot hold "/". */
export function stepKey(sequenceName: string, version: number, index: number): string {
  return `${sequenceName}/v${version}/step-${index + 1}`;
}

/** "step 3 (tips)" — 1-based, with the step's name when it has one. */
export function stepLabel(steps: readonly SequenceStep[], index: number): string {
  const name = steps[index]?.name;
  return `step ${index + 1}${name ? ` (${name})` : ""}`;
}

export function stepKind(step: SequenceStep): "send" | "wait" | "if" {
  return "send" in step ? "send" : "wait" in step ? "wait" : "if";
}

/** A step in one line: `send "Subject" (templates/x.mjml)`, `wait 2d until 09:00`, `if {…} then exit`. */
export function stepSummary(step: SequenceStep): string {
  if ("send" in step) return `send ${JSON.stringify(step.send.subject)} (${step.send.template})`;
  if ("wait" in step) return `wait ${step.wait}${step.until ? ` until ${step.until}` : ""}`;
  return `if ${canonicalJson(step.if)} then exit`;
}
