import type pg from "pg";
import type { Condition } from "../../schemas/index.js";
import { references } from "../../schemas/condition-size.js";
import { appliedAudiences, appliedProject } from "../state/applied.js";
import { ApiError } from "../http/errors.js";
import { campaignReach } from "./budget.js";
import { chunkInsert, fillLedger, START_CHUNK, type RecipientPlan } from "./ledger-fill.js";
import { SEND_SQL } from "./queries.js";
import { startsAt } from "./schedule.js";
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
 * Safe to call any number of times, concurrently: starts are recorded under
 * the state row's lock (as applies are), a started campaign is never started
 * again, and the ledger's unique (campaign, subscriber) key stops any second
 * row. The ledgers are written after the lock is let go (fillLedger).
 */
export async function startDueCampaigns(pool: pg.Pool, transport: string, now = new Date()): Promise<StartResult> {
  const { result, recorded } = await inStateLock(pool, async (client, serial) => {
    const project = await readProject(client);
    const campaigns = (await client.query<CampaignRow>(SEND_SQL.unstartedCampaigns)).rows;
    const result: StartResult = { started: [], refused: [], waiting: [] };
    const recorded: string[] = [];
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
      await recordStart(client, serial, project, campaign, now);
      recorded.push(campaign.name);
    }
    return { result, recorded };
  });
  for (const campaign of recorded) result.started.push({ campaign, recipients: await fillLedger(pool, campaign) });
  return result;
}

/**
 * Start one campaign now, scheduled or not (`mk send <campaign>`). Starting a
 * campaign that already started does nothing and says so (after finishing
 * its ledger, if a start cut short left some of it unwritten).
 */
export async function startCampaignNow(pool: pg.Pool, name: string, transport: string, now = new Date(), chunkSize = START_CHUNK): Promise<StartedCampaign & { alreadyStarted: boolean }> {
  const alreadyStarted = await inStateLock(pool, async (client, serial) => {
    const campaign = (await client.query<CampaignRow>(SEND_SQL.campaign, [name])).rows[0];
    if (!campaign) throw new ApiError(404, "unknown_campaign", `no campaign "${name}" is applied; run mk apply first`);
    if (campaign.started_at) return true;
    const project = await readProject(client);
    const mismatch = providerMismatch(project, transport);
    if (mismatch) throw new ApiError(409, "transport_mismatch", mismatch);
    await recordStart(client, serial, project, campaign, now);
    return false;
  });
  return { campaign: name, recipients: await fillLedger(pool, name, chunkSize), alreadyStarted };
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

/**
 * Inside the state lock: fix the campaign (its snapshot) and how its
 * recipients are chosen (the plan: its audiences as applied now, consent,
 * topic, geofence, budget cap, variants), and mark it started. Refusals
 * (a missing template, an unknown topic, a condition that cannot compile)
 * come from here, so nothing is recorded for them.
 */
async function recordStart(client: pg.PoolClient, serial: number, project: ProjectSpec, campaign: CampaignRow, now: Date): Promise<void> {
  const spec = campaign.spec;
  const snapshot = await snapshotCampaign(client, project, campaign.name, spec);
  const topic = spec.topic === undefined ? undefined : findTopic(project.topics, spec.topic);
  if (spec.topic !== undefined && !topic) throw new ApiError(409, "unknown_topic", `campaign "${campaign.name}" is about topic "${spec.topic}", which the applied mk.yaml does not define`);
  const startedAt = (await client.query<{ started_at: Date }>(SEND_SQL.recordStart, [campaign.name, serial, JSON.stringify(snapshot)])).rows[0]!.started_at;
  await client.query(SEND_SQL.markStarted, [campaign.name]);

  const reach = campaignReach(Number.MAX_SAFE_INTEGER, project.sending.pricePer1000Usd, spec.budget);
  let upTo = 0;
  const plan: RecipientPlan = {
    audience: spec.audience,
    audiences: audiencesOf(await appliedAudiences(client), spec.audience),
    marketing: !spec.transactional,
    geofence: spec.geofence,
    topic: topic && { name: topic.name, default: topic.default },
    timezone: project.defaults.timezone,
    schedule: spec.schedule,
    startedAt: now.toISOString(),
    eventsAt: startedAt.toISOString(),
    limit: reach.cappedBy ? reach.recipients : null,
    variants: snapshot.variants.filter((v) => v.weight > 0).map((v) => ({ name: v.name, upTo: (upTo += v.weight) })),
  };
  // Compiled once here, so a condition the runtime refuses refuses the start.
  chunkInsert(campaign.name, plan, { after: "0", upTo: "0", limit: null }, new Map());
  await client.query(SEND_SQL.recordStartPlan, [campaign.name, JSON.stringify(plan)]);
}

/** `audience` and every applied audience it refers to, however deep (unknown ones are left for the compiler to refuse). */
function audiencesOf(applied: ReadonlyMap<string, Condition | undefined>, audience: string): Record<string, Condition | null> {
  const found = new Map<string, Condition | null>();
  for (const pending = [audience]; pending.length > 0; ) {
    const name = pending.pop()!;
    if (found.has(name) || !applied.has(name)) continue;
    const where = applied.get(name);
    found.set(name, where ?? null);
    pending.push(...references(where));
  }
  return Object.fromEntries(found);
}
