import { styleText } from "node:util";
import { countBySeverity, type Problem } from "../problems.js";

export interface OutputStyle {
  color: boolean;
}

export function paint(style: OutputStyle, format: Parameters<typeof styleText>[0], text: string): string {
  return style.color ? styleText(format, text) : text;
}

/** `campaigns/x.yaml:7:3  error    MK012  subject is required` */
export function formatProblem(p: Problem, style: OutputStyle): string {
  const severity = p.severity === "error" ? paint(style, "red", "error  ") : paint(style, "yellow", "warning");
  return `${paint(style, "bold", `${p.file}:${p.line}:${p.col}`)}  ${severity}  ${paint(style, "dim", p.code)}  ${p.message}`;
}

export function formatSummary(problems: readonly Problem[], style: OutputStyle): string {
  const { errors, warnings } = countBySeverity(problems);
  const text = `${errors} ${errors === 1 ? "error" : "errors"}, ${warnings} ${warnings === 1 ? "warning" : "warnings"}`;
  if (errors > 0) return paint(style, "red", `✖ ${text}`);
  return warnings > 0 ? paint(style, "yellow", `⚠ ${text}`) : paint(style, "green", `✔ ${text}`);
}

/** Every problem on its line, then the summary line. */
export function formatProblems(problems: readonly Problem[], style: OutputStyle): string {
  return [...problems.map((p) => formatProblem(p, style)), formatSummary(problems, style)].join("\n");
}

/** The documented `--json` shape of one problem (FORMAT.md). */
export function problemJson(p: Problem): Problem {
  return { file: p.file, line: p.line, col: p.col, severity: p.severity, code: p.code, message: p.message };
}
