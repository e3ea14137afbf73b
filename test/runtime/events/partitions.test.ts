import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import pg from "pg";
import { ensureEventPartitions, MONTHS_AHEAD, setRetention } from "../../../runtime/events/partitions.js";
import { freshDatabase, stopDatabase } from "../../helpers/database.js";
import { query } from "../../helpers/sending.js";

after(() => stopDatabase(), { timeout: 120_000 });

describe("monthly partitions of events", { timeout: 180_000 }, () => {
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

  it("detaches an old month only once its purchases and refunds are past the retention period", async () => {
    const url = await freshDatabase();
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    try {
      await query(url, "insert into subscribers (email) values ('r@example.test')");
      const twoYearsAgo = new Date(Date.UTC(new Date().getUTCFullYear() - 2, 0, 15));
      const lastYear = new Date(Date.UTC(new Date().getUTCFullYear() - 1, 0, 15));
      await ensureEventPartitions(pool, twoYearsAgo);
      await ensureEventPartitions(pool, lastYear);
      await query(url, "insert into events (subscriber_id, name, occurred_at, amount_minor, currency) values (1, 'purchase', $1, 1000, 'THB')", [twoYearsAgo]);
      await query(url, "insert into events (subscriber_id, name, occurred_at) values (1, 'page_view', $1)", [lastYear]);
      const month = (d: Date) => `events_${d.toISOString().slice(0, 7).replace("-", "_")}`;

      await setRetention(pool, 10);
      await assert.rejects(query(url, "select mk_detach_event_partition($1)", [twoYearsAgo]), new RegExp(`${month(twoYearsAgo)} holds purchases or refunds, kept for 10 years`));
      assert.deepEqual(await query(url, "select mk_detach_event_partition($1) as detached", [lastYear]), [{ detached: month(lastYear) }], "a month of page views can go");
      await setRetention(pool, 1);
      assert.deepEqual(await query(url, "select mk_detach_event_partition($1) as detached", [twoYearsAgo]), [{ detached: month(twoYearsAgo) }], "past a 1-year retention, it can go");
      await assert.rejects(query(url, "select mk_detach_event_partition('1990-01-01')"), /there is no partition events_1990_01 to detach/);
    } finally {
      await pool.end();
    }
  });
});
