import type { Action, ResourceChange } from "../../runtime/state/diff.js";
import type { Plan } from "./make-plan.js";
import { formatCount, formatUsd, renderChange } from "./render-text.js";

/** The hidden line that marks mk's plan comment on a pull request. */
export const PLAN_MARKER = "<!-- mk-plan -->";

const HEADING: Record<Action, string> = { create: "➕ create", update: "✏️ update", delete: "🗑️ delete" };

/**
 * The plan as Markdown for a pull-request comment and the job summary: the
 * counts, a table of every change with audience sizes and cost, then each
 * resource's diff in a collapsed section. Same plan model as the terminal.
 */
export function renderPlanMarkdown(plan: Plan, commit: string | null): string {
  const out = [PLAN_MARKER, `### mk plan for \`${plan.env}\``, ""];
  const at = commit ? ` at \`${commit.slice(0, 7)}\`` : "";
  if (plan.changes.length === 0) {
    out.push(`**No changes.** The runtime (serial ${plan.baseSerial}) matches the repository${at}.`);
    return `${out.join("\n")}\n`;
  }
  const count = (action: Action) => plan.changes.filter((c) => c.action === action).length;
  out.push(`**Plan: ${count("create")} to add, ${count("update")} to change, ${count("delete")} to delete.** Planned${at} against serial ${plan.baseSerial}.`, "");
  for (const error of plan.errors) out.push(`> [!CAUTION]`, `> ${error}`, "");

  out.push("| | resource | reach | est. cost |", "|---|---|---:|---:|");
  for (const change of plan.changes) out.push(row(change, plan));
  out.push("");

  for (const change of plan.changes) {
    const body = renderChange(change, plan, { color: false }).join("\n");
    out.push(`<details><summary>${HEADING[change.action]} ${change.kind.toLowerCase()} <code>${escapeHtml(change.name)}</code></summary>`, "", "```diff", body.replace(/^ {2}/gm, ""), "```", "", "</details>");
  }
  return `${out.join("\n")}\n`;
}

function row(change: ResourceChange, plan: Plan): string {
  const reach = change.kind === "Campaign" ? plan.campaigns[change.name] : undefined;
  const size = change.kind === "Audience" ? plan.audiences[change.name] : undefined;
  const keys = change.kind === "Catalog" ? plan.catalogs?.[change.name]?.keys : undefined;
  const people = reach
    ? `${formatCount(reach.recipients)} recipients`
    : size !== undefined
      ? `${formatCount(size)} subscribers`
      : keys !== undefined
        ? `${formatCount(keys)} key${keys === 1 ? "" : "s"}`
        : "";
  const cost = reach ? formatUsd(reach.costMicroUsd) : "";
  return `| ${HEADING[change.action]} | ${change.kind.toLowerCase()} \`${change.name.replaceAll("|", "\\|")}\` | ${people} | ${cost} |`;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * What the plan comment says when mk refused to send the token (MK100): the
 * repository validated, but there is no plan, and why.
 */
export function renderRefusalMarkdown(env: string, refusal: { code: string; message: string }): string {
  return [
    PLAN_MARKER,
    `### mk plan for \`${env}\`: refused`,
    "",
    "> [!CAUTION]",
    `> **${refusal.code}** ${refusal.message}`,
    "",
    "mk validate found no errors (the validate job's annotations show any warnings); no token was sent, so there is no plan.",
    "",
  ].join("\n");
}
