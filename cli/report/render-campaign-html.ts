import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import Handlebars from "handlebars";
import { formatMinor } from "../../runtime/money.js";
import type { CampaignReport } from "../../schemas/report.js";
import { percent } from "../../runtime/reports/percent.js";
import { formatCount } from "../plan/render-text.js";
import { netRevenue, utcMinute } from "./format.js";
import { REPORT_CSS } from "./report-css.js";

/**
 * A campaign report as one self-contained HTML file: styles, data and the
 * chart library (uPlot) inline, nothing fetched, so it can be mailed or
 * attached to a ticket as it is. Handlebars escapes every value.
 */
const TEMPLATE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Campaign report: {{r.campaign}}</title>
<style>{{{uplotCss}}}
{{{reportCss}}}
.flag { color: #b42318; font-weight: 600; } .verdict { margin: 8px 0; }
#daily { background: #fff; border-radius: 10px; padding: 10px; box-shadow: 0 1px 2px rgba(0,0,0,.06); }
</style>
</head>
<body><main>
<h1>{{r.campaign}}</h1>
<div class="muted">Started {{started}} · {{recipients}} recipients · report of {{generated}}</div>
<div class="cards">
{{#each cards}}<div class="card"><span class="muted">{{label}}</span><b>{{value}}</b>{{note}}</div>{{/each}}
</div>

<h2>Funnel</h2>
<table><tr><th>Stage</th><th class="n">Recipients</th><th class="n">Rate</th><th style="width:40%"></th></tr>
{{#each funnel}}<tr><td>{{stage}}</td><td class="n">{{value}}</td><td class="n">{{rate}}</td><td><div class="bar"><span style="width:{{width}}%"></span></div></td></tr>{{/each}}
</table>
{{#unless r.deliveryReported}}<p class="muted">No delivery reports (the outbox and SMTP send none): rates are of sent mail.</p>{{/unless}}

<h2>Opens and clicks <span class="muted">(the rates count people's only)</span></h2>
<table><tr><th></th><th class="n">All</th><th class="n">People</th><th class="n">Machines</th></tr>
{{#each who}}<tr><td>{{what}}</td><td class="n">{{all}}</td><td class="n">{{people}}</td><td class="n">{{machines}}</td></tr>{{/each}}
</table>
{{#if reasons.length}}<table><tr><th>Machines, by evidence</th><th class="n">Opens</th><th class="n">Clicks</th></tr>
{{#each reasons}}<tr><td>{{label}}</td><td class="n">{{opens}}</td><td class="n">{{clicks}}</td></tr>{{/each}}
</table>{{/if}}
{{#if engagementNote}}<p class="verdict">{{engagementNote}}</p>{{/if}}

<h2>Deliverability</h2>
<table>
<tr><td>Hard bounces</td><td class="n">{{bounced}}</td><td class="n">{{bounceRate}}</td></tr>
<tr><td>Complaints</td><td class="n">{{complained}}</td><td class="n {{#if r.complaintRateAboveLimit}}flag{{/if}}">{{complaintRate}}{{#if r.complaintRateAboveLimit}} (at or above the 0.3 % limit){{/if}}</td></tr>
<tr><td>Unsubscribes</td><td class="n">{{unsubscribed}}</td><td class="n">{{unsubscribeRate}}</td></tr>
<tr><td>Failed</td><td class="n">{{failed}}</td><td></td></tr>
</table>

<h2>Money</h2>
<table><tr><th>Currency</th><th class="n">Purchases</th><th class="n">Revenue</th><th class="n">Refunds</th><th class="n">Net</th></tr>
{{#each revenue}}<tr><td>{{currency}}</td><td class="n">{{purchases}}</td><td class="n">{{revenue}}</td><td class="n">{{refunds}}</td><td class="n">{{net}}</td></tr>{{else}}<tr><td colspan="5" class="muted">No revenue attributed yet.</td></tr>{{/each}}
</table>
<p>Cost {{cost}} · CPA {{cpa}} · ROAS {{roas}}{{#if r.roasNote}} <span class="muted">({{r.roasNote}})</span>{{/if}}</p>

{{#if variants.length}}
<h2>Variants</h2>
<table><tr><th>Variant</th><th class="n">Sent</th><th class="n">Opened (people)</th><th class="n">Machine opens</th><th class="n">Clicked (people)</th><th class="n">Machine clicks</th><th class="n">Converted</th><th class="n">Click rate</th><th class="n">Conversion</th><th class="n">Revenue</th></tr>
{{#each variants}}<tr><td>{{name}}</td><td class="n">{{sent}}</td><td class="n">{{opened}}</td><td class="n">{{machineOpens}}</td><td class="n">{{clicked}}</td><td class="n">{{machineClicks}}</td><td class="n">{{converted}}</td><td class="n">{{clickRate}}</td><td class="n">{{conversionRate}}</td><td class="n">{{revenue}}</td></tr>{{/each}}
</table>
{{#if abVerdict}}<p class="verdict"><b>{{abVerdict}}</b></p>{{/if}}
{{#each r.comparisons}}<p class="verdict">{{verdict}}</p>{{/each}}
{{/if}}

<h2>Top countries</h2>
<table><tr><th>Country</th><th class="n">Sent</th><th class="n">Clicked (people)</th><th class="n">Converted</th><th style="width:35%"></th></tr>
{{#each countries}}<tr><td>{{country}}</td><td class="n">{{sent}}</td><td class="n">{{clicked}}</td><td class="n">{{converted}}</td><td><div class="bar"><span style="width:{{width}}%"></span></div></td></tr>{{/each}}
</table>
{{#if locales.length}}
<h2>Locales <span class="muted">(the language each recipient got)</span></h2>
<table><tr><th>Locale</th><th class="n">Sent</th><th class="n">Opened (people)</th><th class="n">Clicked (people)</th><th class="n">Converted</th><th class="n">Revenue</th></tr>
{{#each locales}}<tr><td>{{locale}}</td><td class="n">{{sent}}</td><td class="n">{{opened}}</td><td class="n">{{clicked}}</td><td class="n">{{converted}}</td><td class="n">{{revenue}}</td></tr>{{/each}}
</table>
{{/if}}

<h2>Daily unique clicks and conversions <span class="muted">(UTC days)</span></h2>
<div id="daily"></div>
<noscript><table><tr><th>Day</th><th class="n">Clicked</th><th class="n">Converted</th></tr>{{#each r.daily}}<tr><td>{{day}}</td><td class="n">{{clicked}}</td><td class="n">{{converted}}</td></tr>{{/each}}</table></noscript>
</main>
<script>{{{uplotJs}}}</script>
<script>
const daily = {{{dailyJson}}};
const el = document.getElementById("daily");
const x = daily.map((d) => Date.parse(d.day + "T00:00:00Z") / 1000);
new uPlot({
  width: el.clientWidth - 20, height: 260, tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
  series: [{}, { label: "Clicked", stroke: "#3b5bdb", width: 2 }, { label: "Converted", stroke: "#2f9e44", width: 2 }],
  axes: [{}, {}],
}, [x, daily.map((d) => d.clicked), daily.map((d) => d.converted)], el);
</script>
</body>
</html>
`;

const render = Handlebars.compile(TEMPLATE, { strict: true });

function asset(path: string): string {
  return readFileSync(createRequire(import.meta.url).resolve(path), "utf8");
}

/** JSON that is safe inside a <script> element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

export function renderCampaignHtml(report: CampaignReport): string {
  const t = report.totals;
  const widest = Math.max(1, t.sent);
  const topSent = Math.max(1, ...report.topCountries.map((c) => c.sent));
  return render({
    r: report,
    reportCss: REPORT_CSS,
    uplotCss: asset("uplot/dist/uPlot.min.css"),
    uplotJs: asset("uplot/dist/uPlot.iife.min.js"),
    dailyJson: scriptJson(report.daily),
    started: utcMinute(report.startedAt),
    generated: utcMinute(report.generatedAt),
    recipients: formatCount(report.recipients),
    cards: [
      { label: "Sent", value: formatCount(t.sent), note: "" },
      { label: "Opened by people", value: formatCount(t.humanOpened), note: percent(report.rates.open) },
      { label: "Clicked by people", value: formatCount(t.humanClicked), note: percent(report.rates.click) },
      { label: "Converted", value: formatCount(t.converted), note: percent(report.rates.conversion) },
      { label: "Net revenue", value: netRevenue(report.revenue), note: "" },
    ],
    funnel: [
      { stage: "Sent", value: formatCount(t.sent), rate: "", width: 100 * (t.sent / widest) },
      ...(report.deliveryReported ? [{ stage: "Delivered", value: formatCount(t.delivered), rate: percent(report.rates.delivery), width: (100 * t.delivered) / widest }] : []),
      { stage: "Opened by people", value: formatCount(t.humanOpened), rate: percent(report.rates.open), width: (100 * t.humanOpened) / widest },
      { stage: "Clicked by people", value: formatCount(t.humanClicked), rate: percent(report.rates.click), width: (100 * t.humanClicked) / widest },
      { stage: "Converted", value: formatCount(t.converted), rate: percent(report.rates.conversion), width: (100 * t.converted) / widest },
    ].map((f) => ({ ...f, width: f.width.toFixed(1) })),
    bounced: formatCount(t.bounced),
    bounceRate: percent(report.rates.bounce),
    complained: formatCount(t.complained),
    complaintRate: percent(report.rates.complaint),
    unsubscribed: formatCount(t.unsubscribed),
    unsubscribeRate: percent(report.rates.unsubscribe),
    failed: formatCount(t.failed),
    revenue: report.revenue.map((r) => ({
      currency: r.currency,
      purchases: formatCount(r.purchases),
      revenue: formatMinor(r.revenueMinor, r.currency),
      refunds: formatMinor(-r.refundedMinor, r.currency),
      net: formatMinor(r.netMinor, r.currency),
    })),
    cost: formatMinor(report.cost.minor, report.cost.currency),
    cpa: report.cpa ? formatMinor(report.cpa.minor, report.cpa.currency) : "-",
    roas: report.roas === null ? "-" : `${report.roas.toFixed(2)}×`,
    variants:
      report.variants.length > 1
        ? report.variants.map((v) => ({
            name: v.name,
            sent: formatCount(v.sent),
            opened: formatCount(v.humanOpened),
            machineOpens: formatCount(v.machineOpens),
            clicked: formatCount(v.humanClicked),
            machineClicks: formatCount(v.machineClicks),
            converted: formatCount(v.converted),
            clickRate: percent(v.rates.click),
            conversionRate: percent(v.rates.conversion),
            revenue: netRevenue(v.revenue),
          }))
        : [],
    who: [
      { what: "Opens", all: formatCount(t.opens), people: formatCount(t.humanOpens), machines: formatCount(t.machineOpens) },
      { what: "Links clicked", all: formatCount(t.clicks), people: formatCount(t.humanClicks), machines: formatCount(t.machineClicks) },
    ],
    reasons: (report.engagement?.machineReasons ?? []).map((r) => ({ label: r.label, opens: formatCount(r.opens), clicks: formatCount(r.clicks) })),
    engagementNote: report.engagement?.note ?? "",
    abVerdict: report.abTest?.verdict ?? "",
    countries: report.topCountries.map((c) => ({ country: c.country, sent: formatCount(c.sent), clicked: formatCount(c.humanClicked), converted: formatCount(c.converted), width: ((100 * c.sent) / topSent).toFixed(1) })),
    locales: (report.locales ?? []).map((l) => ({ locale: l.locale, sent: formatCount(l.sent), opened: formatCount(l.humanOpened), clicked: formatCount(l.humanClicked), converted: formatCount(l.converted), revenue: netRevenue(l.revenue) })),
  });
}
