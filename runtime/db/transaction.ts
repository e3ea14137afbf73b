import type pg from "pg";

/** Run `work` in one transaction on a pooled client: committed when it returns, rolled back when it throws. */
export async function withTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  // A connection lost mid-transaction (a database restart) also emits "error" on the client, which the
  // pool does not listen for while it is lent out: unheard, it would crash the process. The query in
  // flight rejects with it all the same.
  let lost: Error | undefined;
  const onError = (error: Error) => (lost = error);
  client.on("error", onError);
  try {
    await client.query("begin");
    const result = await work(client);
    await client.query("commit");
    return result;
  } catch (error) {
    // On a lost connection the rollback fails too; the error worth reporting is the first.
    await client.query("rollback").catch((rollbackError: Error) => (lost ??= rollbackError));
    throw error;
  } finally {
    client.removeListener("error", onError);
    // A broken client is closed, not handed to the next caller.
    client.release(lost);
  }
}

/** PostgreSQL's deadlock_detected. */
const DEADLOCK = "40P01";

/**
 * withTransaction, tried again (up to `attempts` in all) when PostgreSQL
 * breaks a deadlock by rolling this transaction back: the whole of `work`
 * runs again, so it must hold nothing over from a try but what it reads
 * afresh. For work that takes its locks in an order concurrent work cannot
 * share — an erasure cascading through every table a subscriber has rows in,
 * two imports of overlapping files.
 */
export async function withRetriedTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await withTransaction(pool, work);
    } catch (error) {
      if ((error as { code?: string }).code !== DEADLOCK || attempt >= attempts) throw error;
    }
  }
}
