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
