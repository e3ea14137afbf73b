import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { stopDatabase } from "../../helpers/database.js";
import { startRuntime, type TestRuntime } from "../../helpers/runtime.js";
import { startCampaignNow } from "../../../runtime/sending/start.js";
import { addSubscribers, applyCampaigns, query } from "../../helpers/sending.js";

const ZONES = ["America/New_York", "Europe/Berlin", "Asia/Bangkok", "Australia/Sydney"];

after(() => stopDatabase(), { timeout: 120_000 });

describe("starting campaigns", { timeout: 180_000 }, () => {
  let rt: TestRuntime;
  before(async () => {
    rt = await startRuntime();
    await addSubscribers(rt.databaseUrl, 40, { timezones: ZONES, countries: ["US", "DE", "TH", "AU"] });
    await applyCampaigns(rt, [
      // Each zone's DST change day of 2026, at 09:00 recipient time.
      { name: "dst-new-york", schedule: { at: "2026-03-08T09:00:00", timezone: "recipient" } },
      { name: "dst-berlin", schedule: { at: "2026-03-29T09:00:00", timezone: "recipient" } },
      { name: "dst-sydney", schedule: { at: "2026-04-05T09:00:00", timezone: "recipient" } },
      { name: "windowed", schedule: { at: "2026-03-29T07:00:00", timezone: "recipient", window: "09:00-11:00" } },
      { name: "geofenced", geofence: { countries: { notIn: ["US"] }, timezones: { in: ["Asia/Bangkok", "Europe/Berlin"] } } },
      { name: "usd-capped", budget: { maxUsd: 0.002 } },
      {
        name: "chunked",
        schedule: { at: "2099-03-29T09:00:00", timezone: "recipient", window: "09:30-11:00" },
        variants: [{ name: "a", weight: 30 }, { name: "b", weight: 70 }],
        geofence: { countries: { notIn: ["AU"] } },
        budget: { maxRecipients: 23 },
      },
    ]);
  }, { timeout: 120_000 });
  after(() => rt.close(), { timeout: 120_000 });

  it("gives every recipient their own zone's 09:00, on the days the clocks change", async () => {
    const due = await rt.api("/v1/sends/due", { body: {} });
    assert.deepEqual(due.body.started.map((s: { campaign: string }) => s.campaign).sort(), ["dst-berlin", "dst-new-york", "dst-sydney", "windowed"]);
    const rows = await query<{ campaign: string; timezone: string; local: string; n: number }>(
      rt.databaseUrl,
      `select campaign, timezone, to_char(due_at at time zone timezone, 'YYYY-MM-DD HH24:MI') as local, count(*)::int as n
       from sends group by 1, 2, 3 order by 1, 2`,
    );
    const days: Record<string, string> = { "dst-new-york": "2026-03-08", "dst-berlin": "2026-03-29", "dst-sydney": "2026-04-05", windowed: "2026-03-29" };
    assert.equal(rows.length, 16);
    for (const row of rows) {
      assert.equal(row.local, `${days[row.campaign]} 09:00`, `${row.campaign} in ${row.timezone}`);
      assert.equal(row.n, 10);
    }
  });

  it("applies the geofence's country and time-zone lists", async () => {
    await rt.api("/v1/sends/start", { body: { campaign: "geofenced" } });
    const rows = await query<{ timezone: string; n: number }>(rt.databaseUrl, "select timezone, count(*)::int as n from sends where campaign = 'geofenced' group by 1 order by 1");
    assert.deepEqual(rows, [{ timezone: "Asia/Bangkok", n: 10 }, { timezone: "Europe/Berlin", n: 10 }]);
  });

  it("caps a campaign at what maxUsd buys at the provider's price", async () => {
    assert.equal((await rt.api("/v1/sends/start", { body: { campaign: "usd-capped" } })).body.recipients, 20, "$0.002 at $0.10 per 1,000");
  });

  it("writes the same ledger in chunks of 7 subscribers as in one: the cap, zones, variants and geofence carry across chunks", async () => {
    const ledger = () =>
      query<{ subscriber_id: string; variant: string; timezone: string; due_at: Date }>(rt.databaseUrl, "select subscriber_id, variant, timezone, due_at from sends where campaign = 'chunked' order by subscriber_id");
    const chunked = await startCampaignNow(rt.pool, "chunked", "outbox", new Date(), 7);
    assert.deepEqual(chunked, { campaign: "chunked", recipients: 23, alreadyStarted: false });
    const inChunks = await ledger();
    await query(
      rt.databaseUrl,
      `with gone as (delete from sends where campaign = 'chunked'), start as (delete from campaign_sends where campaign = 'chunked')
       update resources set started_at = null where kind = 'Campaign' and name = 'chunked'`,
    );
    assert.equal((await startCampaignNow(rt.pool, "chunked", "outbox")).recipients, 23);
    assert.deepEqual(inChunks, await ledger());
    assert.equal(new Set(inChunks.map((r) => r.timezone)).size, 3, "every zone but Sydney's");
    assert.deepEqual([...new Set(inChunks.map((r) => r.variant))].sort(), ["a", "b"]);
  });

  it("refuses an unknown campaign by name, and a malformed request", async () => {
    const unknown = await rt.api("/v1/sends/start", { body: { campaign: "nope" } });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, "unknown_campaign");
    const invalid = await rt.api("/v1/sends/start", { body: { campain: "x" } });
    assert.equal(invalid.status, 400);
  });
});
