import type pg from "pg";
import { durationMs, type Topic } from "../../schemas/index.js";
import { REENTER_AFTER_PATTERN } from "../../schemas/sequence.js";
import { ConditionCompiler } from "../audiences/condition-sql.js";
import { topicFilter } from "../audiences/count.js";
import { findTopic } from "../subscribers/topics.js";
import { ApiError } from "../http/errors.js";
import { appliedAudiences } from "../state/applied.js";
import { SEQUENCE_SQL } from "./queries.js";
import { parseSequenceSpec } from "./spec.js";

/** An event just stored, as enrollment sees it. */
export interface StoredEvent {
  idempotencyKey: string;
  subscriberId: string;
  name: string;
}

/**
 * Enroll the subscribers whose new events trigger a sequence, in the
 * transaction that stores the events: an event and the enrollments it causes
 * exist together or not at all, and a re-delivered event (a key already
 * stored) never gets here. One enrollment per (sequence, event key) by a
 * unique key; by default none while the subscriber is active in the sequence
 * (a partial unique index, so concurrent ingests in other runtimes meet there
 * too); `reenter: after <d>` also waits that long after the last enrollment.
 * Who may enter: the sequence's audience, marketing consent (and to its
 * topic) unless it is transactional, and nobody suppressed.
 */
export async function enrollFromEvents(client: pg.PoolClient, events: readonly StoredEvent[], now: Date): Promise<void> {
  if (events.length === 0) return;
  const names = [...new Set(events.map((e) => e.name))];
  const locked = (await client.query<{ name: string }>(SEQUENCE_SQL.lockTriggered, [names])).rows.map((r) => r.name);
  if (locked.length === 0) return;
  const sequences = (await client.query<{ name: string; version: number; spec: unknown }>(SEQUENCE_SQL.newestVersions, [locked])).rows;

  const audiences = await appliedAudiences(client);
  const timezone = (await client.query<{ timezone: string }>(SEQUENCE_SQL.projectTimezone)).rows[0]?.timezone ?? "UTC";
  const topics = (await client.query<{ topics: Topic[] }>(SEQUENCE_SQL.projectTopics)).rows[0]?.topics ?? [];
  for (const sequence of sequences) {
    const spec = parseSequenceSpec(sequence.spec);
    const triggering = events.filter((e) => e.name === spec.trigger.event);
    if (triggering.length === 0) continue;

    const compiler = new ConditionCompiler(audiences, timezone, now);
    const name = compiler.param(sequence.name, "::text");
    const at = compiler.param(now, "::timestamptz");
    const where = ["not exists (select 1 from suppressions x where x.email = s.email)"];
    try {
      if (spec.audience !== undefined) where.push(compiler.compile({ audience: spec.audience }));
    } catch (error) {
      // An audience deleted through the API alone (mk validate stops that in a repository): nobody can be
      // checked against it, so nobody enters; the events themselves are stored all the same.
      if (error instanceof ApiError) continue;
      throw error;
    }
    if (!spec.transactional) where.push("s.consent = 'marketing'");
    if (!spec.transactional && spec.topic !== undefined) {
      // A topic the applied mk.yaml lacks (changed through the API alone): nobody can consent to it, so nobody enters.
      const topic = findTopic(topics, spec.topic);
      if (!topic) continue;
      where.push(topicFilter(compiler, topic));
    }
    const after = typeof spec.reenter === "string" ? REENTER_AFTER_PATTERN.exec(spec.reenter)?.[1] : undefined;
    if (after !== undefined) {
      where.push(
        `not exists (select 1 from enrollments p where p.sequence = ${name} and p.subscriber_id = s.id ` +
          `and p.enrolled_at > ${at} - ${compiler.param(`${durationMs(after)} milliseconds`, "::interval")})`,
      );
    }
    // By subscriber, so concurrent batches meet on the one-active index in the same order (no deadlock);
    // then in the order they came, so the first of a subscriber's triggers in a batch is the one that enrolls.
    const insert = `
      insert into enrollments (sequence, version, subscriber_id, trigger_key, exclusive, step, next_run_at, enrolled_at)
      select ${name}, ${compiler.param(sequence.version, "::int")}, s.id, e.key, ${compiler.param(spec.reenter !== true, "::boolean")}, 0, ${at}, ${at}
      from unnest(${compiler.param(triggering.map((e) => e.idempotencyKey), "::text[]")}, ${compiler.param(triggering.map((e) => e.subscriberId), "::bigint[]")})
        with ordinality as e (key, subscriber_id, position)
      join subscribers s on s.id = e.subscriber_id
      where ${where.join(" and ")}
      order by s.id, e.position
      on conflict do nothing`;
    await client.query(insert, compiler.params);
  }
}
