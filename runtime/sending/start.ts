import type pg from "pg";
import { appliedAudiences, appliedProject } from "../state/applied.js";
import { recipientsFilter } from "../audiences/count.js";
import { ConditionCompiler } from "../audiences/condition-sql.js";
import { ApiError } from "../http/errors.js";
import { campaignReach } from "./budget.js";
import { SEND_SQL } from "./queries.js";
import { dueInstant, startsAt } from "./schedule.js";
import { snapshotCampaign, type CampaignSpec, type ProjectSpec } from "./snapshot.js";
import { withTransaction } from "../db/transaction.js";
import { findTopic } from "../subscribers/topics.js";

export interface StartedCampaign {
  campaign: string;
  recipients: number;
}

export interface StartResult {
  started: StartedCampaign[];
  /** Due campaigns this runtime cannot send (its transport is not the project's provider). */
  refused: { campaign: string; reason: string }[];
  /** Scheduled campaigns whose time has not come, with when it comes. */
  waiting: { campaign: string; startsAt: string }[];
}

interface CampaignRow {
  name: string;
  spec: CampaignSpec;
  started_at?: Date | null;
}

/**
 * Start every scheduled campaign whose time has come (`POST /v1/sends/due`).
 * Safe to call any number of times, concurrently: starts hold the state row's
 * lock (as applies do), a started campaign is never started again, and the
 * ledger's unique (campaign, subscriber) key stops any second row.
 */
export async function startDueCampaigns(pool: pg.Pool, transport: string, now = new Date()): Promise<StartResult> {
  return inStateLock(pool, async (client, serial) => {
    const project = await readProject(client);
    const campaigns = (await client.query<CampaignRow>(SEND_SQL.unstartedCampaigns)).rows;
    const result: StartResult = { started: [], refused: [], waiting: [] };
    const mismatch = providerMismatch(project, transport);
    for (const campaign of campaigns) {
      if (!campaign.spec.schedule) continue;
      const start = startsAt(campaign.spec.schedule, project.defaults.timezone);
      if (start.toMillis() > now.getTime()) {
        result.waiting.push({ campaign: campaign.name, startsAt: start.toUTC().toISO()! });
        continue;
      }
      if (mismatch) {
        result.refused.push({ campaign: campaign.name, reason: mismatch });
        continue;
      }
      result.started.push(await startCampaign(client, serial, project, campaign, now));
    }
    return result;
  });
}

/**
 * Start one campaign now, scheduled or not (`mk send <campaign>`). Starting a
 * campaign that already started does nothing and says so.
 */
export async function startCampaignNow(pool: pg.Pool, name: string, transport: string, now = new Date()): Promise<StartedCampaign & { alreadyStarted: boolean }> {
  return inStateLock(pool, async (client, serial) => {
    const campaign = (await client.query<CampaignRow>(SEND_SQL.campaign, [name])).rows[0];
    if (!campaign) throw new ApiError(404, "unknown_campaign", `no campaign "${name}" is applied; run mk apply first`);
    if (campaign.started_at) {
      const { rows } = await client.query<{ recipients: number }>("select recipients from campaign_sends where campaign = $1", [name]);
      return { campaign: name, recipients: rows[0]?.recipients ?? 0, alreadyStarted: true };
    }
    const project = await readProject(client);
    const mismatch = providerMismatch(project, transport);
    if (mismatch) throw new ApiError(409, "transport_mismatch", mismatch);
    const started = await startCampaign(client, serial, project, campaign, now);
    return { ...started, alreadyStarted: false };
  });
}

function inStateLock<T>(pool: pg.Pool, work: (client: pg.PoolClient, serial: number) => Promise<T>): Promise<T> {
  return withTransaction(pool, async (client) => {
    const serial = Number((await client.query<{ serial: string }>(SEND_SQL.lockState)).rows[0]?.serial ?? 0);
    return work(client, serial);
  });
}

/**
 * A runtime sends through its MK_TRANSPORT. The outbox takes any project's
 * mail (mk up, tests); otherwise it must be the provider mk.yaml names.
 */
function providerMismatch(project: ProjectSpec, transport: string): string | undefined {
  if (transport === "outbox" || transport === project.sending.provider) return undefined;
  return `the project sends with ${project.sending.provider} (mk.yaml sending.provider) but this runtime's MK_TRANSPORT is ${transport}`;
}

async function readProject(client: pg.PoolClient): Promise<ProjectSpec> {
  const project = await appliedProject(client);
  if (!project) throw new ApiError(409, "no_project", "nothing is applied yet; run mk apply first");
  return project;
}

/** Snapshot the campaign, then write its ledger rows in one INSERT … SELECT. */
async function startCampaign(client: pg.PoolClient, serial: number, project: ProjectSpec, campaign: CampaignRow, now: Date): Promise<StartedCampaign> {
  const spec = campaign.spec;
  const snapshot = await snapshotCampaign(client, project, campaign.name, spec);
  await client.query(SEND_SQL.recordStart, [campaign.name, serial, JSON.stringify(snapshot)]);
  await client.query(SEND_SQL.markStarted, [campaign.name]);

  // 1. When each time zone's recipients are due (luxon: DST, skipped hours, the delivery window).
  const zones = (await client.query<{ zone: string }>(SEND_SQL.zones, [project.defaults.timezone])).rows.map((r) => r.zone);
  const dues = zones.map((zone) => (spec.schedule ? dueInstant(spec.schedule, zone, project.defaults.timezone).toJSDate() : now));

  // 2. Who: audience, consent (to the topic too), geofence, suppressions; how many: the budget caps.
  const compiler = new ConditionCompiler(await appliedAudiences(client), project.defaults.timezone);
  const topic = spec.topic === undefined ? undefined : findTopic(project.topics, spec.topic);
  if (spec.topic !== undefined && !topic) throw new ApiError(409, "unknown_topic", `campaign "${campaign.name}" is about topic "${spec.topic}", which the applied mk.yaml does not define`);
  const filter = recipientsFilter(compiler, spec.audience, !spec.transactional, spec.geofence, topic);
  const reach = campaignReach(Number.MAX_SAFE_INTEGER, project.sending.pricePer1000Usd, spec.budget);
  const limit = reach.cappedBy ? reach.recipients : null;

  // 3. Which variant: a hash of campaign and subscriber into 0–99, against the cumulative weights.
  const weighted = snapshot.variants.filter((v) => v.weight > 0);
  let upTo = 0;
  const cumulative = weighted.map((v) => (upTo += v.weight));
  const bucket = () => `(('x' || substr(md5(${compiler.param(campaign.name, "::text")} || ':' || s.id), 1, 8))::bit(32)::bigint % 100)`;
  const variant =
    weighted.length === 1 && weighted[0]!.name === null
      ? "null::text"
      : `(select v.name from unnest(${compiler.param(weighted.map((v) => v.name), "::text[]")}, ${compiler.param(cumulative, "::int[]")}) as v (name, up_to) where ${bucket()} < v.up_to order by v.up_to limit 1)`;

  const insert = `
    insert into sends (campaign, subscriber_id, email, variant, timezone, due_at)
    select ${compiler.param(campaign.name, "::text")}, s.id, s.email, ${variant}, z.zone, z.due_at
    from subscribers s
    join unnest(${compiler.param(zones, "::text[]")}, ${compiler.param(dues, "::timestamptz[]")}) as z (zone, due_at)
      on z.zone = coalesce(s.timezone, ${compiler.param(project.defaults.timezone)})
    where ${filter}
    order by s.id
    limit ${compiler.param(limit, "::bigint")}
    on conflict (campaign, subscriber_id, enrollment_id, signup_id) do nothing`;
  const { rowCount } = await client.query(insert, compiler.params);
  await client.query(SEND_SQL.setRecipients, [campaign.name, rowCount ?? 0]);
  return { campaign: campaign.name, recipients: rowCount ?? 0 };
}
