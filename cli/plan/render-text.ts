import { createPatch } from "diff";
import type { Action, FieldChange, ResourceChange } from "../../runtime/state/diff.js";
import { paint, type OutputStyle } from "../output/problems.js";
import { formatCount } from "../output/format-count.js";
import type { CatalogChange } from "./catalog-keys.js";
import type { Plan } from "./make-plan.js";

export { formatCount };

const SYMBOL: Record<Action, string> = { create: "+", update: "~", delete: "-" };
const COLOR = { create: "green", update: "yellow", delete: "red" } as const;
const WILL: Record<Action, string> = { create: "will be created", update: "will be updated in place", delete: "will be deleted" };
/** Lines of MJML diff shown per file, and keys per catalog; the rest is counted. */
const MAX_DIFF_LINES = 40;
/** Characters of a catalog message shown in a key's line. */
const MAX_MESSAGE_CHARS = 60;

/** The plan as Terraform prints one: a header per resource, field diffs, one summary line. */
export function renderPlanText(plan: Plan, style: OutputStyle): string {
  const out: string[] = [`Planned against "${plan.env}" (${plan.url}) at serial ${plan.baseSerial}.`, ""];
  if (plan.changes.length === 0) {
    out.push(paint(style, "green", "No changes. The runtime matches the repository."));
    return `${out.join("\n")}\n`;
  }
  out.push("mk will perform the following actions:", "");
  for (const change of plan.changes) out.push(...renderChange(change, plan, style), "");
  for (const error of plan.errors) out.push(paint(style, "red", `Error: ${error}`), "");
  if (plan.topics && Object.keys(plan.topics).length > 0) {
    out.push(`Topics reach: ${Object.entries(plan.topics).map(([name, n]) => `${name} ${formatCount(n)}`).join(", ")} subscribers.`, "");
  }
  out.push(summaryLine(plan, style));
  return `${out.join("\n")}\n`;
}

export function summaryLine(plan: Pick<Plan, "changes">, style: OutputStyle): string {
  const count = (action: Action) => plan.changes.filter((c) => c.action === action).length;
  return `${paint(style, "bold", "Plan:")} ${count("create")} to add, ${count("update")} to change, ${count("delete")} to delete.`;
}

/** One resource's header, symbol line and field or file diffs. */
export function renderChange(change: ResourceChange, plan: Plan, style: OutputStyle): string[] {
  const label = `${change.kind.toLowerCase()} "${change.name}"`;
  const symbol = paint(style, COLOR[change.action], SYMBOL[change.action]);
  const lines = [`  ${paint(style, "dim", `# ${label} ${WILL[change.action]}${reachNote(change, plan)}`)}`, ...localeReachLines(change, plan, style), `  ${symbol} ${label}`];
  if (change.action === "delete") return lines;
  if (change.kind === "Catalog") return [...lines, ...catalogLines(plan.catalogs?.[change.name], style)];
  if (change.kind === "Template") return [...lines, ...templateLines(change, style)];
  const steps = change.kind === "Sequence" && change.action === "update" ? plan.sequences[change.name]?.steps : undefined;
  for (const field of change.fields) {
    if (steps && /^steps(\[|$)/.test(field.path)) continue;
    lines.push(fieldLine(field, change.action, style));
  }
  for (const step of steps ?? []) {
    lines.push(`      ${paint(style, COLOR[step.action], SYMBOL[step.action])} ${step.label}: ${step.summary}`);
    for (const field of step.fields) lines.push(`    ${fieldLine(field, "update", style)}`);
  }
  return lines;
}

function reachNote(change: ResourceChange, plan: Plan): string {
  if (change.kind === "Sequence") return enrollmentNote(change, plan);
  if (change.kind === "Catalog") return keysNote(change.action, plan.catalogs?.[change.name]);
  if (change.action === "delete") return "";
  if (change.kind === "Audience" && plan.audiences[change.name] !== undefined) return ` (${formatCount(plan.audiences[change.name] ?? 0)} subscribers now)`;
  const reach = change.kind === "Campaign" ? plan.campaigns[change.name] : undefined;
  if (!reach) return "";
  const cap = reach.cappedBy ? `, capped by budget.${reach.cappedBy}` : "";
  return ` (${formatCount(reach.recipients)} recipients, est. ${formatUsd(reach.costMicroUsd)}${cap})`;
}

/** A catalog's keys once applied (before, when it is deleted), and what changes of them. */
function keysNote(action: Action, catalog: CatalogChange | undefined): string {
  if (!catalog) return "";
  const keys = `${formatCount(catalog.keys)} key${catalog.keys === 1 ? "" : "s"}`;
  const count = (of: Action) => catalog.changes.filter((c) => c.action === of).length;
  const parts = [`${count("create")} added`, `${count("update")} changed`, `${count("delete")} removed`].filter((p) => !p.startsWith("0 "));
  return action === "update" ? ` (${keys}; ${parts.join(", ")})` : ` (${keys})`;
}

/** A campaign's recipients by the locale each would get, when the repository has locales. */
function localeReachLines(change: ResourceChange, plan: Plan, style: OutputStyle): string[] {
  const locales = change.kind === "Campaign" && change.action !== "delete" ? plan.campaigns[change.name]?.locales : undefined;
  if (!locales) return [];
  const split = Object.entries(locales).map(([code, n]) => `${code} ${formatCount(n)}`).join(", ");
  return [`  ${paint(style, "dim", `# by locale: ${split}`)}`];
}

/** Each key a catalog change adds, changes or removes, in key order, up to MAX_DIFF_LINES (a new catalog's every key). */
function catalogLines(catalog: CatalogChange | undefined, style: OutputStyle): string[] {
  const changes = catalog?.changes ?? [];
  const lines = changes.slice(0, MAX_DIFF_LINES).map((c) => {
    const key = `key ${JSON.stringify(c.key)}`;
    if (c.action === "create") return `      ${paint(style, "green", "+")} ${key} = ${message(c.after)}`;
    if (c.action === "delete") return `      ${paint(style, "red", "-")} ${key}`;
    return `      ${paint(style, "yellow", "~")} ${key} = ${message(c.before)} -> ${message(c.after)}`;
  });
  if (changes.length > MAX_DIFF_LINES) lines.push(`      ${paint(style, "dim", `… ${formatCount(changes.length - MAX_DIFF_LINES)} more keys`)}`);
  return lines;
}

/** A catalog message, quoted and shortened to MAX_MESSAGE_CHARS characters. */
function message(text: string | undefined): string {
  const chars = [...(text ?? "")];
  return JSON.stringify(chars.length > MAX_MESSAGE_CHARS ? `${chars.slice(0, MAX_MESSAGE_CHARS - 1).join("")}…` : chars.join(""));
}

/** What a change does to a sequence's active enrollments. */
function enrollmentNote(change: ResourceChange, plan: Plan): string {
  const entry = plan.sequences[change.name];
  if (!entry || entry.active === 0) return "";
  const active = `${formatCount(entry.active)} active enrollment${entry.active === 1 ? "" : "s"}`;
  if (change.action === "delete") return ` (ends ${active})`;
  return entry.migrate
    ? ` (${active} move to the new version at the step of the same name; the rest stay on theirs)`
    : ` (${active} stay on the version they started; new enrollments start on this one)`;
}

function fieldLine(field: FieldChange, action: Action, style: OutputStyle): string {
  if (action === "create") return `      ${paint(style, "green", "+")} ${field.path} = ${value(field.after)}`;
  if (field.before === undefined) return `      ${paint(style, "green", "+")} ${field.path} = ${value(field.after)}`;
  if (field.after === undefined) return `      ${paint(style, "red", "-")} ${field.path} = ${value(field.before)}`;
  return `      ${paint(style, "yellow", "~")} ${field.path} = ${value(field.before)} -> ${value(field.after)}`;
}

/** A template's HTML hash, and its MJML files as unified diffs (file names hold dots, so not field paths). */
function templateLines(change: ResourceChange, style: OutputStyle): string[] {
  const files = (side: "before" | "after"): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const field of change.fields) {
      const match = /^files\.(.+)$/.exec(field.path);
      const text = field[side];
      if (match?.[1] && typeof text === "string") out[match[1]] = text;
    }
    return out;
  };
  const lines: string[] = [];
  const html = change.fields.find((f) => f.path === "html");
  if (html) lines.push(fieldLine({ ...html, before: short(html.before), after: short(html.after) }, change.action, style));
  const before = files("before");
  const after = files("after");
  for (const file of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
    if (change.action === "create") {
      lines.push(`      ${paint(style, "green", "+")} ${file}`);
      continue;
    }
    const patch = createPatch(file, before[file] ?? "", after[file] ?? "", "", "", { context: 1 }).split("\n").slice(4).filter((l) => l !== "");
    lines.push(`      ${paint(style, "yellow", "~")} ${file}`);
    for (const line of patch.slice(0, MAX_DIFF_LINES)) {
      const color = line.startsWith("+") ? "green" : line.startsWith("-") ? "red" : "dim";
      lines.push(`          ${paint(style, color, line)}`);
    }
    if (patch.length > MAX_DIFF_LINES) lines.push(`          ${paint(style, "dim", `… ${patch.length - MAX_DIFF_LINES} more lines`)}`);
  }
  return lines;
}

function short(hash: unknown): unknown {
  return typeof hash === "string" ? hash.slice(0, 12) : hash;
}

function value(v: unknown): string {
  const text = JSON.stringify(v) ?? "null";
  return text.length > 100 ? `${text.slice(0, 97)}…` : text;
}

export function formatUsd(microUsd: number): string {
  const cents = Math.round(microUsd / 10_000);
  return `$${Math.floor(cents / 100).toLocaleString("en-US")}.${String(cents % 100).padStart(2, "0")}`;
}
