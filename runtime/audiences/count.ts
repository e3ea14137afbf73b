import type pg from "pg";
import { ConditionSizes, type AudienceCountRequest, type AudienceCountResponse, type Condition, type Geofence } from "../../schemas/index.js";
import { ApiError } from "../http/errors.js";
import { resolveLocale } from "../locales/chain.js";
import type { TopicRule } from "../subscribers/topics.js";
import { ConditionCompiler, tooLarge } from "./condition-sql.js";

/** Filters per query: each is one `count(*) filter (where …)` over a single scan. */
const FILTERS_PER_QUERY = 200;
/** SQL parameters per query, below PostgreSQL's 65,535. */
const PARAMETERS_PER_QUERY = 60_000;
/** Condition nodes of every count of one request together, audiences expanded (README, "Limits"). */
export const MAX_COUNT_NODES = 250_000;

interface Filter {
  target: "audiences" | "campaigns" | "topics";
  name: string;
  parameters: number;
  build: (c: ConditionCompiler) => string;
}

/**
 * Sizes of audiences and of campaigns' recipient lists (`POST
 * /v1/audiences/count`, for plan). All the counts share one scan of the
 * subscribers per batch of filters, instead of a query each. Every
 * audience's size once expanded is checked first, and so is the whole
 * request's, without expanding anything.
 */
export async function countAudiences(db: pg.Pool, request: AudienceCountRequest): Promise<AudienceCountResponse> {
  const audiences = new Map<string, Condition | undefined>(Object.entries(request.audiences).map(([name, where]) => [name, where ?? undefined]));
  const filters = countFilters(request, audiences);

  const result: Required<Omit<AudienceCountResponse, "campaignLocales">> = { audiences: {}, campaigns: {}, topics: {} };
  const byLocale = request.locales ? new LocaleSplit(request.locales, request.campaigns) : undefined;
  for (const batch of batches(filters)) {
    const compiler = new ConditionCompiler(audiences, request.timezone);
    const columns = batch.map((f, i) => `count(*) filter (where ${f.build(compiler)}) as c${i}`);
    // With locales, the same scan grouped by the subscribers' own locale: the totals are the groups' sums.
    const sql = byLocale ? `select s.locale, ${columns.join(", ")} from subscribers s group by s.locale` : `select ${columns.join(", ")} from subscribers s`;
    const { rows } = await db.query<Record<string, string | null>>(sql, compiler.params);
    batch.forEach((f, i) => {
      result[f.target][f.name] = rows.reduce((sum, row) => sum + Number(row[`c${i}`] ?? 0), 0);
      if (f.target === "campaigns") for (const row of rows) byLocale?.add(f.name, row["locale"] ?? null, Number(row[`c${i}`] ?? 0));
    });
  }
  return byLocale ? { ...result, campaignLocales: byLocale.counts } : result;
}

/**
 * Campaign reach by the locale each recipient would get: the first of its
 * fallback chain over the request's locales (the repository's, which may
 * not be applied yet), as a send resolves it. Every supported locale is
 * listed, in mk.yaml's order, zero when nobody gets it.
 */
class LocaleSplit {
  readonly counts: Record<string, Record<string, number>> = {};
  private readonly resolved = new Map<string | null, string>();

  constructor(
    private readonly locales: NonNullable<AudienceCountRequest["locales"]>,
    campaigns: AudienceCountRequest["campaigns"],
  ) {
    for (const campaign of campaigns) this.counts[campaign.name] = Object.fromEntries(locales.supported.map((code) => [code, 0]));
  }

  add(campaign: string, raw: string | null, count: number): void {
    if (count === 0) return;
    let code = this.resolved.get(raw);
    if (code === undefined) {
      code = resolveLocale(raw, this.locales.supported, this.locales.default);
      this.resolved.set(raw, code);
    }
    const counts = (this.counts[campaign] ??= {});
    counts[code] = (counts[code] ?? 0) + count;
  }
}

/** One filter per audience and per campaign, sized; a 400 naming the field when one, or all of them together, is too large. */
function countFilters(request: AudienceCountRequest, audiences: ReadonlyMap<string, Condition | undefined>): Filter[] {
  const sizes = new ConditionSizes(audiences);
  for (const name of audiences.keys()) {
    const excess = tooLarge(sizes, audiences, { audience: name });
    if (excess) throw new ApiError(400, "condition_too_large", excess, [{ path: `audiences.${name}`, message: excess }]);
  }
  const sized = (audience: string, extra = 0) => {
    const size = audiences.has(audience) ? sizes.ofAudience(audience) : { nodes: 1, parameters: 0 };
    return { nodes: size.nodes + extra, parameters: size.parameters + extra };
  };
  const filters = [
    ...[...audiences.keys()].map((name) => ({ target: "audiences" as const, name, ...sized(name), build: (c: ConditionCompiler) => c.compile({ audience: name }) })),
    ...request.campaigns.map((campaign) => ({
      target: "campaigns" as const,
      name: campaign.name,
      // The geofence: a country list and a time zone test at most.
      ...sized(campaign.audience, 3),
      build: (c: ConditionCompiler) => recipientsFilter(c, campaign.audience, campaign.marketing, campaign.geofence, campaign.topic),
    })),
    // A topic's reach: who marketing mail about it may go to, anywhere in the list.
    ...(request.topics ?? []).map((topic) => ({
      target: "topics" as const,
      name: topic.name,
      nodes: 3,
      parameters: 1,
      build: (c: ConditionCompiler) => `s.consent = 'marketing' and not exists (select 1 from suppressions x where x.email = s.email) and ${topicFilter(c, topic)}`,
    })),
  ];
  const total = filters.reduce((sum, f) => sum + f.nodes, 0);
  if (total > MAX_COUNT_NODES) {
    const message = `the counts of this request expand to ${total.toLocaleString("en-US")} condition nodes together, more than the ${MAX_COUNT_NODES.toLocaleString("en-US")} allowed; count fewer audiences and campaigns at once`;
    throw new ApiError(400, "condition_too_large", message, [{ path: "audiences", message }]);
  }
  return filters;
}

/** Filters in query-sized batches: at most FILTERS_PER_QUERY, and PARAMETERS_PER_QUERY parameters. */
function* batches(filters: readonly Filter[]): Generator<Filter[]> {
  let batch: Filter[] = [];
  let parameters = 0;
  for (const filter of filters) {
    if (batch.length === FILTERS_PER_QUERY || (batch.length > 0 && parameters + filter.parameters > PARAMETERS_PER_QUERY)) {
      yield batch;
      batch = [];
      parameters = 0;
    }
    batch.push(filter);
    parameters += filter.parameters;
  }
  if (batch.length > 0) yield batch;
}

/**
 * Whether subscriber `s` consents to a topic (consent_state, migration
 * 000014): of an opt-out topic, unless they left it; of an opt-in one, only
 * when they chose it (as subscribers/topics.ts consentsToTopic).
 */
export function topicFilter(compiler: ConditionCompiler, topic: TopicRule): string {
  const name = compiler.param(topic.name, "::text");
  return topic.default === "opt-in"
    ? `exists (select 1 from consent_state c where c.subscriber_id = s.id and c.topic = ${name} and c.granted)`
    : `not exists (select 1 from consent_state c where c.subscriber_id = s.id and c.topic = ${name} and not c.granted)`;
}

/** Who a campaign reaches: its audience, consent for marketing mail (and to its topic), its geofence, and nobody suppressed. */
export function recipientsFilter(compiler: ConditionCompiler, audience: string, marketing: boolean, geofence: Geofence | undefined, topic?: TopicRule): string {
  const parts = [compiler.compile({ audience }), "not exists (select 1 from suppressions x where x.email = s.email)"];
  if (marketing) parts.push("s.consent = 'marketing'");
  if (marketing && topic) parts.push(topicFilter(compiler, topic));
  if (geofence?.countries) parts.push(compiler.listOrValue("s.country", geofence.countries));
  if (geofence?.timezones) parts.push(compiler.compile({ timezone: geofence.timezones }));
  return parts.join(" and ");
}
