import type pg from "pg";

/** Months ahead of the current one that always have their partition. */
export const MONTHS_AHEAD = 3;

/**
 * Make sure events has a partition for this month and the next MONTHS_AHEAD
 * (mk_ensure_event_partition, in the migrations). Safe to run from every
 * replica at once; returns the months it created.
 */
export async function ensureEventPartitions(pool: pg.Pool, now = new Date()): Promise<string[]> {
  const created: string[] = [];
  for (let ahead = 0; ahead <= MONTHS_AHEAD; ahead++) {
    const month = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + ahead, 1));
    const { rows } = await pool.query<{ created: boolean }>("select mk_ensure_event_partition($1::date) as created", [month.toISOString().slice(0, 10)]);
    if (rows[0]?.created) created.push(month.toISOString().slice(0, 7));
  }
  return created;
}

/** Record how long tax records are kept, for mk_detach_event_partition to enforce. */
export async function setRetention(pool: pg.Pool, years: number): Promise<void> {
  await pool.query("update retention set years = $1", [years]);
}
