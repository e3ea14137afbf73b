import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { stopDatabase, freshDatabase } from "../../helpers/database.js";
import { FALLBACK_SHARE } from "../../../runtime/sending/rate-limit.js";
import { startRedis } from "../../helpers/redis.js";
import { startRuntime } from "../../helpers/runtime.js";
import { addSubscribers, applyCampaigns, query } from "../../helpers/sending.js";

after(() => stopDatabase(), { timeout: 120_000 });

const RATE = 40;

async function sentAt(databaseUrl: string): Promise<number[]> {
  const rows = await query<{ t: number }>(databaseUrl, "select extract(epoch from created_at)::float8 as t from outbox order by created_at");
  return rows.map((r) => r.t);
}

/** A campaign applied to a fresh database, then two runtimes with send workers on it and one Redis. */
async function twoRuntimes(campaign: string, recipients: number) {
  const redis = await startRedis();
  const databaseUrl = await freshDatabase();
  await addSubscribers(databaseUrl, recipients);
  const admin = await startRuntime({}, databaseUrl);
  await applyCampaigns(admin, [{ name: campaign }], { maxPerSecond: RATE });
  await admin.close();
  const settings = { MK_WORKERS: "2", REDIS_URL: redis.url };
  const a = await startRuntime(settings, databaseUrl);
  const b = await startRuntime(settings, databaseUrl);
  const close = async () => {
    await a.close();
    await b.close();
    await redis.stop();
  };
  return { redis, databaseUrl, a, b, close };
}

describe("two runtimes, one PostgreSQL, one Redis", { timeout: 420_000 }, () => {
  it(`share sending.maxPerSecond (${RATE}/s) and never send a message twice`, { timeout: 120_000 }, async (t) => {
    const recipients = RATE * 6;
    const { databaseUrl, a, b, close } = await twoRuntimes("shared", recipients);
    try {
      await Promise.all([a.api("/v1/sends/start", { body: { campaign: "shared" } }), b.api("/v1/sends/start", { body: { campaign: "shared" } })]);

      const deadline = Date.now() + 60_000;
      while ((await sentAt(databaseUrl)).length < recipients && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
      const times = await sentAt(databaseUrl);
      assert.equal(times.length, recipients);

      // Sends over whole seconds from the first, and in the busiest second.
      const first = times[0]!;
      const seconds = Math.floor(times.at(-1)! - first);
      const rate = times.filter((time) => time < first + seconds).length / seconds;
      const busiest = Math.max(...times.map((start) => times.filter((time) => time >= start && time < start + 1).length));
      t.diagnostic(`combined rate ${rate.toFixed(1)}/s, busiest second ${busiest}, for a limit of ${RATE}/s over ${(times.at(-1)! - first).toFixed(1)} s`);
      assert.ok(rate <= RATE * 1.1 && rate >= RATE * 0.9, `rate ${rate.toFixed(1)}/s`);
      // A full bucket may go at once (a tenth of the rate); commit times add a little jitter.
      assert.ok(busiest <= RATE * 1.2, `busiest second ${busiest}`);

      const [counts] = await query<{ rows: number; recipients: number; workers: number }>(
        databaseUrl,
        "select count(*)::int as rows, count(distinct recipient)::int as recipients, (select count(distinct leased_by)::int from sends) as workers from outbox",
      );
      assert.deepEqual({ rows: counts!.rows, recipients: counts!.recipients }, { rows: recipients, recipients });
      assert.ok(counts!.workers >= 3, `workers of both runtimes took part (${counts!.workers})`);
    } finally {
      await close();
    }
  });

  it("keep sending at a conservative local rate while Redis is down, and share the limit again when it is back", {
    timeout: 120_000,
    skip: process.env["MK_TEST_REDIS_URL"] ? "Redis is CI's service container here; the test needs to stop and start its own" : false,
  }, async (t) => {
    const recipients = 240;
    const { redis, databaseUrl, a, close } = await twoRuntimes("outage", recipients);
    try {
      await a.api("/v1/sends/start", { body: { campaign: "outage" } });
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await redis.stop();
      const atStop = (await sentAt(databaseUrl)).length;
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const duringOutage = (await sentAt(databaseUrl)).length - atStop;
      await redis.start();

      const deadline = Date.now() + 60_000;
      while ((await sentAt(databaseUrl)).length < recipients && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
      t.diagnostic(`${duringOutage} sent in the 2 s without Redis (two runtimes at ${RATE / FALLBACK_SHARE}/s each at most)`);
      assert.ok(duringOutage > 0, "sending went on");
      assert.ok(duringOutage <= 2 * 2 * (RATE / FALLBACK_SHARE) + 2 * 2 * Math.max(1, Math.floor(RATE / FALLBACK_SHARE / 10)) + 8, `${duringOutage} is the fallback rate`);
      const [counts] = await query<{ rows: number; recipients: number }>(databaseUrl, "select count(*)::int as rows, count(distinct recipient)::int as recipients from outbox");
      assert.deepEqual(counts, { rows: recipients, recipients });
    } finally {
      await close();
    }
  });
});
