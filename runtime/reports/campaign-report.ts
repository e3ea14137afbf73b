import type pg from "pg";
import { storedProject } from "../../schemas/api.js";
import type {
  CampaignReport,
  CampaignSummary,
  CountryReport,
  DayReport,
  EngagementReport,
  Money,
  ReportCounts,
  ReportRates,
  RevenueLine,
  VariantReport,
  LocaleReport,
} from "../../schemas/report.js";
import { ApiError } from "../http/errors.js";
import { campaignReach } from "../sending/budget.js";
import type { SendSnapshot } from "../sending/snapshot.js";
import { REASONS } from "../engagement/classify.js";
import { abTestVerdict, compareVariants, decidingMetric, type VariantSample } from "./significance.js";
import { percent } from "./percent.js";
import { REPORT_SQL } from "./queries.js";

/** Gmail's and Yahoo's limit for bulk senders' spam complaint rate. */
export const COMPLAINT_RATE_LIMIT = 0.003;
const TOP_COUNTRIES = 10;
/** The country of events and sends whose country nobody knows. */
const UNKNOWN_COUNTRY = "ZZ";

/** The report's counts by the rollups' column names. */
const COUNT_COLUMNS = {
  sent: "sent",
  failed: "failed",
  delivered: "delivered",
  bounced: "bounced",
  complained: "complained",
  opened: "opened",
  clicked: "clicked",
  unsubscribed: "unsubscribed",
  converted: "converted",
  opens: "opens",
  clicks: "clicks",
  humanOpened: "human_opened",
  humanClicked: "human_clicked",
  humanOpens: "human_opens",
  machineOpens: "machine_opens",
  humanClicks: "human_clicks",
  machineClicks: "machine_clicks",
} as const satisfies Record<keyof ReportCounts, string>;
type CountRow = Record<(typeof COUNT_COLUMNS)[keyof ReportCounts], string> & { dimension: "variant" | "day" | "country" | "total"; variant: string | null; day: string | null; country: string | null };
/** Top reasons shown for machine engagement. */
const TOP_REASONS = 5;
interface MoneyRow {
  variant: string | null;
  currency: string;
  purchases: string;
  refunds: string;
  revenue_minor: string;
  refunded_minor: string;
}

function counts(row: CountRow | undefined): ReportCounts {
  return Object.fromEntries(Object.entries(COUNT_COLUMNS).map(([key, column]) => [key, Number(row?.[column] ?? 0)])) as unknown as ReportCounts;
}

function ratio(part: number, whole: number): number | null {
  return whole > 0 ? part / whole : null;
}

/** Engagement rates over delivered mail when the transport reports deliveries, else over sent mail. */
function ratesOf(c: ReportCounts, deliveryReported: boolean): ReportRates {
  const base = deliveryReported ? c.delivered : c.sent;
  return {
    delivery: deliveryReported ? ratio(c.delivered, c.sent) : null,
    open: ratio(c.humanOpened, base),
    click: ratio(c.humanClicked, base),
    conversion: ratio(c.converted, base),
    clickToOpen: ratio(c.humanClicked, c.humanOpened),
    bounce: ratio(c.bounced, c.sent),
    complaint: ratio(c.complained, base),
    unsubscribe: ratio(c.unsubscribed, base),
  };
}

function revenueLine(row: MoneyRow): RevenueLine {
  const revenueMinor = Number(row.revenue_minor);
  const refundedMinor = Number(row.refunded_minor);
  return { currency: row.currency, purchases: Number(row.purchases), refunds: Number(row.refunds), revenueMinor, refundedMinor, netMinor: revenueMinor - refundedMinor };
}

/** Cost at the provider's price, in US cents (half up from micro-dollars). */
function costOf(sent: number, pricePer1000Usd: number): Money {
  return { currency: "USD", minor: Math.round(campaignReach(sent, pricePer1000Usd).costMicroUsd / 10_000) };
}

/** ROAS from the revenue in the cost's currency; revenue in other currencies has no exchange rate here, and the note says so. */
function returnOnSpend(revenue: readonly RevenueLine[], cost: Money): { roas: number | null; roasNote: string | null } {
  const same = revenue.find((r) => r.currency === cost.currency);
  const others = revenue.filter((r) => r.currency !== cost.currency && r.netMinor !== 0).map((r) => r.currency);
  const left = others.length > 0 ? `revenue in ${others.join(", ")} is not included (no exchange rate to ${cost.currency})` : null;
  if (cost.minor === 0) return { roas: null, roasNote: "no cost recorded" };
  if (!same) return { roas: null, roasNote: left ?? `no revenue in ${cost.currency}` };
  return { roas: same.netMinor / cost.minor, roasNote: left };
}

/**
 * A started campaign's report, from the rollups (two grouped queries, however
 * many events there are). Unknown campaign → 404; applied but not started → 409.
 */
export async function campaignReport(pool: pg.Pool, name: string, now = new Date()): Promise<CampaignReport> {
  const meta = (
    await pool.query<{ campaign: string; started_at: Date; recipients: number; snapshot: SendSnapshot; project: unknown }>(REPORT_SQL.campaign, [name])
  ).rows[0];
  if (!meta) {
    const applied = (await pool.query(REPORT_SQL.applied, [name])).rowCount;
    if (applied) throw new ApiError(409, "campaign_not_started", `campaign "${name}" has not started sending; there is nothing to report yet (mk send ${name}, or wait for its schedule)`);
    throw new ApiError(404, "campaign_not_found", `no campaign named "${name}" is applied`);
  }
  const [countRows, moneyRows, reasonRows, locales] = await Promise.all([
    pool.query<CountRow>(REPORT_SQL.counts, [name]),
    pool.query<MoneyRow>(REPORT_SQL.revenue, [name]),
    pool.query<{ reason: string; opens: string; clicks: string }>(REPORT_SQL.machineReasons, [name, TOP_REASONS]),
    meta.snapshot.locales ? localeReports(pool, name) : Promise.resolve([]),
  ]);
  // The project as applied now (always there once a campaign has started).
  const project = storedProject.parse(meta.project);

  const rows = countRows.rows;
  const totals = counts(rows.find((r) => r.dimension === "total"));
  // SES reports deliveries and bounces; the outbox and SMTP report neither, so their rates are of sent mail.
  const deliveryReported = totals.delivered + totals.bounced > 0;
  const revenue = moneyRows.rows.filter((r) => r.variant === null).map(revenueLine);
  const cost = costOf(totals.sent, project.sending.pricePer1000Usd);

  // Variants in the order the campaign declares them; the first is the control.
  const declared = meta.snapshot.variants.map((v) => v.name ?? "");
  const variants: VariantReport[] = declared.map((variant) => {
    const c = counts(rows.find((r) => r.dimension === "variant" && r.variant === variant));
    return { name: variant || "(all)", ...c, rates: ratesOf(c, deliveryReported), revenue: moneyRows.rows.filter((r) => r.variant === variant).map(revenueLine) };
  });
  const sample = (v: VariantReport): VariantSample => ({ name: v.name, base: deliveryReported ? v.delivered : v.sent, opened: v.humanOpened, clicked: v.humanClicked, converted: v.converted });
  const decideBy = meta.snapshot.decideBy ?? "auto";
  const samples = variants.map(sample);
  const metric = decidingMetric(samples, decideBy);
  const comparisons = variants.length > 1 ? samples.slice(1).map((v) => compareVariants(samples[0]!, v, metric)) : [];

  const topCountries: CountryReport[] = rows
    .filter((r) => r.dimension === "country")
    .map((r) => ({ country: r.country === UNKNOWN_COUNTRY ? "unknown" : r.country!, sent: Number(r.sent), clicked: Number(r.clicked), humanClicked: Number(r.human_clicked), converted: Number(r.converted) }))
    .sort((a, b) => b.sent - a.sent || (a.country < b.country ? -1 : 1))
    .slice(0, TOP_COUNTRIES);
  const daily: DayReport[] = rows
    .filter((r) => r.dimension === "day")
    .map((r) => ({
      day: r.day!,
      sent: Number(r.sent),
      opened: Number(r.opened),
      clicked: Number(r.clicked),
      humanOpened: Number(r.human_opened),
      humanClicked: Number(r.human_clicked),
      converted: Number(r.converted),
    }))
    .sort((a, b) => a.day.localeCompare(b.day));
  const rates = ratesOf(totals, deliveryReported);

  return {
    campaign: meta.campaign,
    startedAt: meta.started_at.toISOString(),
    recipients: meta.recipients,
    reportingCurrency: project.currency,
    generatedAt: now.toISOString(),
    deliveryReported,
    totals,
    rates,
    complaintRateAboveLimit: (rates.complaint ?? 0) >= COMPLAINT_RATE_LIMIT,
    revenue,
    cost,
    cpa: totals.converted > 0 ? { currency: cost.currency, minor: Math.round(cost.minor / totals.converted) } : null,
    ...returnOnSpend(revenue, cost),
    engagement: engagementReport(totals, reasonRows.rows),
    variants,
    comparisons,
    abTest: variants.length > 1 ? abTestVerdict(samples, decideBy) : null,
    topCountries,
    locales,
    daily,
  };
}

/**
 * Machine engagement by reason, and what the numbers mean: opens mostly
 * machines' (Apple Mail Privacy Protection loads every message's images)
 * inflate any open rate of all opens, which is why the rates count people's.
 */
function engagementReport(totals: ReportCounts, reasons: readonly { reason: string; opens: string; clicks: string }[]): EngagementReport {
  const unknownOpens = Math.max(0, totals.opens - totals.humanOpens - totals.machineOpens);
  const opensInflated = totals.machineOpens > totals.opens / 2;
  const notes: string[] = [];
  if (opensInflated) {
    notes.push(
      `Open rate inflated by privacy proxies: ${percent(totals.machineOpens / totals.opens)} of opens were machines' (such as Apple Mail Privacy Protection loading every message's images), so the open rate counts only people's opens and clicks.`,
    );
  }
  if (unknownOpens > 0) notes.push(`${unknownOpens} ${unknownOpens === 1 ? "open" : "opens"} could not be told apart (recorded before mk classified engagement, or with no user agent or address) and count in no rate.`);
  return {
    machineReasons: reasons.map((r) => ({ reason: r.reason, label: reasonLabel(r.reason), opens: Number(r.opens), clicks: Number(r.clicks) })),
    unknownOpens,
    opensInflated,
    note: notes.length > 0 ? notes.join(" ") : null,
  };
}

/** A reason code's label in reports; a code this runtime does not know (a newer replica's) as it is. */
function reasonLabel(reason: string): string {
  return (REASONS as Readonly<Record<string, { label: string } | undefined>>)[reason]?.label ?? reason;
}

type LocaleCountRow = Record<"locale" | "sent" | "delivered" | "opened" | "clicked" | "human_opened" | "human_clicked" | "unsubscribed" | "converted", string>;

/** The campaign's funnel and money by the locale each recipient got, most sent first. */
async function localeReports(pool: pg.Pool, name: string): Promise<LocaleReport[]> {
  const [countRows, moneyRows] = await Promise.all([
    pool.query<LocaleCountRow>(REPORT_SQL.localeCounts, [name]),
    pool.query<MoneyRow & { locale: string }>(REPORT_SQL.localeRevenue, [name]),
  ]);
  const label = (locale: string) => locale || "unknown";
  const reports = new Map<string, LocaleReport>(
    countRows.rows.map((r) => [
      label(r.locale),
      {
        locale: label(r.locale),
        sent: Number(r.sent),
        delivered: Number(r.delivered),
        opened: Number(r.opened),
        clicked: Number(r.clicked),
        humanOpened: Number(r.human_opened),
        humanClicked: Number(r.human_clicked),
        unsubscribed: Number(r.unsubscribed),
        converted: Number(r.converted),
        revenue: [],
      },
    ]),
  );
  for (const row of moneyRows.rows) {
    const locale = label(row.locale);
    if (!reports.has(locale)) reports.set(locale, { locale, sent: 0, delivered: 0, opened: 0, clicked: 0, humanOpened: 0, humanClicked: 0, unsubscribed: 0, converted: 0, revenue: [] });
    reports.get(locale)!.revenue.push(revenueLine(row));
  }
  return [...reports.values()].sort((a, b) => b.sent - a.sent || (a.locale < b.locale ? -1 : 1));
}

/** Every started campaign with its key figures, newest first. */
export async function campaignSummaries(pool: pg.Pool): Promise<CampaignSummary[]> {
  const [summaries, money] = await Promise.all([
    pool.query<Record<"campaign" | "sent" | "delivered" | "opened" | "clicked" | "human_opened" | "human_clicked" | "converted" | "complained", string> & { started_at: Date; recipients: number }>(
      REPORT_SQL.summaries,
    ),
    pool.query<MoneyRow & { campaign: string }>(REPORT_SQL.summaryRevenue),
  ]);
  return summaries.rows.map((r) => {
    const delivered = Number(r.delivered);
    const complaintRate = ratio(Number(r.complained), delivered > 0 ? delivered : Number(r.sent));
    return {
      campaign: r.campaign,
      startedAt: r.started_at.toISOString(),
      recipients: r.recipients,
      sent: Number(r.sent),
      delivered,
      opened: Number(r.opened),
      clicked: Number(r.clicked),
      humanOpened: Number(r.human_opened),
      humanClicked: Number(r.human_clicked),
      converted: Number(r.converted),
      complaintRate,
      complaintRateAboveLimit: (complaintRate ?? 0) >= COMPLAINT_RATE_LIMIT,
      revenue: money.rows.filter((m) => m.campaign === r.campaign).map(revenueLine),
    };
  });
}
