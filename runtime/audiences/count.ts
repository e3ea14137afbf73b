import type pg from "pg";
import type { AudienceCountRequest, AudienceCountResponse, Condition, Geofence } from "../../schemas/index.js";
import { ConditionCompiler } from "./condition-sql.js";

/** Filters per query: each is one `count(*) filter (where …)` over a single scan. */
const FILTERS_PER_QUERY = 200;

/**
 * Sizes of audiences and of campaigns' recipient lists (`POST
 * /v1/audiences/count`, for plan). All the counts share one scan of the
 * subscribers per batch of filters, instead of a query each.
 */
export async function countAudiences(db: pg.Pool, request: AudienceCountRequest): Promise<AudienceCountResponse> {
  const audiences = new Map<string, Condition | undefined>(Object.entries(request.audiences).map(([name, where]) => [name, where ?? undefined]));
  const filters: { target: "audiences" | "campaigns"; name: string; build: (c: ConditionCompiler) => string }[] = [
    ...[...audiences.keys()].map((name) => ({ target: "audiences" as const, name, build: (c: ConditionCompiler) => c.compile({ audience: name }) })),
    ...request.campaigns.map((campaign) => ({
      target: "campaigns" as const,
      name: campaign.name,
      build: (c: ConditionCompiler) => recipientsFilter(c, campaign.audience, campaign.marketing, campaign.geofence),
    })),
  ];

  const result: AudienceCountResponse = { audiences: {}, campaigns: {} };
  for (let start = 0; start < filters.length; start += FILTERS_PER_QUERY) {
    const batch = filters.slice(start, start + FILTERS_PER_QUERY);
    const compiler = new ConditionCompiler(audiences, request.timezone);
    const columns = batch.map((f, i) => `count(*) filter (where ${f.build(compiler)}) as c${i}`);
    const { rows } = await db.query<Record<string, string>>(`select ${columns.join(", ")} from subscribers s`, compiler.params);
    batch.forEach((f, i) => {
      result[f.target][f.name] = Number(rows[0]?.[`c${i}`] ?? 0);
    });
  }
  return result;
}

/** Who a campaign reaches: its audience, consent for marketing mail, its geofence, and nobody suppressed. */
export function recipientsFilter(compiler: ConditionCompiler, audience: string, marketing: boolean, geofence: Geofence | undefined): string {
  const parts = [compiler.compile({ audience }), "not exists (select 1 from suppressions x where x.email = s.email)"];
  if (marketing) parts.push("s.consent = 'marketing'");
  if (geofence?.countries) parts.push(compiler.listOrValue("s.country", geofence.countries));
  if (geofence?.timezones) parts.push(compiler.compile({ timezone: geofence.timezones }));
  return parts.join(" and ");
}
