import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { runner } from "node-pg-migrate";
import pg from "pg";
import { MIGRATIONS_DIR } from "../../../runtime/db/migrate.js";
import { foldRollups } from "../../../runtime/reports/rollups.js";
import { abTestVerdict, compareVariants, twoProportionZTest } from "../../../runtime/reports/significance.js";
import type { CampaignReport, CampaignSummary } from "../../../schemas/report.js";
import { freshDatabase, stopDatabase } from "../../helpers/database.js";
import { waitFor } from "../../helpers/wait-for.js";
import { startRedis, type TestRedis } from "../../helpers/redis.js";
import { startRuntime, TOKEN, type TestRuntime } from "../../helpers/runtime.js";
import { addSubscribers, applyCampaigns, query } from "../../helpers/sending.js";

after(() => stopDatabase(), { timeout: 120_000 });

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}


interface Send {
  id: string;
  subscriber_id: string;
  email: string;
  variant: string;
}

/**
 * The generated data set: for each send, some of deliveries, hard and soft
 * bounces, complaints, opens, repeated clicks, unsubscribes, purchases and
 * refunds in USD, EUR and JPY, spread over days; SES-shaped events stored as
 * the webhook stores them, the rest through POST /v1/events with the sendId.
 */
async function generate(rt: TestRuntime, sends: Send[], seed: number): Promise<void> {
  const next = random(seed);
  const groups: object[][] = [];
  const sesRows: { key: string; subscriber: string; name: string; at: string; send: string; data: object; actor: string | null; reason: string | null }[] = [];
  let n = 0;
  const day = (d: number, h: number) => new Date(Date.now() + d * 86_400_000 + h * 3_600_000).toISOString();
  for (const s of sends) {
    const events: object[] = [];
    groups.push(events);
    const ses = (name: string, at: string, data: object = {}, actor: string | null = null, reason: string | null = null) =>
      sesRows.push({ key: `gen-${seed}-${n++}`, subscriber: s.subscriber_id, name, at, send: s.id, data, actor, reason });
    const api = (type: string, at: string, extra: object = {}) => events.push({ idempotencyKey: `gen-${seed}-${n++}`, type, subscriber: { email: s.email }, occurredAt: at, sendId: s.id, ...extra });
    const r = next();
    if (r < 0.05) ses("ses.bounce", day(0, 0), { bounceType: next() < 0.6 ? "Permanent" : "Transient" });
    else ses("ses.delivery", day(0, 0));
    if (next() < 0.01) ses("ses.complaint", day(0, 2));
    if (next() < 0.4) {
      // Opens by people, by Apple's privacy proxy, and from before classification (no actor).
      for (let i = 0; i < 1 + Math.floor(next() * 3); i++) {
        const who = next();
        ses("ses.open", day(Math.floor(next() * 3), 1), {}, who < 0.4 ? "human" : who < 0.8 ? "machine" : null, who < 0.4 ? "ordinary-client" : who < 0.8 ? "apple-privacy-proxy" : null);
      }
      if (next() < 0.5) {
        // Clicks on one of two links, or naming none (each counts once per send and link).
        for (let i = 0; i < 1 + Math.floor(next() * 3); i++) {
          const link = Math.floor(next() * 3);
          // A person's browser, a scanner's client, or nothing to tell by.
          const who = next();
          const userAgent = who < 0.5 ? "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36" : who < 0.8 ? "python-requests/2.32.3" : undefined;
          const properties = { ...(link < 2 ? { link } : {}), ...(userAgent ? { userAgent } : {}) };
          api("click", day(Math.floor(next() * 3), 2), { ...(Object.keys(properties).length > 0 ? { properties } : {}), ...(userAgent ? { ip: "203.0.113.9" } : {}) });
        }
        if (next() < 0.3) {
          const currency = ["USD", "EUR", "JPY"][Math.floor(next() * 3)]!;
          const value = 100 + Math.floor(next() * 20_000);
          api("purchase", day(Math.floor(next() * 4), 3), { amount: { value, currency } });
          if (next() < 0.2) api("purchase", day(4, 3), { amount: { value: 999, currency } });
          if (next() < 0.25) api("refund", day(5, 3), { amount: { value: Math.floor(value / 2), currency } });
        }
      }
    }
    if (next() < 0.03) api("unsubscribe", day(1, 5));
    if (next() < 0.2) api("page_view", day(1, 6));
  }
  // Batches of about 500 that never split one send's events (a unique click counts on the day of the earliest click in the batch that brought it).
  const batches: object[][] = [[]];
  for (const group of groups) {
    if (batches.at(-1)!.length + group.length > 500) batches.push([]);
    batches.at(-1)!.push(...group);
  }
  for (const batch of batches) {
    const result = await rt.api("/v1/events", { body: { events: batch } });
    assert.equal(result.status, 200, JSON.stringify(result.body).slice(0, 500));
    assert.equal(result.body.rejected, 0, JSON.stringify(result.body.results.filter((x: { status: string }) => x.status === "rejected").slice(0, 3)));
  }
  // SES events as POST /v1/webhooks/ses stores them: attributed to the send's campaign and variant, in the subscriber's country.
  await query(
    rt.databaseUrl,
    `insert into events (idempotency_key, subscriber_id, name, occurred_at, send_id, data, campaign, variant, country, actor, actor_reason)
     select r.key, r.subscriber, r.name, r.at, s.id, r.data, s.campaign, s.variant, sub.country, r.actor, r.reason
     from unnest($1::text[], $2::bigint[], $3::text[], $4::timestamptz[], $5::uuid[], $6::jsonb[], $7::text[], $8::text[]) as r (key, subscriber, name, at, send, data, actor, reason)
     join sends s on s.id = r.send join subscribers sub on sub.id = r.subscriber`,
    [
      sesRows.map((r) => r.key),
      sesRows.map((r) => r.subscriber),
      sesRows.map((r) => r.name),
      sesRows.map((r) => r.at),
      sesRows.map((r) => r.send),
      sesRows.map((r) => JSON.stringify(r.data)),
      sesRows.map((r) => r.actor),
      sesRows.map((r) => r.reason),
    ],
  );
}

/** What the report should say, computed straight from the raw sends and events with plain SQL. */
async function expectedFromRaw(databaseUrl: string, campaign: string) {
  const one = async (sql: string) => (await query<{ n: number }>(databaseUrl, sql, [campaign]))[0]!.n;
  const distinct = (names: string, extra = "") => one(`select count(distinct subscriber_id)::int as n from events where campaign = $1 and name in (${names}) ${extra}`);
  return {
    totals: {
      sent: await one("select count(*)::int as n from sends where campaign = $1 and status = 'sent'"),
      failed: await one("select count(*)::int as n from sends where campaign = $1 and status = 'failed'"),
      delivered: await distinct("'ses.delivery'"),
      bounced: await distinct("'ses.bounce'", "and data->>'bounceType' = 'Permanent'"),
      complained: await distinct("'ses.complaint'"),
      opened: await distinct("'open', 'ses.open'"),
      clicked: await distinct("'click', 'ses.click'"),
      unsubscribed: await distinct("'unsubscribe', 'ses.subscription'"),
      converted: await distinct("'purchase'"),
      opens: await one("select count(*)::int as n from events where campaign = $1 and name in ('open', 'ses.open')"),
      // Each (send, link) once: a send is one (campaign, subscriber); the link is data.link ('' when a click names none).
      clicks: await one("select count(distinct (subscriber_id, coalesce(data->>'link', '')))::int as n from events where campaign = $1 and name in ('click', 'ses.click')"),
      // A person who clicked opened it, whatever the opens say.
      humanOpened: await distinct("'open', 'ses.open', 'click', 'ses.click'", "and actor = 'human'"),
      humanClicked: await distinct("'click', 'ses.click'", "and actor = 'human'"),
      humanOpens: await one("select count(*)::int as n from events where campaign = $1 and name in ('open', 'ses.open') and actor = 'human'"),
      machineOpens: await one("select count(*)::int as n from events where campaign = $1 and name in ('open', 'ses.open') and actor = 'machine'"),
      humanClicks: await one("select count(distinct (subscriber_id, coalesce(data->>'link', '')))::int as n from events where campaign = $1 and name in ('click', 'ses.click') and actor = 'human'"),
      machineClicks: await one("select count(distinct (subscriber_id, coalesce(data->>'link', '')))::int as n from events where campaign = $1 and name in ('click', 'ses.click') and actor = 'machine'"),
    },
    machineReasons: await query<{ reason: string; opens: number; clicks: number }>(
      databaseUrl,
      `select actor_reason as reason, count(*) filter (where name in ('open', 'ses.open'))::int as opens, count(*) filter (where name in ('click', 'ses.click'))::int as clicks
       from events where campaign = $1 and actor = 'machine' and name in ('open', 'ses.open', 'click', 'ses.click')
       group by actor_reason order by count(*) desc, actor_reason limit 5`,
      [campaign],
    ),
    revenue: await query<{ currency: string; purchases: number; refunds: number; revenueMinor: number; refundedMinor: number }>(
      databaseUrl,
      `select currency, count(*) filter (where name = 'purchase')::int as purchases, count(*) filter (where name = 'refund')::int as refunds,
         coalesce(sum(amount_minor) filter (where name = 'purchase'), 0)::int as "revenueMinor", coalesce(sum(amount_minor) filter (where name = 'refund'), 0)::int as "refundedMinor"
       from events where campaign = $1 and name in ('purchase', 'refund') group by currency order by currency`,
      [campaign],
    ),
    variants: await query<{ name: string; sent: number; clicked: number; converted: number }>(
      databaseUrl,
      `select s.variant as name, count(*) filter (where s.status = 'sent')::int as sent,
         (select count(distinct subscriber_id) from events e where e.campaign = $1 and e.variant = s.variant and e.name in ('click', 'ses.click'))::int as clicked,
         (select count(distinct subscriber_id) from events e where e.campaign = $1 and e.variant = s.variant and e.name = 'purchase')::int as converted
       from sends s where s.campaign = $1 group by s.variant order by s.variant`,
      [campaign],
    ),
    countries: await query<{ country: string; sent: number }>(
      databaseUrl,
      `select coalesce(sub.country, 'unknown') as country, count(*)::int as sent
       from sends s join subscribers sub on sub.id = s.subscriber_id where s.campaign = $1 and s.status = 'sent'
       group by 1 order by 2 desc, 1`,
      [campaign],
    ),
    dailyClicks: await query<{ day: string; clicked: number }>(
      databaseUrl,
      // A unique click counts on the day of the earliest click in the first batch that brought one.
      `select day::text, count(*)::int as clicked from (
         select distinct on (subscriber_id) subscriber_id, (occurred_at at time zone 'UTC')::date as day from events
         where campaign = $1 and name in ('click', 'ses.click') order by subscriber_id, received_at, occurred_at, id) firsts
       group by day order by day`,
      [campaign],
    ),
  };
}

function assertMatches(report: CampaignReport, expected: Awaited<ReturnType<typeof expectedFromRaw>>): void {
  assert.deepEqual(report.totals, expected.totals);
  assert.deepEqual(report.engagement?.machineReasons.map(({ reason, opens, clicks }) => ({ reason, opens, clicks })), expected.machineReasons);
  assert.deepEqual(
    report.revenue.map(({ netMinor, ...line }) => {
      assert.equal(netMinor, line.revenueMinor - line.refundedMinor);
      return line;
    }),
    expected.revenue,
  );
  assert.deepEqual(
    report.variants.map((v) => ({ name: v.name, sent: v.sent, clicked: v.clicked, converted: v.converted })),
    expected.variants,
  );
  assert.deepEqual(
    report.topCountries.map((c) => ({ country: c.country, sent: c.sent })),
    expected.countries.slice(0, 10),
  );
  assert.deepEqual(
    report.daily.filter((d) => d.clicked > 0).map((d) => ({ day: d.day, clicked: d.clicked })),
    expected.dailyClicks,
  );
}

describe("campaign reports from the rollups equal plain SQL over the raw events", { timeout: 180_000 }, () => {
  let rt: TestRuntime;
  let sends: Send[];
  before(async () => {
    // The test folds the rollups itself, so the report reads folded and unfolded figures at the moments it chooses.
    rt = await startRuntime({ MK_WORKERS: "2", MK_REPORT_CACHE_SECONDS: "0" }, undefined, { rollupFoldIntervalMs: 0 });
    await addSubscribers(rt.databaseUrl, 800, { countries: ["TH", "PT", "US", "DE", "JP", "MX", "ID", "VN", "GB", "AU", "CA", "BR"] });
    await query(rt.databaseUrl, "update subscribers set country = null where id % 37 = 0");
    await applyCampaigns(rt, [{ name: "launch", variants: [{ name: "a", weight: 50 }, { name: "b", weight: 50, subject: "B" }] }, { name: "quiet" }]);
    assert.equal((await rt.api("/v1/sends/start", { body: { campaign: "launch" } })).status, 200);
    await waitFor(async () => (await query(rt.databaseUrl, "select 1 from sends where status <> 'sent'")).length === 0, 60_000);
    sends = await query<Send>(rt.databaseUrl, "select id, subscriber_id::text, email, variant from sends where campaign = 'launch' order by id");
  }, { timeout: 120_000 });
  after(() => rt.close(), { timeout: 120_000 });

  it("counts every figure exactly, before and after the deltas are folded", async () => {
    await generate(rt, sends.slice(0, 400), 1);
    await foldRollups(rt.pool);
    await generate(rt, sends.slice(400), 2);
    const pending = (await query<{ n: number }>(rt.databaseUrl, "select count(*)::int as n from campaign_rollup_deltas"))[0]!.n;
    const expected = await expectedFromRaw(rt.databaseUrl, "launch");
    assert.ok(expected.totals.clicked > 50 && expected.revenue.length === 3, "the data set has clicks and money in three currencies");

    const before = await rt.api("/v1/reports/campaigns/launch");
    assert.equal(before.status, 200, JSON.stringify(before.body));
    assertMatches(before.body, expected);
    assert.ok(pending > 0, "part of the figures came from deltas not yet folded");

    await foldRollups(rt.pool);
    assert.equal((await query<{ n: number }>(rt.databaseUrl, "select count(*)::int as n from campaign_rollup_deltas"))[0]!.n, 0);
    const folded = await rt.api("/v1/reports/campaigns/launch");
    assertMatches(folded.body, expected);
    assert.deepEqual({ ...folded.body, generatedAt: "" }, { ...before.body, generatedAt: "" });
  });

  it("derives rates, cost, CPA, ROAS and the complaint flag from the counts", async () => {
    const report = (await rt.api("/v1/reports/campaigns/launch")).body as CampaignReport;
    const t = report.totals;
    assert.equal(report.deliveryReported, true);
    assert.equal(report.rates.delivery, t.delivered / t.sent);
    assert.equal(report.rates.click, t.humanClicked / t.delivered);
    assert.equal(report.rates.open, t.humanOpened / t.delivered);
    assert.equal(report.rates.clickToOpen, t.humanClicked / t.humanOpened);
    assert.ok(t.humanClicked > 0 && t.machineClicks > 0 && t.humanOpens > 0 && t.machineOpens > 0, "the data set has human and machine engagement");
    assert.equal(report.engagement?.unknownOpens, t.opens - t.humanOpens - t.machineOpens);
    assert.equal(report.rates.conversion, t.converted / t.delivered);
    assert.equal(report.complaintRateAboveLimit, t.complained / t.delivered >= 0.003);
    // 800 recipients at $0.10 per 1,000 = 8 cents.
    assert.deepEqual(report.cost, { currency: "USD", minor: Math.round((t.sent * 0.1) / 10) });
    assert.deepEqual(report.cpa, { currency: "USD", minor: Math.round(report.cost.minor / t.converted) });
    const usd = report.revenue.find((r) => r.currency === "USD")!;
    assert.equal(report.roas, usd.netMinor / report.cost.minor);
    assert.equal(report.roasNote, "revenue in EUR, JPY is not included (no exchange rate to USD)");
    assert.equal(report.comparisons.length, 1);
    assert.equal(report.comparisons[0]!.control, "a");
    assert.match(report.comparisons[0]!.verdict, /^(No clear difference|b's (human click|conversion) rate is (higher|lower))/);
    assert.match(report.abTest!.verdict, /Decided by (human clicks|conversions); machine opens and clicks/);
  });

  it("keeps unique counts exact when concurrent batches carry the same subscribers' clicks, while replicas fold", async () => {
    const targets = sends.slice(0, 50);
    const batch = (k: number) =>
      targets.map((s, i) => ({ idempotencyKey: `race-${k}-${i}`, type: "click", subscriber: { email: s.email }, occurredAt: new Date().toISOString(), sendId: s.id }));
    const folders = new pg.Pool({ connectionString: rt.databaseUrl, max: 3 });
    try {
      const [results] = await Promise.all([
        Promise.all([0, 1, 2, 3].map((k) => rt.api("/v1/events", { body: { events: batch(k) } }))),
        ...[0, 1, 2].map(async () => {
          for (let i = 0; i < 5; i++) await foldRollups(folders);
        }),
      ]);
      for (const r of results) assert.equal(r.body.accepted, 50);
    } finally {
      await folders.end();
    }
    assertMatches((await rt.api("/v1/reports/campaigns/launch")).body, await expectedFromRaw(rt.databaseUrl, "launch"));
  });

  it("exposes ingest lag and the rollups' backlog as metrics", async () => {
    const metrics = (await rt.api("/metrics", { token: null })).body as string;
    assert.match(metrics, /^mk_event_ingest_lag_seconds_count \d+$/m);
    const backlog = (await query<{ n: number }>(rt.databaseUrl, "select count(*)::int as n from campaign_rollup_deltas"))[0]!.n;
    assert.match(metrics, new RegExp(`^mk_rollup_backlog ${backlog}$`, "m"));
    assert.match(metrics, /^mk_rollup_lag_seconds \d/m);
  });

  it("lists every started campaign with its key figures", async () => {
    const list = await rt.api("/v1/reports/campaigns");
    assert.equal(list.status, 200);
    const launch = (list.body as CampaignSummary[]).find((c) => c.campaign === "launch")!;
    const expected = await expectedFromRaw(rt.databaseUrl, "launch");
    assert.equal(launch.sent, expected.totals.sent);
    assert.equal(launch.clicked, expected.totals.clicked);
    assert.equal(launch.converted, expected.totals.converted);
    assert.deepEqual(launch.revenue.map((r) => r.currency), ["EUR", "JPY", "USD"]);
  });

  it("answers 404 for an unknown campaign and 409 for one not started", async () => {
    const unknown = await rt.api("/v1/reports/campaigns/nope");
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, "campaign_not_found");
    const quiet = await rt.api("/v1/reports/campaigns/quiet");
    assert.equal(quiet.status, 409);
    assert.match(quiet.body.error.message, /has not started sending/);
    assert.equal((await rt.api("/v1/reports/campaigns/launch", { token: null })).status, 401);
  });
});

describe("report cache", { timeout: 180_000 }, () => {
  let redis: TestRedis;
  before(async () => {
    redis = await startRedis();
  }, { timeout: 120_000 });
  after(() => redis.stop(), { timeout: 120_000 });

  it("serves a report from Redis to every replica until it expires", async () => {
    const first = await startRuntime({ MK_REPORT_CACHE_SECONDS: "1", REDIS_URL: redis.url });
    const second = await startRuntime({ MK_REPORT_CACHE_SECONDS: "1", REDIS_URL: redis.url }, first.databaseUrl);
    try {
      await addSubscribers(first.databaseUrl, 3);
      await applyCampaigns(first, [{ name: "cached" }]);
      await first.api("/v1/sends/start", { body: { campaign: "cached" } });
      const auth = { headers: { authorization: `Bearer ${TOKEN}` } };
      const miss = await fetch(`${first.url}/v1/reports/campaigns/cached`, auth);
      assert.equal(miss.headers.get("x-mk-cache"), "miss");
      const body = await miss.json();
      const hit = await fetch(`${second.url}/v1/reports/campaigns/cached`, auth);
      assert.equal(hit.headers.get("x-mk-cache"), "hit");
      assert.deepEqual(await hit.json(), body);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const expired = await fetch(`${second.url}/v1/reports/campaigns/cached`, auth);
      assert.equal(expired.headers.get("x-mk-cache"), "miss");
    } finally {
      await second.close();
      await first.close();
    }
  });
});

describe("migration 000013: clicks stored before it are counted once per send and link", { timeout: 120_000 }, () => {
  it("recounts the folded and unfolded clicks from the raw events, then counts new ones the same way", { timeout: 60_000 }, async () => {
    const url = await freshDatabase();
    const migration = (direction: "up" | "down") =>
      runner({ databaseUrl: url, dir: MIGRATIONS_DIR, direction, migrationsTable: "mk_migrations", file: "000013_click_dedupe", checkOrder: false, log: () => {} });
    await migration("down");
    await query(url, "insert into subscribers (email, country) values ('a@example.test', 'PT'), ('b@example.test', 'TH')");
    await query(url, "insert into campaign_sends (campaign, started_serial, snapshot, recipients) values ('old', 1, '{}', 2)");
    await query(url, "insert into sends (campaign, subscriber_id, email, timezone, due_at) select 'old', id, email, 'UTC', now() from subscribers");
    const click = (email: string, link: number | null, at: string, times = 1) =>
      query(
        url,
        `insert into events (subscriber_id, name, occurred_at, send_id, data, campaign, country)
         select s.subscriber_id, 'click', $3, s.id, $2, 'old', sub.country from sends s join subscribers sub on sub.id = s.subscriber_id, generate_series(1, $4)
         where s.email = $1`,
        [email, JSON.stringify(link === null ? {} : { link }), at, times],
      );
    const clicks = async () =>
      query<{ day: string; clicks: number }>(url, "select day::text, sum(clicks)::int as clicks from campaign_counts where campaign = 'old' group by day having sum(clicks) > 0 order by day");
    await click("a@example.test", 0, "2026-03-01T10:00:00Z", 5);
    await click("a@example.test", 1, "2026-03-02T10:00:00Z", 2);
    await query(url, "select mk_fold_campaign_rollups(1000)");
    await click("a@example.test", 0, "2026-02-28T10:00:00Z");
    await click("b@example.test", null, "2026-03-02T11:00:00Z", 3);
    assert.deepEqual(await clicks(), [
      { day: "2026-02-28", clicks: 1 },
      { day: "2026-03-01", clicks: 5 },
      { day: "2026-03-02", clicks: 5 },
    ], "before 000013 every click counted, part folded, part in deltas");

    await migration("up");
    // a's link 0 on the day of its earliest click; a's link 1; b's clicks naming no link, once.
    assert.deepEqual(await clicks(), [
      { day: "2026-02-28", clicks: 1 },
      { day: "2026-03-02", clicks: 2 },
    ]);
    await click("a@example.test", 1, "2026-03-03T10:00:00Z", 4);
    await click("b@example.test", 7, "2026-03-03T10:00:00Z", 2);
    await query(url, "select mk_fold_campaign_rollups(1000)");
    assert.deepEqual(await clicks(), [
      { day: "2026-02-28", clicks: 1 },
      { day: "2026-03-02", clicks: 2 },
      { day: "2026-03-03", clicks: 1 },
    ]);
    assert.deepEqual(await query(url, "select sum(clicked)::int as clicked from campaign_counts where campaign = 'old'"), [{ clicked: 2 }], "unique clickers are unchanged");
  });
});

describe("two-proportion z-test", { timeout: 180_000 }, () => {
  it("matches a hand computation", () => {
    // 200/1000 vs 250/1000: pooled 0.225, se = sqrt(0.225 · 0.775 · 0.002) = 0.018675, z = 2.6774, p = 0.0074.
    const { z, p } = twoProportionZTest(200, 1000, 250, 1000);
    assert.ok(Math.abs(z - 2.6774) < 1e-3, String(z));
    assert.ok(Math.abs(p - 0.0074) < 2e-4, String(p));
    assert.deepEqual(twoProportionZTest(0, 100, 0, 100), { z: 0, p: 1 });
  });

  it("says in plain words which variant wins, when it cannot tell, and when there is too little data", () => {
    const a = { name: "a", base: 1000, opened: 500, clicked: 200, converted: 40 };
    assert.match(compareVariants(a, { name: "b", base: 1000, opened: 500, clicked: 250, converted: 70 }).verdict, /^b's conversion rate is higher than a's: 7\.00 % vs 4\.00 % \(p = 0\.00\d\)/);
    assert.match(compareVariants(a, { name: "b", base: 1000, opened: 500, clicked: 205, converted: 41 }).verdict, /^No clear difference in conversion rate between b and a yet/);
    assert.match(compareVariants(a, { name: "b", base: 1000, opened: 500, clicked: 160, converted: 2 }).verdict, /^b's human click rate is lower/);
    assert.match(compareVariants({ name: "a", base: 10, opened: 5, clicked: 1, converted: 0 }, { name: "b", base: 12, opened: 5, clicked: 2, converted: 0 }).verdict, /^Too little data/);
  });

  it("names a winner by human clicks or conversions, by opens only when the campaign says so", () => {
    // a: opened by every privacy proxy, hardly clicked; b: clicked by people.
    const a = { name: "a", base: 200, opened: 190, clicked: 4, converted: 0 };
    const b = { name: "b", base: 200, opened: 60, clicked: 40, converted: 0 };
    const byDefault = abTestVerdict([a, b], "auto");
    assert.equal(byDefault.metric, "click");
    assert.equal(byDefault.winner, "b");
    assert.match(byDefault.verdict, /^b wins: its human click rate beats a's, 20\.0 % vs 2\.00 % \(p = < 0\.001\).*Decided by human clicks; machine opens and clicks/);
    const byOpens = abTestVerdict([a, b], "opens");
    assert.equal(byOpens.winner, "a");
    assert.match(byOpens.verdict, /Decided by human opens \(decideBy\)/);
    // No clicks at all in a: the pooled rate still expects 5 in each, so b's lead is testable.
    assert.equal(abTestVerdict([{ ...a, clicked: 0 }, { ...b, clicked: 12 }], "clicks").winner, "b");
    assert.equal(abTestVerdict([a, { ...b, clicked: 6 }], "auto").winner, null);
    assert.match(abTestVerdict([{ ...a, base: 20 }, b], "auto").verdict, /^No winner yet: too little data/);
    // Three variants: the best must beat each other one, at 95 % over the two comparisons.
    const c = { name: "c", base: 200, opened: 60, clicked: 38, converted: 0 };
    assert.equal(abTestVerdict([a, b, c], "auto").winner, null);
    // Beating the runner-up is not enough: a small third variant may not be beaten yet.
    const big = (name: string, base: number, clicked: number) => ({ name, base, opened: clicked, clicked, converted: 0 });
    const unsure = abTestVerdict([big("a", 900, 90), big("b", 900, 63), big("c", 100, 6)], "clicks");
    assert.equal(unsure.winner, null);
    assert.match(unsure.verdict, /^No winner yet: a leads c by human click rate.*over 2 comparisons/);
    assert.equal(abTestVerdict([big("a", 900, 90), big("b", 900, 45), big("c", 900, 40)], "clicks").winner, "a");
  });
});
