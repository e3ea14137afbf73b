import assert from "node:assert/strict";
import { setTimeout as delay } from "node:timers/promises";
import { after, describe, it } from "node:test";
import pg from "pg";
import { connectionFailure } from "../../../runtime/db/connection-failure.js";
import { withTransaction } from "../../../runtime/db/transaction.js";
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
});
