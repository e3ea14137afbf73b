import Handlebars from "handlebars";
import Table from "cli-table3";
import { percent } from "../../runtime/reports/percent.js";
import type { SequenceReport, SequenceStepReport, SubscriberJourney } from "../../schemas/report.js";
import { formatCount } from "../plan/render-text.js";
import { plural, utcMinute } from "./format.js";
import { REPORT_CSS } from "./report-css.js";

/** One funnel row, shared by the terminal and the HTML: counts formatted, rates of those who reached the step. */
function stepRow(step: SequenceStepReport, versions: number) {
  const of = (n: number) => (step.reached > 0 ? percent(n / step.reached) : "-");
  const mail = step.kind === "send";
  return {
    step: `${versions > 1 ? `v${step.version} ` : ""}${step.step}${step.name ? ` ${step.name}` : ""}`,
    what: step.summary,
    reached: formatCount(step.reached),
    sent: mail ? formatCount(step.sent) : "",
    opened: mail ? `${formatCount(step.humanOpened)} (${of(step.humanOpened)})` : "",
    clicked: mail ? `${formatCount(step.humanClicked)} (${of(step.humanClicked)})` : "",
    converted: mail ? `${formatCount(step.converted)} (${of(step.converted)})` : "",
    exited: step.kind === "if" ? `${formatCount(step.exited)} (${of(step.exited)})` : "",
  };
}

function statusLine(report: SequenceReport): string {
  return [
    `${formatCount(report.active)} active`,
    `${formatCount(report.completed)} completed`,
    `${formatCount(report.exited)} exited`,
    `${formatCount(report.failed)} failed`,
  ].join(" · ");
}

const versionCount = (report: SequenceReport) => new Set(report.steps.map((s) => s.version)).size;

/** `mk report sequence <name>` for a terminal. */
export function renderSequenceText(report: SequenceReport, options: { color: boolean }): string {
  const out = [
    `Sequence ${report.sequence}: version ${report.version}${report.applied ? "" : " (deleted)"}, ${plural(report.enrolled, "enrollment")}`,
    `  ${statusLine(report)}`,
    "",
  ];
  const reasons = Object.entries(report.exitReasons).sort((a, b) => b[1] - a[1]);
  if (reasons.length > 0) {
    out.push("Exited, by reason");
    const width = Math.max(...reasons.map(([reason]) => reason.length));
    for (const [reason, n] of reasons) out.push(`  ${reason.padEnd(width)}  ${formatCount(n)}`);
    out.push("");
  }
  const table = new Table({ head: ["step", "", "reached", "sent", "opened (people)", "clicked (people)", "converted", "exited"], style: { head: options.color ? ["bold"] : [], border: [] } });
  const versions = versionCount(report);
  for (const step of report.steps) {
    const row = stepRow(step, versions);
    table.push([row.step, row.what, row.reached, row.sent, row.opened, row.clicked, row.converted, row.exited]);
  }
  out.push("Steps (rates of the enrollments that reached the step)", table.toString());
  return `${out.join("\n")}\n`;
}

/** `mk report sequence <name> --subscriber <email>`: each enrollment of theirs, with every step it took. */
export function renderJourneysText(sequence: string, email: string, journeys: readonly SubscriberJourney[]): string {
  if (journeys.length === 0) return `${email} has never been enrolled in ${sequence}.\n`;
  const out: string[] = [];
  journeys.forEach((j, i) => {
    const state =
      j.status === "active" && j.next
        ? `active, next ${j.next.step} at ${utcMinute(j.next.at)}`
        : `${j.status}${j.exitReason ? ` (${j.exitReason})` : ""}${j.endedAt ? ` at ${utcMinute(j.endedAt)}` : ""}`;
    out.push(`${sequence} v${j.version} for ${email}, enrolled ${utcMinute(j.enrolledAt)} by event ${j.trigger}: ${state}`);
    const width = Math.max(...j.history.map((h) => h.step.length), 0);
    for (const h of j.history) out.push(`  ${utcMinute(h.at)}  ${h.step.padEnd(width)}  ${h.kind.padEnd(8)}  ${h.outcome}`);
    if (i < journeys.length - 1) out.push("");
  });
  return `${out.join("\n")}\n`;
}

const TEMPLATE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sequence report: {{r.sequence}}</title>
<style>
{{{reportCss}}}
</style>
</head>
<body><main>
<h1>{{r.sequence}}</h1>
<div class="muted">Version {{r.version}}{{#unless r.applied}} (deleted){{/unless}} · {{enrolled}}</div>
<div class="cards">
{{#each cards}}<div class="card"><span class="muted">{{label}}</span><b>{{value}}</b></div>{{/each}}
</div>

<h2>Exited, by reason</h2>
<table><tr><th>Reason</th><th class="n">Enrollments</th></tr>
{{#each reasons}}<tr><td>{{reason}}</td><td class="n">{{n}}</td></tr>{{else}}<tr><td colspan="2" class="muted">Nobody has exited.</td></tr>{{/each}}
</table>

<h2>Steps <span class="muted">(rates of the enrollments that reached the step)</span></h2>
<table><tr><th>Step</th><th></th><th class="n">Reached</th><th style="width:14%"></th><th class="n">Sent</th><th class="n">Opened (people)</th><th class="n">Clicked (people)</th><th class="n">Converted</th><th class="n">Exited</th></tr>
{{#each steps}}<tr><td>{{step}}</td><td>{{what}}</td><td class="n">{{reached}}</td><td><div class="bar"><span style="width:{{width}}%"></span></div></td><td class="n">{{sent}}</td><td class="n">{{opened}}</td><td class="n">{{clicked}}</td><td class="n">{{converted}}</td><td class="n">{{exited}}</td></tr>{{/each}}
</table>
</main></body>
</html>
`;

const render = Handlebars.compile(TEMPLATE, { strict: true });

/** The report as one self-contained HTML file (no scripts, nothing fetched); Handlebars escapes every value. */
export function renderSequenceHtml(report: SequenceReport): string {
  const versions = versionCount(report);
  const widest = Math.max(1, ...report.steps.map((s) => s.reached));
  return render({
    r: report,
    reportCss: REPORT_CSS,
    enrolled: plural(report.enrolled, "enrollment"),
    cards: [
      { label: "Enrolled", value: formatCount(report.enrolled) },
      { label: "Active", value: formatCount(report.active) },
      { label: "Completed", value: formatCount(report.completed) },
      { label: "Exited", value: formatCount(report.exited) },
      { label: "Failed", value: formatCount(report.failed) },
    ],
    reasons: Object.entries(report.exitReasons)
      .sort((a, b) => b[1] - a[1])
      .map(([reason, n]) => ({ reason, n: formatCount(n) })),
    steps: report.steps.map((step) => ({ ...stepRow(step, versions), width: ((100 * step.reached) / widest).toFixed(1) })),
  });
}
