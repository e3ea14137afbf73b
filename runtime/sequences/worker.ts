import { randomUUID } from "node:crypto";
import type pg from "pg";
import type { Condition, Topic } from "../../schemas/index.js";
import { ConditionCompiler } from "../audiences/condition-sql.js";
import type { Clock } from "../clock.js";
import { connectionFailure } from "../db/connection-failure.js";
import type { DatabaseWatch } from "../db/database-status.js";
import { withTransaction } from "../db/transaction.js";
import { groupBy } from "../group-by.js";
import { PollingLoop } from "../polling-loop.js";
import { appliedAudiences } from "../state/applied.js";
import { consentsToTopic, findTopic } from "../subscribers/topics.js";
import type { WorkerLog } from "../sending/worker.js";
import type { SequenceMetrics } from "./metrics.js";
import { SEQUENCE_SQL } from "./queries.js";
import { parseSequenceSpec, stepKey, stepLabel, type SequenceSpec } from "./spec.js";
import { waitEnds } from "./wait.js";

export interface SequenceWorkerOptions {
  pool: pg.Pool;
  clock: Clock;
  log: WorkerLog;
  metrics?: SequenceMetrics | undefined;
  /** Told about the database's calls; the runtime's one status, so an outage is logged once (see PollingLoop). */
  database?: DatabaseWatch | undefined;
  /** Most enrollments worked in one transaction. */
  batchSize?: number;
  /** Wait between polls when nothing is due. */
  idleMs?: number;
}

interface Claimed {
  id: string;
  sequence: string;
  version: number;
  subscriber_id: string;
  step: number;
  next_run_at: Date;
}

interface Recipient {
  id: string;
  email: string;
  timezone: string | null;
  consent: string | null;
  suppressed: string | null;
  /** Topics with a recorded choice (consent_state). */
  topics: Record<string, boolean>;
}

/** An enrollment as the worker moves it along; written back once per batch. */
interface Working {
  id: string;
  sequence: string;
  version: number;
  subscriberId: string;
  step: number;
  /** When this run was due. */
  due: Date;
  status: "active" | "completed" | "exited" | "failed";
  nextRunAt: Date | null;
  exitReason: string | null;
}

interface Version {
  spec: SequenceSpec;
  /** Send steps that have a snapshot (and so a ledger key). */
  snapshots: Set<number>;
}

interface HistoryRow {
  id: string;
  version: number;
  step: number;
  kind: "send" | "wait" | "if" | "exit" | "complete";
  outcome: string;
}

/**
 * Works due enrollments: claims a batch with FOR UPDATE SKIP LOCKED and runs
 * each one's steps until it waits, exits or completes, all in one
 * transaction: the send ledger rows a send step queues, the history and the
 * enrollment's new step commit together, or (a worker killed mid-batch) not
 * at all, and the next worker runs the same steps again from the same place.
 * A step can never run twice: the ledger is unique per enrollment and step,
 * and the history per enrollment, version and step. Steps of one kind run as
 * one statement per batch (one condition query for every enrollment at an
 * `if`), so a batch costs a few queries, not a few per enrollment.
 */
export class SequenceWorker {
  readonly id = `sequence-worker-${randomUUID().slice(0, 8)}`;
  private readonly versions = new Map<string, Version>();
  private readonly batchSize: number;
  private readonly loop: PollingLoop;

  constructor(private readonly options: SequenceWorkerOptions) {
    this.batchSize = options.batchSize ?? 500;
    this.loop = new PollingLoop(() => this.runOnce(), { idleMs: options.idleMs ?? 500, log: options.log, name: "sequence worker", id: this.id, database: options.database });
  }

  /** Work until stop(). */
  start(): void {
    this.loop.start();
  }

  /** Finish the batch in hand, then stop. */
  async stop(): Promise<void> {
    await this.loop.stop();
  }

  /** One batch; returns how many enrollments it worked (0 when none was due). */
  async runOnce(): Promise<number> {
    const history: HistoryRow[] = [];
    const worked = await withTransaction(this.options.pool, async (client) => {
      const now = this.options.clock();
      const claimed = (await client.query<Claimed>(SEQUENCE_SQL.claim, [now, this.batchSize])).rows;
      if (claimed.length === 0) return [];
      const recipients = new Map(
        (await client.query<Recipient>(SEQUENCE_SQL.recipients, [[...new Set(claimed.map((c) => c.subscriber_id))]])).rows.map((r) => [r.id, r]),
      );
      const defaultZone = (await client.query<{ timezone: string }>(SEQUENCE_SQL.projectTimezone)).rows[0]?.timezone ?? "UTC";
      const topics = (await client.query<{ topics: Topic[] }>(SEQUENCE_SQL.projectTopics)).rows[0]?.topics ?? [];
      const context: BatchContext = { client, now, recipients, defaultZone, topics, history, sends: [] };

      let working: Working[] = claimed.map((c) => ({
        id: c.id,
        sequence: c.sequence,
        version: c.version,
        subscriberId: c.subscriber_id,
        step: c.step,
        due: c.next_run_at,
        status: "active",
        nextRunAt: null,
        exitReason: null,
      }));
      const all = working;
      // Each pass runs one step of every enrollment still going; a wait, an exit or the end takes it out.
      while (working.length > 0) {
        const next: Working[] = [];
        for (const group of groupBy(working, (w) => `${w.sequence}\u0000${w.version}\u0000${w.step}`).values()) {
          next.push(...(await this.runGuarded(context, group)));
        }
        working = next;
      }

      if (context.sends.length > 0) {
        const s = context.sends;
        await client.query(SEQUENCE_SQL.queueSends, [s.map((x) => x.key), s.map((x) => x.subscriberId), s.map((x) => x.email), s.map((x) => x.timezone), s.map((x) => x.enrollmentId)]);
      }
      await client.query(SEQUENCE_SQL.history, [
        history.map((h) => h.id),
        history.map((h) => h.version),
        history.map((h) => h.step),
        history.map((h) => h.kind),
        history.map((h) => h.outcome),
        history.map(() => now),
      ]);
      const ended = (w: Working) => (w.status === "active" ? null : now);
      await client.query(SEQUENCE_SQL.settle, [
        all.map((w) => w.id),
        all.map((w) => w.step),
        all.map((w) => w.status),
        all.map((w) => w.nextRunAt),
        all.map((w) => w.exitReason),
        all.map(ended),
      ]);
      return all;
    });
    if (this.options.metrics) {
      for (const [key, rows] of groupBy(history, (h) => `${h.kind}\u0000${h.kind === "send" || h.kind === "wait" ? "" : h.outcome.split(":")[0]}`)) {
        const [kind, outcome] = key.split("\u0000") as [string, string];
        this.options.metrics.steps.inc({ kind, outcome }, rows.length);
      }
    }
    return worked.length;
  }

  /**
   * runStep inside a savepoint: a step that fails for its own reasons (a
   * condition the database cannot evaluate, a wait beyond any date) fails
   * those enrollments with the reason, not the whole batch over and over.
   * Connection errors still end the batch (nothing is written; it runs again).
   */
  private async runGuarded(context: BatchContext, group: Working[]): Promise<Working[]> {
    const marks = { history: context.history.length, sends: context.sends.length, steps: group.map((w) => w.step) };
    await context.client.query("savepoint sequence_step");
    try {
      const going = await this.runStep(context, group);
      await context.client.query("release savepoint sequence_step");
      return going;
    } catch (error) {
      if (connectionFailure(error)) throw error;
      await context.client.query("rollback to savepoint sequence_step");
      context.history.length = marks.history;
      context.sends.length = marks.sends;
      group.forEach((w, i) => {
        w.step = marks.steps[i]!;
        w.status = "active";
        w.nextRunAt = null;
        w.exitReason = null;
      });
      const { sequence, version, step } = group[0]!;
      const steps = this.versions.get(`${sequence}\u0000${version}`)?.spec.steps;
      return this.fail(context, group, `${steps ? stepLabel(steps, step) : `version ${version} step ${step + 1}`}: ${(error as Error).message}`);
    }
  }

  /** One step for enrollments at the same step of the same version; returns those that go straight on. */
  private async runStep(context: BatchContext, group: Working[]): Promise<Working[]> {
    const first = group[0]!;
    const version = await this.version(context.client, first.sequence, first.version);
    const { spec } = version;
    const step = spec.steps[first.step];
    if (!step) {
      for (const w of group) {
        w.status = "completed";
        context.history.push({ id: w.id, version: w.version, step: w.step, kind: "complete", outcome: "completed" });
      }
      return [];
    }
    const label = stepLabel(spec.steps, first.step);

    if ("send" in step) {
      if (!version.snapshots.has(first.step)) return this.fail(context, group, `${label} has no snapshot to send`);
      const key = stepKey(first.sequence, first.version, first.step);
      const going: Working[] = [];
      for (const w of group) {
        const r = context.recipients.get(w.subscriberId)!;
        if (r.suppressed) this.exit(context, w, r.suppressed);
        else if (!spec.transactional && !consents(r, spec.topic, context.topics)) this.exit(context, w, "no-consent");
        else {
          context.sends.push({ key, subscriberId: w.subscriberId, email: r.email, timezone: r.timezone ?? context.defaultZone, enrollmentId: w.id });
          context.history.push({ id: w.id, version: w.version, step: w.step, kind: "send", outcome: "queued" });
          w.step += 1;
          going.push(w);
        }
      }
      return going;
    }

    if ("wait" in step) {
      for (const w of group) {
        const zone = context.recipients.get(w.subscriberId)!.timezone ?? context.defaultZone;
        // From when the step runs: after an outage the journey resumes with its waits, not all at once.
        w.nextRunAt = waitEnds(w.due > context.now ? w.due : context.now, step, zone);
        context.history.push({ id: w.id, version: w.version, step: w.step, kind: "wait", outcome: `until ${w.nextRunAt.toISOString()}` });
        w.step += 1;
      }
      return [];
    }

    // if … then: exit, against the subscribers as they are now.
    const matched = await this.evaluate(context, step.if, group.map((w) => w.subscriberId));
    const going: Working[] = [];
    for (const w of group) {
      if (matched.has(w.subscriberId)) {
        context.history.push({ id: w.id, version: w.version, step: w.step, kind: "if", outcome: "matched" });
        this.exit(context, w, `condition: ${label}`);
      } else {
        context.history.push({ id: w.id, version: w.version, step: w.step, kind: "if", outcome: "not matched" });
        w.step += 1;
        going.push(w);
      }
    }
    return going;
  }

  private exit(context: BatchContext, w: Working, reason: string): void {
    w.status = "exited";
    w.exitReason = reason;
    context.history.push({ id: w.id, version: w.version, step: w.step, kind: "exit", outcome: reason });
  }

  private fail(context: BatchContext, group: Working[], reason: string): [] {
    this.options.log.warn({ sequence: group[0]!.sequence, version: group[0]!.version, count: group.length, reason }, "sequence step failed; enrollments marked failed");
    for (const w of group) {
      w.status = "failed";
      w.exitReason = reason;
      context.history.push({ id: w.id, version: w.version, step: w.step, kind: "exit", outcome: `failed: ${reason}` });
    }
    return [];
  }

  /** Which of these subscribers match the condition at this moment (the runtime's clock). */
  private async evaluate(context: BatchContext, condition: Condition, subscriberIds: string[]): Promise<Set<string>> {
    context.audiences ??= await appliedAudiences(context.client);
    const compiler = new ConditionCompiler(context.audiences, context.defaultZone, context.now);
    const where = compiler.compile(condition);
    const sql = `select s.id from subscribers s where s.id = any(${compiler.param(subscriberIds, "::bigint[]")}) and ${where}`;
    return new Set((await context.client.query<{ id: string }>(sql, compiler.params)).rows.map((r) => r.id));
  }

  /** A version's spec and which send steps have snapshots; versions never change, so kept for good. */
  private async version(client: pg.PoolClient, sequence: string, number: number): Promise<Version> {
    const key = `${sequence}\u0000${number}`;
    let version = this.versions.get(key);
    if (!version) {
      const spec = (await client.query<{ spec: unknown }>(SEQUENCE_SQL.version, [sequence, number])).rows[0]?.spec;
      if (spec === undefined) throw new Error(`sequence "${sequence}" has no version ${number}`);
      const steps = (await client.query<{ step: number }>(SEQUENCE_SQL.stepSnapshots, [sequence, number])).rows.map((r) => r.step);
      version = { spec: parseSequenceSpec(spec), snapshots: new Set(steps) };
      this.versions.set(key, version);
    }
    return version;
  }
}

/** Marketing consent, and consent to the sequence's topic when it has one (an unknown topic: nobody). */
function consents(r: Recipient, topicName: string | undefined, topics: readonly Topic[]): boolean {
  if (r.consent !== "marketing") return false;
  if (topicName === undefined) return true;
  const topic = findTopic(topics, topicName);
  return topic !== undefined && consentsToTopic(r.topics, topic);
}

interface BatchContext {
  client: pg.PoolClient;
  now: Date;
  recipients: Map<string, Recipient>;
  defaultZone: string;
  /** The applied project's topics. */
  topics: readonly Topic[];
  history: HistoryRow[];
  sends: { key: string; subscriberId: string; email: string; timezone: string; enrollmentId: string }[];
  audiences?: Map<string, Condition | undefined>;
}
