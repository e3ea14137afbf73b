import Table from "cli-table3";
import { percent } from "../../runtime/reports/percent.js";
import type { MessageReport } from "../../schemas/report.js";
import { formatCount } from "../plan/render-text.js";
import { plural } from "./format.js";

/** `mk report message <name>` for a terminal: what became of its requests, then delivery and engagement. */
export function renderMessageText(report: MessageReport, options: { color: boolean }): string {
  const of = (n: number) => (report.sent > 0 ? percent(n / report.sent) : "-");
  const table = new Table({ head: ["", "count", "of sent"], style: { head: options.color ? ["bold"] : [], border: [] } });
  const rows: [string, number, boolean][] = [
    ["requested", report.requested, false],
    ["pending", report.pending, false],
    ["sent", report.sent, false],
    ["failed", report.failed, false],
    ["suppressed", report.suppressed, false],
    ["ambiguous", report.ambiguous, false],
    ["delivered", report.delivered, true],
    ["bounced", report.bounced, true],
    ["complained", report.complained, true],
    ["opened by people", report.humanOpened, true],
    ["clicked by people", report.humanClicked, true],
  ];
  for (const [label, n, rated] of rows) table.push([label, formatCount(n), rated ? of(n) : ""]);
  return [
    `Message ${report.message}${report.applied ? "" : " (deleted)"}: ${plural(report.requested, "request")} over ${plural(report.versions, "applied version")}${report.firstAt ? `, since ${report.firstAt.slice(0, 16).replace("T", " ")} UTC` : ""}`,
    "",
    table.toString(),
    "",
    "Delivered, opened and clicked count recipients who are subscribers (provider events); bounced also counts other addresses' hard bounces.",
  ].join("\n");
}
