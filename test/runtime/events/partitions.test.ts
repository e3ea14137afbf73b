import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import pg from "pg";
import { ensureEventPartitions, MONTHS_AHEAD } from "../../../runtime/events/partitions.js";
import { freshDatabase, stopDatabase } from "../../helpers/database.js";
import { query } from "../../helpers/sending.js";

after(() => stopDatabase());

describe("monthly partitions of events", () => {
  it("creates this month and the next ones once, from any number of replicas, moving early rows out of the default partition", async () => {
    const url = await freshDatabase();
    await query(url, "insert into subscribers (email) values ('p@example.test')");
    // Events that arrived before their month had a partition sit in the default one.
    await query(
      url,
      `insert into events (subscriber_id, name, occurred_at) select 1, 'page_view', t
       from generate_series('2031-03-01T00:00:00Z'::timestamptz, '2031-04-30T00:00:00Z', interval '6 hours') as t`,
    );
    const pool = new pg.Pool({ connectionString: url, max: 8 });
    try {
      const now = new Date("2031-03-15T12:00:00Z");
      const runs = await Promise.all([ensureEventPartitions(pool, now), ensureEventPartitions(pool, now), ensureEventPartitions(pool, now)]);
      assert.deepEqual(runs.flat().sort(), ["2031-03", "2031-04", "2031-05", "2031-06"].slice(0, MONTHS_AHEAD + 1));
      assert.deepEqual(await ensureEventPartitions(pool, now), []);

      const placed = await query<{ partition: string; n: number }>(url, "select tableoid::regclass::text as partition, count(*)::int as n from events group by 1 order by 1");
      assert.deepEqual(placed, [
        { partition: "events_2031_03", n: 124 },
        { partition: "events_2031_04", n: 117 },
      ]);
      const [inserted] = await query<{ partition: string }>(url, "insert into events (subscriber_id, name, occurred_at) values (1, 'signup', '2031-05-02T00:00:00Z') returning tableoid::regclass::text as partition");
      assert.equal(inserted!.partition, "events_2031_05");
    } finally {
      await pool.end();
    }
  });
});
