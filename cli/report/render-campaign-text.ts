import asciichart from "asciichart";
import Table from "cli-table3";
import { formatMinor } from "../../runtime/money.js";
import type { CampaignReport, CampaignSummary } from "../../schemas/report.js";
import { percent } from "../../runtime/reports/percent.js";
import { formatCount } from "../plan/render-text.js";
import { netRevenue, plural, utcMinute } from "./format.js";

function table(head: string[], color: boolean): Table.Table {
  return new Table({ head, style: { head: color ? ["bold"] : [], border: [] } });
}

/** Daily unique clicks and conversions as a terminal line chart, oldest day on the left. */
function dailyChart(report: CampaignReport, color: boolean): string[] {
  const days = report.daily;
  if (days.length === 0) return ["  no activity yet"];
  if (days.length === 1) return [`  ${days[0]!.day}: ${formatCount(days[0]!.clicked)} clicked, ${formatCount(days[0]!.converted)} converted`];
  const chart = asciichart.plot([days.map((d) => d.clicked), days.map((d) => d.converted)], {
    height: 8,
    format: (x) => String(Math.round(x)).padStart(7),
    ...(color ? { colors: [asciichart.blue, asciichart.green] } : {}),
  });
  const legend = color ? `${asciichart.blue}── clicked${asciichart.reset}   ${asciichart.green}── converted${asciichart.reset}` : "upper line: clicked · lower line: converted";
  return [chart, `         ${days[0]!.day} … ${days.at(-1)!.day}   ${legend}`];
}

/** Opens and clicks by people and by machines, why machines', and what that means for the rates. */
function engagementLines(report: CampaignReport, color: boolean): string[] {
  const t = report.totals;
  const who = table(["", "all", "people", "machines"], color);
  who.push(["opens", formatCount(t.opens), formatCount(t.humanOpens), formatCount(t.machineOpens)], ["links clicked", formatCount(t.clicks), formatCount(t.humanClicks), formatCount(t.machineClicks)]);
  const reasons = report.engagement?.machineReasons ?? [];
  return [
    "Opens and clicks (the rates count people's only)",
    who.toString(),
    ...reasons.map((r) => `  machine: ${r.label}: ${plural(r.opens, "open")}, ${plural(r.clicks, "click")}`),
    ...(report.engagement?.note ? [`  ${report.engagement.note}`] : []),
  ];
}

/** `mk report campaign <name>` for a terminal. */
export function renderCampaignText(report: CampaignReport, options: { color: boolean }): string {
  const { totals: t, rates } = report;
  const out: string[] = [];
  out.push(`Campaign ${report.campaign}: started ${utcMinute(report.startedAt)}, ${formatCount(report.recipients)} recipients (report of ${utcMinute(report.generatedAt)})`, "");

  // 1. Funnel.
  const base = report.deliveryReported ? "of delivered" : "of sent";
  const funnel = table(["", "recipients", "rate"], options.color);
  funnel.push(
    ["sent", formatCount(t.sent), ""],
    ["delivered", report.deliveryReported ? formatCount(t.delivered) : "-", report.deliveryReported ? `${percent(rates.delivery)} of sent` : "not reported"],
    ["opened by people", formatCount(t.humanOpened), `${percent(rates.open)} ${base}`],
    ["clicked by people", formatCount(t.humanClicked), `${percent(rates.click)} (click-to-open ${percent(rates.clickToOpen)})`],
    ["converted", formatCount(t.converted), percent(rates.conversion)],
  );
  out.push("Funnel", funnel.toString());
  if (!report.deliveryReported) out.push("  No delivery reports (the outbox and SMTP send none): rates are of sent mail.");
  out.push("", ...engagementLines(report, options.color), "");

  // 2. Deliverability.
  const complaints = `${formatCount(t.complained)} (${percent(rates.complaint)})${report.complaintRateAboveLimit ? "  ! at or above the 0.3 % limit Gmail and Yahoo set for bulk senders" : ""}`;
  out.push(
    "Deliverability",
    `  hard bounces  ${formatCount(t.bounced)} (${percent(rates.bounce)})`,
    `  complaints    ${complaints}`,
    `  unsubscribes  ${formatCount(t.unsubscribed)} (${percent(rates.unsubscribe)})`,
    `  failed        ${formatCount(t.failed)}`,
    "",
  );

  // 3. Money.
  out.push("Money");
  if (report.revenue.length === 0) out.push("  revenue  none attributed yet");
  for (const r of report.revenue) {
    const refunds = r.refunds > 0 ? `, ${plural(r.refunds, "refund")} ${formatMinor(-r.refundedMinor, r.currency)}` : "";
    out.push(`  revenue  ${formatMinor(r.netMinor, r.currency)} net (${plural(r.purchases, "purchase")} ${formatMinor(r.revenueMinor, r.currency)}${refunds})`);
  }
  const cpa = report.cpa ? formatMinor(report.cpa.minor, report.cpa.currency) : "-";
  const roas = report.roas === null ? "-" : `${report.roas.toFixed(2)}×`;
  out.push(`  cost     ${formatMinor(report.cost.minor, report.cost.currency)}   CPA ${cpa}   ROAS ${roas}${report.roasNote ? `  (${report.roasNote})` : ""}`, "");

  // 4. Variants.
  if (report.variants.length > 1) {
    const variants = table(["variant", "sent", "opened (people)", "machine opens", "clicked (people)", "machine clicks", "converted", "click rate", "conversion", "revenue"], options.color);
    for (const v of report.variants) {
      variants.push([
        v.name,
        formatCount(v.sent),
        formatCount(v.humanOpened),
        formatCount(v.machineOpens),
        formatCount(v.humanClicked),
        formatCount(v.machineClicks),
        formatCount(v.converted),
        percent(v.rates.click),
        percent(v.rates.conversion),
        netRevenue(v.revenue),
      ]);
    }
    out.push("Variants", variants.toString(), ...(report.abTest ? [`  ${report.abTest.verdict}`] : []), ...report.comparisons.map((c) => `  ${c.verdict}`), "");
  }

  // 5. Countries, locales and days.
  if (report.topCountries.length > 0) {
    const countries = table(["country", "sent", "clicked (people)", "converted"], options.color);
    for (const c of report.topCountries) countries.push([c.country, formatCount(c.sent), formatCount(c.humanClicked), formatCount(c.converted)]);
    out.push("Top countries", countries.toString(), "");
  }
  if (report.locales?.length) {
    const locales = table(["locale", "sent", "opened (people)", "clicked (people)", "converted", "revenue"], options.color);
    for (const l of report.locales) locales.push([l.locale, formatCount(l.sent), formatCount(l.humanOpened), formatCount(l.humanClicked), formatCount(l.converted), netRevenue(l.revenue)]);
    out.push("Locales (the language each recipient got)", locales.toString(), "");
  }
  out.push("Daily unique clicks and conversions (UTC days)", ...dailyChart(report, options.color));
  return out.join("\n");
}

/** `mk report campaigns` for a terminal. */
export function renderSummariesText(summaries: readonly CampaignSummary[], options: { color: boolean }): string {
  const list = table(["campaign", "started", "sent", "delivered", "opened (people)", "clicked (people)", "converted", "complaints", "revenue"], options.color);
  for (const s of summaries) {
    list.push([
      s.campaign,
      utcMinute(s.startedAt),
      formatCount(s.sent),
      formatCount(s.delivered),
      formatCount(s.humanOpened),
      formatCount(s.humanClicked),
      formatCount(s.converted),
      `${percent(s.complaintRate)}${s.complaintRateAboveLimit ? " !" : ""}`,
      netRevenue(s.revenue),
    ]);
  }
  const flagged = summaries.some((s) => s.complaintRateAboveLimit) ? "\n! complaint rate at or above Gmail's and Yahoo's 0.3 % limit" : "";
  return list.toString() + flagged;
}
