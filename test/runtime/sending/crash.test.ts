import assert from "node:assert/strict";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { freshDatabase, stopDatabase } from "../../helpers/database.js";
import { startRuntime } from "../../helpers/runtime.js";
import { startServerProcess, type ServerProcess } from "../../helpers/server-process.js";
import { startWorkerProcess } from "../../helpers/worker-process.js";
import { addSubscribers, applyCampaigns, query, type CampaignFixture } from "../../helpers/sending.js";
import { waitFor } from "../../helpers/wait-for.js";

const WORKER = fileURLToPath(new URL("../../helpers/send-worker-process.ts", import.meta.url));
const ROUNDS = Number(process.env["MK_CRASH_ROUNDS"] ?? 5);
const RECIPIENTS = 10_000;

after(() => stopDatabase(), { timeout: 120_000 });

const startWorker = (databaseUrl: string) => startWorkerProcess(WORKER, databaseUrl, { MK_WORKERS: "3" });

async function statuses(databaseUrl: string): Promise<Record<string, number>> {
  const rows = await query<{ status: string; n: number }>(databaseUrl, "select status, count(*)::int as n from sends group by status");
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

describe("crash safety", { timeout: 480_000 }, () => {
  it(`SIGKILLed ${ROUNDS} times during a ${RECIPIENTS.toLocaleString("en")}-recipient send: nothing sent twice, nothing lost`, { timeout: 300_000 }, async (t) => {
    const rt = await startRuntime();
    try {
      await addSubscribers(rt.databaseUrl, RECIPIENTS, { timezones: ["Europe/Lisbon", "Asia/Bangkok", "America/New_York"] });
      // Slow enough that every kill lands mid-send (rounds last 0.3–1.3 s): about half is left for the final worker.
      await applyCampaigns(rt, [{ name: "crash" }], { maxPerSecond: Math.floor(RECIPIENTS / (ROUNDS * 1.5)) });
      assert.equal((await rt.api("/v1/sends/start", { body: { campaign: "crash" } })).body.recipients, RECIPIENTS);

      const progress: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const child = await startWorker(rt.databaseUrl);
        await new Promise((resolve) => setTimeout(resolve, 300 + Math.random() * 1000));
        child.kill("SIGKILL");
        await once(child, "exit");
        progress.push((await statuses(rt.databaseUrl))["sent"] ?? 0);
      }
      t.diagnostic(`sent after each kill: ${progress.join(", ")}`);
      assert.ok(progress.at(-1)! < RECIPIENTS, `the kills landed mid-send (sent after each round: ${progress.join(", ")})`);

      // A last worker finishes; rows the killed ones held come back when their leases run out.
      const child = await startWorker(rt.databaseUrl);
      const deadline = Date.now() + 120_000;
      while (((await statuses(rt.databaseUrl))["sent"] ?? 0) < RECIPIENTS && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
      child.kill("SIGKILL");
      await once(child, "exit");

      const final = await statuses(rt.databaseUrl);
      assert.deepEqual(final, { sent: RECIPIENTS }, "every row sent; none ambiguous with the transactional outbox");
      const [outbox] = await query<{ messages: number; recipients: number; orphans: number }>(
        rt.databaseUrl,
        `select count(*)::int as messages, count(distinct recipient)::int as recipients,
           (select count(*)::int from sends s where s.status = 'sent' and not exists (select 1 from outbox o where o.send_id = s.id)) as orphans
         from outbox`,
      );
      assert.deepEqual(outbox, { messages: RECIPIENTS, recipients: RECIPIENTS, orphans: 0 });
    } finally {
      await rt.close();
    }
  });
});

const START_SUBSCRIBERS = 200_000;
/** Every tenth subscriber has no marketing consent: the start leaves them out. */
const START_RECIPIENTS = START_SUBSCRIBERS - START_SUBSCRIBERS / 10;
const BIG: CampaignFixture = { name: "big", variants: [{ name: "a", weight: 30 }, { name: "b", weight: 70 }] };

describe("a 200,000-recipient campaign start, outside the state lock", { timeout: 420_000 }, () => {
  let databaseUrl: string;
  let server: ServerProcess;
  /** Holds one subscriber row locked (FOR UPDATE): the chunk that has to reference it waits, so the start is caught in the middle. */
  let holder: pg.Client;
  let held: string;
  let start: Promise<unknown>;
  let startSettled = false;
  const servers: ServerProcess[] = [];

  const runtime = async () => {
    const started = await startServerProcess({ DATABASE_URL: databaseUrl, MK_WORKERS: "1", LOG_LEVEL: "warn" });
    servers.push(started);
    await waitFor(async () => (await fetch(`${started.url}/healthz`).then((r) => r.ok, () => false)), 60_000, "the runtime to serve");
    return started;
  };
  const progress = async () =>
    (
      await query<{ after_id: string; through_id: string; finished: boolean; recipients: number; rows: number; sent: number }>(
        databaseUrl,
        `select st.after_id, st.through_id, st.finished_at is not null as finished, c.recipients,
           (select count(*)::int from sends where campaign = 'big') as rows, (select count(*)::int from sends where campaign = 'big' and status = 'sent') as sent
         from campaign_starts st join campaign_sends c using (campaign) where st.campaign = 'big'`,
      )
    )[0];

  before(async () => {
    databaseUrl = await freshDatabase();
    await query(
      databaseUrl,
      `insert into subscribers (email, first_name, timezone, consent)
       select 'r' || i || '@example.test', 'Name' || i, (array['Europe/Lisbon', 'Asia/Bangkok', 'America/New_York', null])[1 + i % 4],
         case when i % 10 = 0 then null else 'marketing' end
       from generate_series(1, $1) as i`,
      [START_SUBSCRIBERS],
    );
    server = await runtime();
    await applyCampaigns(server, [BIG], { maxPerSecond: 50 });
    holder = new pg.Client({ connectionString: databaseUrl });
    await holder.connect();
    await holder.query("begin");
    // (OFFSET in the locking query itself would lock every row it skips.)
    const middle = "select id from subscribers where consent is not null order by id offset $1 limit 1";
    held = (await holder.query<{ id: string }>(`select id from subscribers where id = (${middle}) for update`, [START_SUBSCRIBERS / 2])).rows[0]!.id;
  }, { timeout: 180_000 });
  after(async () => {
    await holder?.end().catch(() => {});
    await Promise.all(servers.map((s) => s.kill()));
  }, { timeout: 60_000 });

  it("lets an apply through while its ledger is written, and workers send the first chunks meanwhile", { timeout: 180_000 }, async () => {
    start = server.api("/v1/sends/start", { body: { campaign: "big" } }).finally(() => (startSettled = true));
    start.catch(() => {});
    await waitFor(async () => ((await progress())?.sent ?? 0) > 0, 120_000, "the first chunks to be written and sent from");

    const apply = applyCampaigns(server, [BIG, { name: "later" }], { maxPerSecond: 50 });
    const waited = new Promise<"waited">((resolve) => setTimeout(() => resolve("waited"), 60_000).unref());
    assert.notEqual(await Promise.race([apply, waited]), "waited", "the apply waited for the start");

    const during = (await progress())!;
    assert.equal(during.finished, false, "the start still has chunks to write");
    assert.equal(startSettled, false, "the start request is still writing");
    assert.ok(BigInt(during.after_id) < BigInt(held), `stopped before the held subscriber (after ${during.after_id}, held ${held})`);
    assert.equal(during.rows, during.recipients, "the ledger holds exactly the chunks its progress counts");
    assert.ok(during.rows > 0 && during.rows < START_RECIPIENTS);
    assert.equal((await query(databaseUrl, "select 1 from resources where kind = 'Campaign' and name = 'later'")).length, 1);
  });

  it("SIGKILLed mid-start and started again, finishes it: each recipient exactly once, none skipped", { timeout: 240_000 }, async () => {
    await server.kill();
    const cut = (await progress())!;
    assert.equal(cut.finished, false);
    assert.equal(cut.rows, cut.recipients);
    await holder.query("rollback");

    server = await runtime();
    await waitFor(async () => (await progress())!.finished, 180_000, "the restarted runtime to finish the start");
    const done = (await progress())!;
    assert.deepEqual([done.rows, done.recipients, done.after_id], [START_RECIPIENTS, START_RECIPIENTS, done.through_id]);
    const [ledger] = await query<{ distinct: number; missing: number; extra: number; variants: number }>(
      databaseUrl,
      `select (select count(distinct subscriber_id)::int from sends where campaign = 'big') as distinct,
         (select count(*)::int from subscribers s where s.consent = 'marketing' and not exists (select 1 from sends x where x.campaign = 'big' and x.subscriber_id = s.id)) as missing,
         (select count(*)::int from sends x join subscribers s on s.id = x.subscriber_id where x.campaign = 'big' and s.consent is null) as extra,
         -- The variant is the subscriber's bucket, md5(campaign:subscriber) mod 100, against the cumulative weights (README).
         (select count(*)::int from sends x where x.campaign = 'big' and x.variant is distinct from
           case when (('x' || substr(md5('big:' || x.subscriber_id), 1, 8))::bit(32)::bigint % 100) < 30 then 'a' else 'b' end) as variants`,
    );
    assert.deepEqual(ledger, { distinct: START_RECIPIENTS, missing: 0, extra: 0, variants: 0 });
    const again = await server.api("/v1/sends/start", { body: { campaign: "big" } });
    assert.deepEqual(again.body, { campaign: "big", recipients: START_RECIPIENTS, alreadyStarted: true });
  });
});
