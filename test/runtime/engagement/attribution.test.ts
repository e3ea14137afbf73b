import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { stopDatabase } from "../../helpers/database.js";
import { startRuntime, type TestRuntime } from "../../helpers/runtime.js";
import { addSubscribers, applyCampaigns, query } from "../../helpers/sending.js";

after(() => stopDatabase(), { timeout: 120_000 });

const SENT = "2026-11-01T09:00:00Z";
const CLICKED = "2026-11-28T09:00:00Z";
/** 30 days after the send, 3 after the click: outside a 7-day window from the send, inside one from the click. */
const BOUGHT = "2026-12-01T09:00:00Z";

describe("attribution windows open at a person's click, never at a machine's", { timeout: 180_000 }, () => {
  let rt: TestRuntime;
  let sends: { id: string; email: string; subscriber_id: string }[] = [];
  before(async () => {
    rt = await startRuntime({ MK_ATTRIBUTION_WINDOW: "7d" });
    await addSubscribers(rt.databaseUrl, 4);
    await applyCampaigns(rt, [{ name: "winter" }]);
    await rt.api("/v1/sends/start", { body: { campaign: "winter" } });
    await query(rt.databaseUrl, "update sends set status = 'sent', sent_at = $1 where campaign = 'winter'", [SENT]);
    sends = await query(rt.databaseUrl, "select id, email, subscriber_id from sends where campaign = 'winter' order by email");
    assert.equal(sends.length, 4);
  }, { timeout: 120_000 });
  after(() => rt.close(), { timeout: 120_000 });

  it("attributes a purchase after a human, unknown or unclassified click, and not one whose only click was a scanner's", async () => {
    const actors = ["machine", "human", "unknown", null];
    for (const [i, send] of sends.entries()) {
      await query(rt.databaseUrl, "insert into events (subscriber_id, name, occurred_at, send_id, actor) values ($1, 'click', $2, $3, $4)", [send.subscriber_id, CLICKED, send.id, actors[i]]);
    }
    const purchases = sends.map((send, i) => ({
      idempotencyKey: `bought-${i}`,
      type: "purchase",
      subscriber: { email: send.email },
      occurredAt: BOUGHT,
      sendId: send.id,
      amount: { value: 4900, currency: "USD" },
    }));
    const response = await rt.api("/v1/events", { body: { events: purchases } });
    assert.equal(response.body.accepted, 4, JSON.stringify(response.body));
    const stored = await query<{ idempotency_key: string; campaign: string | null }>(rt.databaseUrl, "select idempotency_key, campaign from events where name = 'purchase' order by idempotency_key");
    assert.deepEqual(stored, [
      { idempotency_key: "bought-0", campaign: null },
      { idempotency_key: "bought-1", campaign: "winter" },
      { idempotency_key: "bought-2", campaign: "winter" },
      { idempotency_key: "bought-3", campaign: "winter" },
    ]);
  });

  it("a scanner's click after a person's does not move the window: it still runs from the person's click", async () => {
    const [machineOnly] = sends;
    const send = sends[1]!;
    // The person's click (above) on Nov 28, a scanner re-checking the link on Dec 7: a purchase on Dec 4 is inside the person's window, Dec 8 outside it
    // (counted from the scanner's click, the first would fall before it and the second inside it).
    await query(rt.databaseUrl, "insert into events (subscriber_id, name, occurred_at, send_id, actor) values ($1, 'ses.click', '2026-12-07T09:00:00Z', $2, 'machine')", [send.subscriber_id, send.id]);
    const events = [
      { idempotencyKey: "late-inside", type: "purchase", subscriber: { email: send.email }, occurredAt: "2026-12-04T09:00:00Z", sendId: send.id, amount: { value: 100, currency: "USD" } },
      { idempotencyKey: "late-outside", type: "purchase", subscriber: { email: send.email }, occurredAt: "2026-12-08T09:00:00Z", sendId: send.id, amount: { value: 100, currency: "USD" } },
      { idempotencyKey: "machine-only", type: "purchase", subscriber: { email: machineOnly!.email }, occurredAt: "2026-11-05T09:00:00Z", sendId: machineOnly!.id, amount: { value: 100, currency: "USD" } },
    ];
    const response = await rt.api("/v1/events", { body: { events } });
    assert.equal(response.body.accepted, 3, JSON.stringify(response.body));
    const stored = await query<{ idempotency_key: string; campaign: string | null }>(
      rt.databaseUrl,
      "select idempotency_key, campaign from events where idempotency_key in ('late-inside', 'late-outside', 'machine-only') order by idempotency_key",
    );
    assert.deepEqual(stored, [
      { idempotency_key: "late-inside", campaign: "winter" },
      { idempotency_key: "late-outside", campaign: null },
      { idempotency_key: "machine-only", campaign: "winter" },
    ], "the window runs from the person's click (Nov 28), and from the send where only a scanner clicked");
  });
});
