import type pg from "pg";
import type { Topic } from "../../schemas/project.js";
import { withTransaction } from "../db/transaction.js";
import { SEND_SQL } from "../sending/queries.js";
import { CONSENT_SQL } from "./consent.js";
import { consentsToTopic } from "./topics.js";

/** What the preference page shows a subscriber: the whole list, then each topic. */
export interface Preferences {
  email: string;
  /** Marketing consent (subscribers.consent) and not suppressed: mail can reach them at all. */
  subscribed: boolean;
  topics: { topic: Topic; chosen: boolean }[];
}

/** What the page's form sends: the topics checked, and whether to leave everything. */
export interface PreferenceChoice {
  topics: ReadonlySet<string>;
  everything: boolean;
}

/** Who made the choice, for the consent history: the send whose link was used, the visitor's IP and user agent. */
export interface PreferenceProof {
  sendId: string;
  campaign: string;
  ip: string | null;
  userAgent: string | null;
}

const PREFERENCE_SQL = {
  /** Subscriber $1's address, whether mail reaches it at all, and its recorded topic choices. */
  state: `
    select s.email, s.consent = 'marketing' and not exists (select 1 from suppressions x where x.email = s.email) as subscribed,
           coalesce((select jsonb_object_agg(c.topic, c.granted) from consent_state c where c.subscriber_id = s.id and c.topic <> ''), '{}') as chosen
    from subscribers s where s.id = $1`,
  /** Serialises changes to subscriber $1. */
  lock: `select 1 from subscribers where id = $1 for update`,
} as const;

interface StateRow {
  email: string;
  subscribed: boolean;
  chosen: Record<string, boolean>;
}

/** Subscriber `subscriberId`'s current choices over `topics` (each chosen as its default says unless recorded); undefined when there is no such subscriber. */
export async function readPreferences(db: pg.Pool | pg.PoolClient, subscriberId: string, topics: readonly Topic[]): Promise<Preferences | undefined> {
  const row = (await db.query<StateRow>(PREFERENCE_SQL.state, [subscriberId])).rows[0];
  if (!row) return undefined;
  return { email: row.email, subscribed: row.subscribed, topics: topics.map((topic) => ({ topic, chosen: consentsToTopic(row.chosen, topic) })) };
}

/**
 * Applies a posted choice in one transaction, the subscriber locked so two
 * posts do not interleave: one consent event (source 'preference-page') per
 * topic whose state changes, nothing for the rest. "Everything" leaves the
 * whole list as the unsubscribe link does (suppression and a '' withdrawal),
 * topics unchanged. Someone no longer subscribed changes nothing here.
 * Returns the number of consent events written.
 */
export async function savePreferences(pool: pg.Pool, subscriberId: string, topics: readonly Topic[], choice: PreferenceChoice, proof: PreferenceProof): Promise<number> {
  return withTransaction(pool, async (client) => {
    await client.query(PREFERENCE_SQL.lock, [subscriberId]);
    const current = await readPreferences(client, subscriberId, topics);
    if (!current?.subscribed) return 0;
    const detail = `campaign:${proof.campaign}`;
    const record = async (sql: string, topic: string) =>
      (await client.query(sql, [subscriberId, topic, "preference-page", detail, proof.ip, proof.userAgent])).rowCount ?? 0;
    if (choice.everything) {
      await client.query(SEND_SQL.suppress, [current.email, "unsubscribe", detail]);
      const written = await record(CONSENT_SQL.withdraw, "");
      if (written) await client.query(SEND_SQL.recordEvent, [proof.sendId, "unsubscribe", JSON.stringify({ campaign: proof.campaign })]);
      return written;
    }
    let written = 0;
    for (const { topic, chosen } of current.topics) {
      const wanted = choice.topics.has(topic.name);
      if (wanted === chosen) continue;
      written += await record(wanted ? CONSENT_SQL.grant : CONSENT_SQL.withdraw, topic.name);
      if (!wanted) await client.query(SEND_SQL.recordEvent, [proof.sendId, "unsubscribe", JSON.stringify({ campaign: proof.campaign, topic: topic.name })]);
    }
    return written;
  });
}
