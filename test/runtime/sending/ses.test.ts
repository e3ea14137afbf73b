import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { stopDatabase } from "../../helpers/database.js";
import { FakeSes } from "../../helpers/fake-ses.js";
import { startRuntime, type TestRuntime } from "../../helpers/runtime.js";
import { addSubscribers, applyCampaigns, query } from "../../helpers/sending.js";

// The SDK's default credential chain reads these; nothing leaves loopback.
process.env["AWS_ACCESS_KEY_ID"] = "AKIATESTTESTTESTTEST";
process.env["AWS_SECRET_ACCESS_KEY"] = "test-secret";
process.env["AWS_EC2_METADATA_DISABLED"] = "true";

const RECIPIENTS = 150;

after(() => stopDatabase(), { timeout: 120_000 });

describe("sending through SES v2 (the real client, a local endpoint)", { timeout: 300_000 }, () => {
  const ses = new FakeSes({ throttleShare: 0.3, errorShare: 0.05, maxFailuresPerMessage: 3 });
  let rt: TestRuntime;
  before(async () => {
    await ses.start();
    rt = await startRuntime({ MK_WORKERS: "2", MK_TRANSPORT: "ses", AWS_REGION: "eu-west-1", MK_SES_ENDPOINT: ses.url });
    await addSubscribers(rt.databaseUrl, RECIPIENTS);
    await query(rt.databaseUrl, "insert into subscribers (email, consent) values ('reject-me@example.test', 'marketing'), ('drop-me@example.test', 'marketing')");
    await applyCampaigns(rt, [{ name: "via-ses" }], { provider: "ses" });
  }, { timeout: 120_000 });
  after(async () => {
    await rt.close();
    await ses.stop();
  }, { timeout: 120_000 });

  it("sends every message exactly once through throttling and 5xx, backing off between attempts", { timeout: 120_000 }, async (t) => {
    assert.equal((await rt.api("/v1/sends/start", { body: { campaign: "via-ses" } })).body.recipients, RECIPIENTS + 2);
    const deadline = Date.now() + 90_000;
    const pending = async () => (await query(rt.databaseUrl, "select 1 from sends where status in ('queued', 'claimed', 'sending')")).length;
    while ((await pending()) > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));

    const statuses = Object.fromEntries((await query<{ status: string; n: number }>(rt.databaseUrl, "select status, count(*)::int as n from sends group by 1")).map((r) => [r.status, r.n]));
    assert.deepEqual(statuses, { sent: RECIPIENTS, failed: 1, ambiguous: 1 });

    // Once each, and the provider's message id recorded against the row.
    const accepted = ses.accepted();
    assert.equal(accepted.size, RECIPIENTS);
    assert.deepEqual([...new Set(accepted.values())], [1]);
    const [ids] = await query<{ matching: number }>(rt.databaseUrl, "select count(*)::int as matching from sends where status = 'sent' and provider_message_id = 'ses-' || id");
    assert.equal(ids!.matching, RECIPIENTS);

    // Retries waited: the gap after each failed call is the backoff (full jitter from 1 s up), never a hot loop.
    const byId = new Map<string, typeof ses.calls>();
    for (const call of ses.calls) byId.set(call.sendId, [...(byId.get(call.sendId) ?? []), call]);
    const gaps: number[] = [];
    for (const calls of byId.values()) for (let i = 1; i < calls.length; i++) gaps.push(calls[i]!.at - calls[i - 1]!.at);
    const failedCalls = ses.calls.filter((c) => c.outcome === "throttled" || c.outcome === "error").length;
    t.diagnostic(`${ses.calls.length} calls, ${failedCalls} throttled or 5xx, mean retry gap ${Math.round(gaps.reduce((a, b) => a + b, 0) / gaps.length)} ms`);
    assert.ok(failedCalls > RECIPIENTS * 0.2, "the endpoint did throttle");
    assert.equal(gaps.length, failedCalls);
    assert.ok(gaps.reduce((a, b) => a + b, 0) / gaps.length > 250, "mean gap shows backoff");
    assert.ok(Math.max(...gaps) <= 60_000 + 1000);

    const metrics = (await rt.api("/metrics", { token: null })).body as string;
    assert.match(metrics, /mk_send_retries_total\{transport="ses",reason="transient"\} (\d+)/);
    assert.match(metrics, /mk_sends_total\{status="sent",transport="ses"\} 150/);
  });

  it("fails a rejected address for good with SES's reason, and leaves a lost call ambiguous instead of resending", async () => {
    const [rejected] = await query<{ status: string; last_error: string; attempts: number }>(rt.databaseUrl, "select status, last_error, attempts from sends where email = 'reject-me@example.test'");
    assert.deepEqual(rejected, { status: "failed", last_error: "SES MessageRejected: Email address is not verified.", attempts: 1 });
    const dropped = ses.calls.filter((c) => c.to === "drop-me@example.test");
    assert.equal(dropped.length, 1, "called once, never again");
    const ambiguous = await rt.api("/v1/sends/ambiguous");
    assert.equal(ambiguous.status, 200);
    assert.deepEqual(ambiguous.body.map((a: { email: string; transport: string }) => [a.email, a.transport]), [["drop-me@example.test", "ses"]]);
  });

  it("hands SES raw MIME with the one-click unsubscribe headers and the send id tag", () => {
    const call = ses.calls.find((c) => c.outcome === "accepted")!;
    const raw = call.raw.replace(/\r\n[ \t]+/g, " "); // unfold long headers (RFC 5322 §2.2.3)
    assert.match(raw, /^List-Unsubscribe: <http:\/\/127\.0\.0\.1:\d+\/u\/[\w-]{54}>,/m);
    assert.match(raw, /^List-Unsubscribe-Post: List-Unsubscribe=One-Click/m);
    assert.match(raw, new RegExp(`^X-Mk-Send-Id: ${call.sendId}`, "mi"), "header names are case-insensitive");
    assert.match(raw, /^Content-Type: multipart\/alternative/m);
  });
});

describe("a provider that keeps failing", { timeout: 240_000 }, () => {
  it("opens the circuit breaker: calls stop, the metric says so, rows wait without spending attempts", { timeout: 60_000 }, async () => {
    const ses = new FakeSes({ throttleShare: 0, errorShare: 1, maxFailuresPerMessage: 1000 });
    await ses.start();
    const rt = await startRuntime({ MK_WORKERS: "1", MK_TRANSPORT: "ses", AWS_REGION: "eu-west-1", MK_SES_ENDPOINT: ses.url });
    try {
      await addSubscribers(rt.databaseUrl, 40);
      await applyCampaigns(rt, [{ name: "outage" }], { provider: "ses" });
      await rt.api("/v1/sends/start", { body: { campaign: "outage" } });
      const deadline = Date.now() + 20_000;
      const open = async () => /^mk_transport_circuit_open\{transport="ses"\} 1$/m.test((await rt.api("/metrics", { token: null })).body as string);
      while (!(await open()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      assert.ok(await open(), "the breaker opened");
      const callsWhenOpen = ses.calls.length;
      await new Promise((resolve) => setTimeout(resolve, 2000));
      assert.ok(ses.calls.length - callsWhenOpen <= 16, `at most the calls already in flight went out (${ses.calls.length - callsWhenOpen})`);
      const [row] = await query<{ failed: number; max_attempts: number }>(rt.databaseUrl, "select count(*) filter (where status = 'failed')::int as failed, max(attempts)::int as max_attempts from sends");
      assert.deepEqual(row, { failed: 0, max_attempts: 1 }, "nothing failed for good; held-back rows kept their attempts");
    } finally {
      await rt.close();
      await ses.stop();
    }
  });
});
