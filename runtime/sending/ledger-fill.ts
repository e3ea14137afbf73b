import type pg from "pg";
import type { Condition, Geofence, Schedule } from "../../schemas/index.js";
import { recipientsFilter } from "../audiences/count.js";
import { ConditionCompiler } from "../audiences/condition-sql.js";
import type { TopicRule } from "../subscribers/topics.js";
import { SEND_SQL } from "./queries.js";
import { dueInstant } from "./schedule.js";

/**
 * Subscribers considered per chunk: each chunk is one transaction of its own
 * (its rows and its progress), so workers send the first chunks while later
 * ones are written, and a start cut short loses at most one chunk's work.
 */
export const START_CHUNK = 20_000;

/** How a start chooses its recipients, fixed when it is recorded (campaign_starts.plan): later applies change none of it. */
export interface RecipientPlan {
  audience: string;
  /** The applied audiences `audience` refers to, itself included, as they were at the start (null: everyone). */
  audiences: Record<string, Condition | null>;
  /** Marketing mail: only subscribers with marketing consent (and consent to `topic`). */
  marketing: boolean;
  geofence?: Geofence | undefined;
  topic?: TopicRule | undefined;
  /** The project's time zone, for subscribers without one. */
  timezone: string;
  schedule?: Schedule | undefined;
  /** When the sends of a campaign without a schedule are due: the start's instant. */
  startedAt: string;
  /** The instant `event … within` conditions count back from: the database's clock when the start was recorded. */
  eventsAt: string;
  /** At most this many recipients (the budget's cap), the first by subscriber id; null: no cap. */
  limit: number | null;
  /** The variants with a weight, each with the cumulative weight it reaches (a bucket below it and above the previous one's). */
  variants: { name: string | null; upTo: number }[];
}

interface StartRow {
  plan: RecipientPlan;
  after_id: string;
  through_id: string;
  recipients: number;
}

/** The SQL of one chunk: the campaign's recipients among subscribers after_id < id ≤ upTo, inserted into the ledger. */
export function chunkInsert(campaign: string, plan: RecipientPlan, range: { after: string; upTo: string; limit: number | null }, dues: ReadonlyMap<string, Date>): { text: string; values: unknown[] } {
  // 1. Who: audience, consent (to the topic too), geofence, suppressions.
  const audiences = new Map(Object.entries(plan.audiences).map(([name, where]) => [name, where ?? undefined]));
  const compiler = new ConditionCompiler(audiences, plan.timezone, new Date(plan.eventsAt));
  const filter = recipientsFilter(compiler, plan.audience, plan.marketing, plan.geofence, plan.topic);

  // 2. Which variant: a hash of campaign and subscriber into 0–99, against the cumulative weights.
  const bucket = () => `(('x' || substr(md5(${compiler.param(campaign, "::text")} || ':' || s.id), 1, 8))::bit(32)::bigint % 100)`;
  const variant =
    plan.variants.length === 1 && plan.variants[0]!.name === null
      ? "null::text"
      : `(select v.name from unnest(${compiler.param(plan.variants.map((v) => v.name), "::text[]")}, ${compiler.param(plan.variants.map((v) => v.upTo), "::int[]")}) as v (name, up_to) where ${bucket()} < v.up_to order by v.up_to limit 1)`;

  // 3. When: each time zone's due instant (luxon), joined on the subscriber's zone.
  const text = `
    insert into sends (campaign, subscriber_id, email, variant, timezone, due_at)
    select ${compiler.param(campaign, "::text")}, s.id, s.email, ${variant}, z.zone, z.due_at
    from subscribers s
    join unnest(${compiler.param([...dues.keys()], "::text[]")}, ${compiler.param([...dues.values()], "::timestamptz[]")}) as z (zone, due_at)
      on z.zone = coalesce(s.timezone, ${compiler.param(plan.timezone)})
    where s.id > ${compiler.param(range.after, "::bigint")} and s.id <= ${compiler.param(range.upTo, "::bigint")} and ${filter}
    order by s.id
    limit ${compiler.param(range.limit, "::bigint")}
    on conflict (campaign, subscriber_id, enrollment_id, signup_id, message_key) do nothing`;
  return { text, values: compiler.params };
}

/**
 * Write the next chunk of a start's ledger, in one transaction: its progress
 * row is locked first (so two writers take turns, each after the other's
 * chunk), then the rows of the next `chunkSize` subscribers' recipients, the
 * id reached and the recipient count. Returns the rows written, or undefined
 * when the start has no chunk left.
 */
async function writeChunk(client: pg.ClientBase, campaign: string, chunkSize: number, dues: Map<string, Date>): Promise<number | undefined> {
  await client.query("begin");
  try {
    const start = (await client.query<StartRow>(SEND_SQL.lockStart, [campaign])).rows[0];
    if (!start) {
      await client.query("commit");
      return undefined;
    }
    const { plan } = start;
    const left = plan.limit === null ? null : Math.max(0, plan.limit - start.recipients);
    const upTo = (await client.query<{ id: string }>(SEND_SQL.chunkEnd, [start.after_id, start.through_id, chunkSize - 1])).rows[0]?.id ?? start.through_id;
    let written = 0;
    if (left !== 0 && BigInt(upTo) > BigInt(start.after_id)) {
      const zones = (await client.query<{ zone: string }>(SEND_SQL.chunkZones, [plan.timezone, start.after_id, upTo])).rows.map((r) => r.zone);
      for (const zone of zones) if (!dues.has(zone)) dues.set(zone, plan.schedule ? dueInstant(plan.schedule, zone, plan.timezone).toJSDate() : new Date(plan.startedAt));
      const chunkDues = new Map(zones.map((zone) => [zone, dues.get(zone)!]));
      written = (await client.query(chunkInsert(campaign, plan, { after: start.after_id, upTo, limit: left }, chunkDues))).rowCount ?? 0;
    }
    const finished = upTo === start.through_id || (left !== null && written >= left);
    await client.query(SEND_SQL.advanceStart, [campaign, upTo, finished]);
    await client.query(SEND_SQL.addRecipients, [campaign, written]);
    await client.query("commit");
    return written;
  } catch (error) {
    await client.query("rollback").catch(() => {});
    throw error;
  }
}

/** A subscriber deleted (erased) while its chunk was written: the chunk's foreign key check fails, and the chunk is written again without them. */
const FOREIGN_KEY_VIOLATION = "23503";
const CHUNK_ATTEMPTS = 3;

/** Chunks until the start is written (or `signal` aborts); returns how many chunks it wrote. */
async function writeChunks(client: pg.ClientBase, campaign: string, chunkSize: number, signal?: AbortSignal): Promise<number> {
  const dues = new Map<string, Date>();
  let chunks = 0;
  for (let attempt = 1; !signal?.aborted; ) {
    try {
      if ((await writeChunk(client, campaign, chunkSize, dues)) === undefined) break;
      chunks++;
      attempt = 1;
      // Workers claim the queue in due order through sends_due; on statistics from before these rows the planner
      // sorts every queued row for each claim instead, until autovacuum analyzes the table (a minute or more).
      if (chunks === 1) await client.query(SEND_SQL.analyzeLedger);
    } catch (error) {
      if ((error as { code?: string }).code !== FOREIGN_KEY_VIOLATION || attempt++ >= CHUNK_ATTEMPTS) throw error;
    }
  }
  return chunks;
}

/**
 * On a client of its own, with a connection lost mid-way closed rather than
 * handed back (see db/transaction.ts), and the start's advisory lock held
 * around `work`: one writer per start in any number of replicas.
 */
async function withStartLock<T>(pool: pg.Pool, campaign: string, wait: boolean, work: (client: pg.PoolClient) => Promise<T>): Promise<T | undefined> {
  const client = await pool.connect();
  let lost: Error | undefined;
  const onError = (error: Error) => (lost = error);
  client.on("error", onError);
  try {
    if (wait) await client.query(SEND_SQL.waitStartLock, [campaign]);
    else if (!(await client.query<{ locked: boolean }>(SEND_SQL.tryStartLock, [campaign])).rows[0]!.locked) return undefined;
    try {
      return await work(client);
    } finally {
      await client.query(SEND_SQL.unlockStart, [campaign]).catch((error: Error) => (lost ??= error));
    }
  } catch (error) {
    lost ??= error as Error;
    throw error;
  } finally {
    client.removeListener("error", onError);
    client.release(lost);
  }
}

/**
 * Write the ledger of a recorded start to the end, after whoever is writing
 * it now (waiting for them), and return its recipients. A campaign whose
 * start is written already just answers its count.
 */
export async function fillLedger(pool: pg.Pool, campaign: string, chunkSize = START_CHUNK): Promise<number> {
  return (await withStartLock(pool, campaign, true, async (client) => {
    await writeChunks(client, campaign, chunkSize);
    return (await client.query<{ recipients: number }>(SEND_SQL.startRecipients, [campaign])).rows[0]?.recipients ?? 0;
  }))!;
}

/**
 * Finish every start that nobody is writing (its writer died: a runtime
 * killed mid-start, a lost connection); the runtime's loop calls it at
 * start-up and then every few seconds. Returns the chunks it wrote.
 */
export async function resumeStarts(pool: pg.Pool, signal?: AbortSignal, chunkSize = START_CHUNK): Promise<number> {
  let chunks = 0;
  for (const { campaign } of (await pool.query<{ campaign: string }>(SEND_SQL.unfinishedStarts)).rows) {
    if (signal?.aborted) break;
    chunks += (await withStartLock(pool, campaign, false, (client) => writeChunks(client, campaign, chunkSize, signal))) ?? 0;
  }
  return chunks;
}
