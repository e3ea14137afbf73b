import { stringify } from "csv-stringify/sync";
import { formatCount } from "../plan/render-text.js";
import { formatMinorCode as formatMinor, minorToDecimal } from "../../runtime/money.js";
import type { LedgerVerification, TaxReport, TaxTotals } from "../../schemas/tax.js";

/**
 * The rows every rendering of a tax report shares: a heading and a table
 * (head + body) per section, money formatted in its currency. Terminal, CSV
 * and PDF differ only in how they lay these out.
 */
export interface TaxSection {
  title: string;
  head: string[];
  rows: string[][];
}

const TOTAL_HEAD = ["sales", "refunds", "net", "tax", "gross"];

function totalCells(t: TaxTotals, currency: string): string[] {
  return [String(t.sales), String(t.refunds), formatMinor(t.netMinor, currency), formatMinor(t.taxMinor, currency), formatMinor(t.grossMinor, currency)];
}

export function taxHeadline(report: TaxReport): string[] {
  const prices = report.pricesIncludeTax === "mixed" ? "prices with and without tax" : report.pricesIncludeTax ? "prices include tax" : "prices exclude tax";
  return [
    `Tax report ${report.country} · ${report.period.label} (${report.period.from} to ${report.period.to}) · reporting currency ${report.reportingCurrency} · ${prices}`,
    `Generated ${report.generatedAt.replace("T", " ").slice(0, 16)} UTC from the tax ledger.`,
  ];
}

export function taxSections(report: TaxReport): TaxSection[] {
  const r = report.reportingCurrency;
  const sections: TaxSection[] = [
    { title: `Totals (${r})`, head: TOTAL_HEAD, rows: [totalCells(report.totals, r)] },
    {
      title: "By transaction currency",
      head: ["currency", "sales", "refunds", "net", "tax", "gross", `net ${r}`, `tax ${r}`, `gross ${r}`],
      rows: report.byCurrency.map((c) => [
        c.currency,
        String(c.sales),
        String(c.refunds),
        formatMinor(c.originalNetMinor, c.currency),
        formatMinor(c.originalTaxMinor, c.currency),
        formatMinor(c.originalGrossMinor, c.currency),
        formatMinor(c.netMinor, r),
        formatMinor(c.taxMinor, r),
        formatMinor(c.grossMinor, r) + (c.unconverted > 0 ? ` (${c.unconverted} without a rate)` : ""),
      ]),
    },
    { title: `By tax rate (${r})`, head: ["rate", "tax", ...TOTAL_HEAD], rows: report.byRate.map((x) => [`${x.rate} %`, x.taxType, ...totalCells(x, r)]) },
    { title: `By month (${r})`, head: ["month", ...TOTAL_HEAD], rows: report.byMonth.map((x) => [x.month, ...totalCells(x, r)]) },
    { title: `By campaign (${r})`, head: ["campaign", ...TOTAL_HEAD], rows: report.byCampaign.map((x) => [x.campaign ?? "(none)", ...totalCells(x, r)]) },
    {
      title: `Exchange rates used (1 unit = … ${r})`,
      head: ["currency", "date", "rate of", "rate", "via"],
      rows: report.fx.map((f) => [f.currency, f.day, f.rateDay + (f.stale ? " (earlier)" : ""), f.rate, f.via]),
    },
    {
      title: "Tax rates in force in the period",
      head: ["tax", "rate", "from", "to", "source"],
      rows: report.ratesInForce.map((x) => [`${x.type}${x.region ? ` ${x.region}` : ""}`, `${x.rate} %`, x.from, x.to ?? "", x.origin === "mk.yaml" ? `mk.yaml: ${x.note}` : `${x.source}${x.reviewed ? "" : " (unconfirmed)"}`]),
    },
  ];
  return sections.filter((s) => s.rows.length > 0);
}

/** Warnings and the threshold, in plain words. */
export function taxNotes(report: TaxReport): string[] {
  const notes: string[] = [];
  if (report.totals.sales + report.totals.refunds === 0) notes.push(`No sales or refunds recorded for ${report.country} in ${report.period.label}.`);
  if (report.note) notes.push(report.note);
  const t = report.threshold;
  if (t) {
    const ytd = `${formatMinor(t.yearToDateMinor, t.currency)} from 1 January to ${report.period.to}`;
    notes.push(
      t.crossed
        ? `! Registration threshold crossed on ${t.crossedOn}: ${ytd}, above ${formatMinor(t.amountMinor, t.currency)}. ${t.note}.`
        : `Registration threshold ${formatMinor(t.amountMinor, t.currency)} a year: ${ytd}, not crossed. ${t.note}.`,
    );
  }
  const stale = report.fx.filter((f) => f.stale);
  if (stale.length > 0) notes.push(`! ${stale.length} exchange rate${stale.length === 1 ? "" : "s"} from an earlier day (no rate on the transaction date): marked "(earlier)".`);
  if (report.fxMissing.length > 0) {
    notes.push(`! No exchange rate on or before ${report.fxMissing.map((m) => `${m.day} for ${m.currency}`).join(", ")}: those lines are left out of the ${report.reportingCurrency} totals. Import rates with mk fx import.`);
  }
  if (report.ratesInForce.some((x) => !x.reviewed)) notes.push("! A tax rate in force in the period is unconfirmed in mk's data; check it (mk tax rates) and override it in mk.yaml if needed.");
  return notes;
}

/** One tidy CSV: section, key, metric, value; money as decimals of its currency. */
export function renderTaxCsv(report: TaxReport): string {
  const r = report.reportingCurrency;
  const rows: string[][] = [["section", "key", "metric", "value"]];
  const totals = (section: string, key: string, t: TaxTotals) => {
    rows.push([section, key, "sales", String(t.sales)], [section, key, "refunds", String(t.refunds)]);
    rows.push([section, key, `net_${r}`, minorToDecimal(t.netMinor, r)], [section, key, `tax_${r}`, minorToDecimal(t.taxMinor, r)], [section, key, `gross_${r}`, minorToDecimal(t.grossMinor, r)]);
  };
  rows.push(["report", "", "country", report.country], ["report", "", "period", report.period.label], ["report", "", "from", report.period.from], ["report", "", "to", report.period.to], ["report", "", "reporting_currency", r]);
  totals("total", "", report.totals);
  for (const c of report.byCurrency) {
    totals("currency", c.currency, c);
    rows.push(["currency", c.currency, "net", minorToDecimal(c.originalNetMinor, c.currency)], ["currency", c.currency, "tax", minorToDecimal(c.originalTaxMinor, c.currency)], ["currency", c.currency, "gross", minorToDecimal(c.originalGrossMinor, c.currency)]);
  }
  for (const x of report.byRate) totals("rate", `${x.rate} ${x.taxType}`, x);
  for (const x of report.byMonth) totals("month", x.month, x);
  for (const x of report.byCampaign) totals("campaign", x.campaign ?? "", x);
  for (const f of report.fx) rows.push(["fx", `${f.currency} ${f.day}`, "rate", f.rate], ["fx", `${f.currency} ${f.day}`, "rate_date", f.rateDay]);
  if (report.threshold) {
    rows.push(["threshold", "", `amount_${r}`, minorToDecimal(report.threshold.amountMinor, r)], ["threshold", "", `year_to_date_${r}`, minorToDecimal(report.threshold.yearToDateMinor, r)]);
    rows.push(["threshold", "", "crossed_on", report.threshold.crossedOn ?? ""]);
  }
  return stringify(rows);
}

/** The first tampered entry of a failed verification, in one line. */
export function tamperedLine(result: LedgerVerification): string {
  const bad = result.firstBad!;
  return `Tampered: ${bad.country} entry ${bad.seq} (id ${bad.id}, event ${bad.eventKey}): ${bad.reason}. ${formatCount(result.checked)} entries before it hold.`;
}
