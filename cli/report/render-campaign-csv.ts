import { stringify } from "csv-stringify/sync";
import { minorToDecimal } from "../../runtime/money.js";
import type { CampaignReport, CampaignSummary, LocaleReport, ReportCounts } from "../../schemas/report.js";

const COUNTS: (keyof ReportCounts)[] = [
  "sent", "failed", "delivered", "bounced", "complained", "opened", "clicked", "unsubscribed", "converted", "opens", "clicks",
  "humanOpened", "humanClicked", "humanOpens", "machineOpens", "humanClicks", "machineClicks",
];
const LOCALE_COUNTS = ["sent", "delivered", "opened", "clicked", "humanOpened", "humanClicked", "unsubscribed", "converted"] as const satisfies readonly (keyof LocaleReport)[];

/**
 * A campaign report as one tidy CSV (section, key, metric, value): easy to
 * pivot in a spreadsheet. Money is in decimal units of its currency.
 */
export function renderCampaignCsv(report: CampaignReport): string {
  const rows: (string | number)[][] = [["section", "key", "metric", "value"]];
  for (const metric of COUNTS) rows.push(["total", "", metric, report.totals[metric]]);
  for (const [metric, rate] of Object.entries(report.rates)) rows.push(["rate", "", metric, rate ?? ""]);
  rows.push(["total", "", "complaint_rate_above_limit", String(report.complaintRateAboveLimit)]);
  for (const r of report.revenue) {
    rows.push(["revenue", r.currency, "purchases", r.purchases], ["revenue", r.currency, "refunds", r.refunds]);
    rows.push(["revenue", r.currency, "revenue", minorToDecimal(r.revenueMinor, r.currency)], ["revenue", r.currency, "refunded", minorToDecimal(r.refundedMinor, r.currency)]);
    rows.push(["revenue", r.currency, "net", minorToDecimal(r.netMinor, r.currency)]);
  }
  rows.push(["cost", report.cost.currency, "cost", minorToDecimal(report.cost.minor, report.cost.currency)]);
  if (report.cpa) rows.push(["cost", report.cpa.currency, "cpa", minorToDecimal(report.cpa.minor, report.cpa.currency)]);
  rows.push(["cost", report.cost.currency, "roas", report.roas ?? ""]);
  for (const v of report.variants) for (const metric of COUNTS) rows.push(["variant", v.name, metric, v[metric]]);
  for (const c of report.comparisons) rows.push(["comparison", c.variant, `${c.metric}_p_value`, c.p ?? ""], ["comparison", c.variant, "verdict", c.verdict]);
  if (report.abTest) rows.push(["ab_test", report.abTest.metric, "winner", report.abTest.winner ?? ""], ["ab_test", report.abTest.metric, "verdict", report.abTest.verdict]);
  for (const r of report.engagement?.machineReasons ?? []) rows.push(["machine", r.reason, "opens", r.opens], ["machine", r.reason, "clicks", r.clicks]);
  for (const c of report.topCountries) {
    rows.push(["country", c.country, "sent", c.sent], ["country", c.country, "clicked", c.clicked], ["country", c.country, "humanClicked", c.humanClicked], ["country", c.country, "converted", c.converted]);
  }
  for (const l of report.locales ?? []) {
    for (const metric of LOCALE_COUNTS) rows.push(["locale", l.locale, metric, l[metric]]);
    for (const r of l.revenue) rows.push(["locale", l.locale, `net_${r.currency}`, minorToDecimal(r.netMinor, r.currency)]);
  }
  for (const d of report.daily) {
    rows.push(["day", d.day, "sent", d.sent], ["day", d.day, "opened", d.opened], ["day", d.day, "clicked", d.clicked]);
    rows.push(["day", d.day, "humanOpened", d.humanOpened], ["day", d.day, "humanClicked", d.humanClicked], ["day", d.day, "converted", d.converted]);
  }
  return stringify(rows);
}

/** `mk report campaigns --format csv`: one row per campaign, net revenue per currency as "USD 12.50; EUR 3.00". */
export function renderSummariesCsv(summaries: readonly CampaignSummary[]): string {
  return stringify([
    ["campaign", "started_at", "recipients", "sent", "delivered", "opened", "clicked", "human_opened", "human_clicked", "converted", "complaint_rate", "net_revenue"],
    ...summaries.map((s) => [
      s.campaign,
      s.startedAt,
      s.recipients,
      s.sent,
      s.delivered,
      s.opened,
      s.clicked,
      s.humanOpened,
      s.humanClicked,
      s.converted,
      s.complaintRate ?? "",
      s.revenue.map((r) => `${r.currency} ${minorToDecimal(r.netMinor, r.currency)}`).join("; "),
    ]),
  ]);
}
