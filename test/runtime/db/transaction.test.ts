import assert from "node:assert/strict";
import { setTimeout as delay } from "node:timers/promises";
import { after, describe, it } from "node:test";
import pg from "pg";
import { connectionFailure } from "../../../runtime/db/connection-failure.js";
import { withRetriedTransaction, withTransaction } from "../../../runtime/db/transaction.js";
import { freshDatabase, stopDatabase } from "../../helpers/database.js";
import { query } from "../../helpers/sending.js";

after(() => stopDatabase(), { timeout: 30_000 });

describe("withTransaction", { timeout: 60_000 }, () => {
  it("reports a connection cut mid-transaction as the work's error, not a crash, and the pool carries on", { timeout: 30_000 }, async () => {
    const url = await freshDatabase();
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    try {
      const failed = withTransaction(pool, async (client) => {
        const { pid } = (await client.query<{ pid: number }>("select pg_backend_pid() as pid")).rows[0]!;
        // Cut while no query runs: pg emits "error" on the lent-out client, which nobody but withTransaction hears.
        await query(url, "select pg_terminate_backend($1)", [pid]);
        await delay(300);
        await client.query("select 1");
      });
      await assert.rejects(failed, (error) => connectionFailure(error) !== undefined);
      assert.equal((await pool.query<{ one: number }>("select 1 as one")).rows[0]!.one, 1, "the broken connection was replaced");
    } finally {
      await pool.end();
    }
  });

  it("withRetriedTransaction runs the work again when PostgreSQL picks it to break a real deadlock, and not for other errors", { timeout: 30_000 }, async () => {
    const url = await freshDatabase();
    await query(url, "create table deadlock_demo (id int primary key, v int not null); insert into deadlock_demo values (1, 0), (2, 0)");
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    try {
      // The other transaction holds row 1 and is slow to look for deadlocks, so ours (100 ms) is the one rolled back.
      await other.query("set deadlock_timeout = '10s'");
      await other.query("begin");
      await other.query("update deadlock_demo set v = v + 1 where id = 1");
      const otherPid = (await other.query<{ pid: number }>("select pg_backend_pid() as pid")).rows[0]!.pid;
      let attempts = 0;
      let otherDone: Promise<unknown> | undefined;
      await withRetriedTransaction(pool, async (client) => {
        attempts++;
        await client.query("set local deadlock_timeout = '100ms'");
        await client.query("update deadlock_demo set v = v + 10 where id = 2");
        if (attempts === 1) {
          // The other now waits for our row 2, and commits as soon as it has it.
          otherDone = other.query("update deadlock_demo set v = v + 1 where id = 2").then(() => other.query("commit"));
          while ((await query(url, "select wait_event_type from pg_stat_activity where pid = $1", [otherPid]))[0]?.wait_event_type !== "Lock") await delay(20);
        }
        await client.query("update deadlock_demo set v = v + 10 where id = 1");
      });
      await otherDone;
      assert.equal(attempts, 2, "rolled back once by the deadlock, then done");
      assert.deepEqual(await query(url, "select id, v from deadlock_demo order by id"), [{ id: 1, v: 11 }, { id: 2, v: 11 }], "each transaction's work counted once");

      let tries = 0;
      await assert.rejects(
        withRetriedTransaction(pool, async (client) => {
          tries++;
          await client.query("insert into deadlock_demo values (1, 0)");
        }),
        { code: "23505" },
      );
      assert.equal(tries, 1, "any other error is the caller's");
    } finally {
      await other.end();
      await pool.end();
    }
  });
});
