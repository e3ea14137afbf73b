import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { stopDatabase } from "../../helpers/database.js";
import { startRuntime, type TestRuntime } from "../../helpers/runtime.js";
import { applyCampaigns, query } from "../../helpers/sending.js";
import { waitFor } from "../../helpers/wait-for.js";

/**
 * Transactional messages (POST /v1/messages/:name, runtime/messages/): exactly
 * once per Idempotency-Key across concurrent requests, data checked against
 * the message's schema, suppression by bounces and complaints only, through
 * the send ledger and worker to the outbox transport.
 */
const RECEIPT_HTML = "<html><body><p>Order {{data.orderId}}: {{data.total}} for {{subscriber.email}}</p></body></html>";

let rt: TestRuntime;
let token = "";

/** POST /v1/messages/:name in process, with the messages token and a key unless told otherwise. */
function post(name: string, body: unknown, options: { key?: string | null; token?: string; payload?: string } = {}) {
  return rt.app.inject({
    method: "POST",
    url: `/v1/messages/${name}`,
    headers: {
      authorization: `Bearer ${options.token ?? token}`,
      "content-type": "application/json",
      ...(options.key === null ? {} : { "idempotency-key": options.key ?? `key-${Math.random()}` }),
    },
    payload: options.payload ?? JSON.stringify(body),
  });
}

before(async () => {
  rt = await startRuntime({ MK_WORKERS: "1" });
  await applyCampaigns(rt, [], {}, {
    templates: { "templates/receipt.mjml": RECEIPT_HTML },
    project: { sending: { provider: "outbox", maxPerSecond: 1000, pricePer1000Usd: 0.1, configurationSet: "marketing", transactional: { configurationSet: "receipts" } } },
    resources: [
      {
        kind: "Message",
        name: "receipt",
        spec: { template: "templates/receipt.mjml", subject: "Your order {{data.orderId}}", data: { orderId: { type: "string", required: true }, total: { type: "number", required: false } } },
      },
    ],
  });
  token = (await rt.api("/v1/tokens", { body: { name: "shop", scope: "messages" } })).body.token;
  await query(rt.databaseUrl, "insert into suppressions (email, reason) values ('bounced@example.test', 'bounce'), ('left@example.test', 'unsubscribe')");
  await query(rt.databaseUrl, "insert into subscribers (email, first_name, locale) values ('member@example.test', 'Mia', 'pt-BR')");
}, { timeout: 120_000 });
after(async () => {
  await rt.close();
  await stopDatabase();
}, { timeout: 120_000 });

describe("POST /v1/messages/:name", { timeout: 180_000 }, () => {
  it("sends exactly 100 messages for 1,000 concurrent requests with 100 keys, each key answering its first result", async () => {
    const requests = Array.from({ length: 1000 }, (_, i) => post("receipt", { to: `buyer${i % 100}@example.test`, data: { orderId: `o-${i % 100}`, total: 12.5 } }, { key: `order-${i % 100}` }));
    const responses = await Promise.all(requests);
    const byKey = new Map<string, Set<string>>();
    responses.forEach((response, i) => {
      assert.equal(response.statusCode, 202, response.body);
      const answers = byKey.get(`order-${i % 100}`) ?? new Set();
      answers.add(response.body);
      byKey.set(`order-${i % 100}`, answers);
    });
    for (const [key, answers] of byKey) assert.equal(answers.size, 1, `${key} answered ${[...answers].join(" and ")}`);
    const ids = [...byKey.values()].map((answers) => JSON.parse([...answers][0]!).id as string);
    assert.equal(new Set(ids).size, 100);

    const ledger = await query<{ n: number }>(rt.databaseUrl, "select count(*)::int as n from sends where message_key like 'order-%'");
    assert.equal(ledger[0]!.n, 100);
    await waitFor(async () => (await query(rt.databaseUrl, "select 1 from sends where message_key like 'order-%' and status <> 'sent'")).length === 0);
    const outbox = await query<{ recipient: string; subject: string; html: string; headers: Record<string, string> }>(
      rt.databaseUrl,
      "select o.recipient, o.subject, o.html, o.headers from outbox o join sends s on s.id = o.send_id where s.message_key like 'order-%' order by o.recipient",
    );
    assert.equal(outbox.length, 100);
    assert.deepEqual(new Set(outbox.map((o) => o.recipient)).size, 100);
    const first = outbox.find((o) => o.recipient === "buyer7@example.test")!;
    assert.equal(first.subject, "Your order o-7");
    assert.match(first.html, /Order o-7: 12\.5 for buyer7@example\.test/);
    assert.equal(first.headers["List-Unsubscribe"], undefined);
    assert.equal(first.headers["X-Mk-Message"], "receipt");
    const [snapshot] = await query<{ snapshot: { configurationSet: string } }>(rt.databaseUrl, "select snapshot from campaign_sends where message = 'receipt'");
    assert.equal(snapshot!.snapshot.configurationSet, "receipts");
  });

  it("answers the same key again with the first status and body, sends nothing more, refuses it for another request, and frees it after 24 hours", async () => {
    const body = { subscriber: "member@example.test", data: { orderId: "m-1" } };
    const first = await post("receipt", body, { key: "member-order-1" });
    assert.equal(first.statusCode, 202, first.body);
    assert.equal(first.json().status, "queued");
    const again = await post("receipt", body, { key: "member-order-1" });
    assert.equal(again.statusCode, 202);
    assert.equal(again.body, first.body);
    assert.equal(again.headers["idempotent-replayed"], "true");
    // The message applied again with a field the first request lacks: a retry of that request still gets its first answer.
    const applied = (await query<{ spec: object }>(rt.databaseUrl, "select spec from resources where kind = 'Message' and name = 'receipt'"))[0]!.spec;
    await query(rt.databaseUrl, "update resources set spec = jsonb_set(spec, '{data,giftNote}', '{\"type\": \"string\"}') where kind = 'Message' and name = 'receipt'");
    await query(rt.databaseUrl, "update state set serial = serial + 1");
    try {
      const retried = await post("receipt", body, { key: "member-order-1" });
      assert.deepEqual([retried.statusCode, retried.body], [202, first.body]);
      assert.equal((await post("receipt", body, { key: "member-order-new" })).statusCode, 400, "a new request must fit the message as applied now");
    } finally {
      await query(rt.databaseUrl, "update resources set spec = $1 where kind = 'Message' and name = 'receipt'", [applied]);
      await query(rt.databaseUrl, "update state set serial = serial + 1");
    }
    const other = await post("receipt", { ...body, data: { orderId: "m-2" } }, { key: "member-order-1" });
    assert.equal(other.statusCode, 422);
    assert.equal(other.json().error.code, "idempotency_key_reused");
    const rows = await query<{ subscriber_id: string | null }>(rt.databaseUrl, "select subscriber_id from sends where message_key like 'member-order-1/%'");
    assert.equal(rows.length, 1);
    assert.notEqual(rows[0]!.subscriber_id, null, "a subscriber's message names them in the ledger");

    // After 24 hours, once its message is sent, the key is free for a new message.
    await waitFor(async () => (await query(rt.databaseUrl, "select 1 from sends where message_key like 'member-order-1/%' and status = 'sent'")).length === 1);
    await query(rt.databaseUrl, "update message_requests set created_at = now() - interval '25 hours' where idempotency_key = 'member-order-1'");
    const later = await post("receipt", { ...body, data: { orderId: "m-2" } }, { key: "member-order-1" });
    assert.equal(later.statusCode, 202, later.body);
    assert.notEqual(later.json().id, first.json().id);
  });

  it("refuses data that does not fit the message's schema with a 400 naming each field, and a missing or malformed Idempotency-Key", async () => {
    const missing = await post("receipt", { to: "x@example.test", data: { total: 3 } });
    assert.equal(missing.statusCode, 400);
    const error = missing.json().error;
    assert.equal(error.code, "invalid_data");
    assert.match(error.message, /^data\.orderId is required/);
    assert.deepEqual(error.fields.map((f: { path: string }) => f.path), ["data.orderId"]);
    assert.ok(error.requestId);
    const typed = await post("receipt", { to: "x@example.test", data: { orderId: 7, coupon: "x" } });
    assert.deepEqual(typed.json().error.fields.map((f: { path: string }) => f.path), ["data.orderId", "data.coupon"]);
    assert.equal((await post("receipt", { to: "x@example.test", data: { orderId: "a" } }, { key: null })).statusCode, 400);
    const badKey = await post("receipt", { to: "x@example.test", data: { orderId: "a" } }, { key: "has spaces and ü" });
    assert.equal(badKey.statusCode, 400);
    assert.equal(badKey.json().error.fields[0].path, "Idempotency-Key");
    assert.equal((await post("receipt", { to: "x@example.test", data: { orderId: "a" } }, { key: "k".repeat(201) })).statusCode, 400);
    assert.equal((await query(rt.databaseUrl, "select 1 from sends where email = 'x@example.test'")).length, 0);
  });

  it("refuses a bounced address with the reason and keeps nothing, but sends to one that unsubscribed from marketing", async () => {
    const refused = await post("receipt", { to: "Bounced@example.test", data: { orderId: "b-1" } }, { key: "bounced-1" });
    assert.equal(refused.statusCode, 409);
    assert.equal(refused.json().error.code, "suppressed");
    assert.match(refused.json().error.message, /suppressed because it bounced for good \(bounce/);
    assert.equal((await query(rt.databaseUrl, "select 1 from message_requests where idempotency_key = 'bounced-1'")).length, 0);
    const unsubscribed = await post("receipt", { to: "left@example.test", data: { orderId: "l-1" } }, { key: "left-1" });
    assert.equal(unsubscribed.statusCode, 202, unsubscribed.body);
    const unknown = await post("receipt", { subscriber: "nobody@example.test", data: { orderId: "n-1" } });
    assert.equal(unknown.statusCode, 422);
    assert.equal(unknown.json().error.code, "unknown_subscriber");
  });

  it("refuses tokens of other scopes (403) and bodies over 64 KiB (413), and answers an unknown message with a 404 that names nothing else", async () => {
    const report = (await rt.api("/v1/tokens", { body: { name: "reader", scope: "report" } })).body.token;
    const forbidden = await post("receipt", { to: "a@example.test", data: { orderId: "f" } }, { token: report });
    assert.equal(forbidden.statusCode, 403);
    assert.match(forbidden.json().error.message, /needs a token with scope messages \(or admin\); this token has scope report/);
    const ingest = (await rt.api("/v1/tokens", { body: { name: "events", scope: "ingest" } })).body.token;
    assert.equal((await post("receipt", { to: "a@example.test", data: { orderId: "f" } }, { token: ingest })).statusCode, 403);
    assert.equal((await post("receipt", {}, { payload: JSON.stringify({ to: "a@example.test", data: { orderId: "x".repeat(70_000) } }) })).statusCode, 413);

    const unknown = await post("invoice", { to: "a@example.test", data: { orderId: "u" } });
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().error.code, "unknown_message");
    assert.equal(unknown.json().error.message, 'no message "invoice" is applied');
    const odd = await post("..%2Freceipt", { to: "a@example.test", data: {} });
    assert.equal(odd.statusCode, 404);
    assert.doesNotMatch(odd.body + unknown.body, /receipt"|orderId/);
  });

  it("reports a message's sends, and erasure takes an address's messages, requests and data", async () => {
    await waitFor(async () => (await query(rt.databaseUrl, "select 1 from sends where message_key is not null and status <> 'sent'")).length === 0);
    const report = await rt.api("/v1/reports/messages/receipt");
    assert.equal(report.status, 200, JSON.stringify(report.body));
    assert.equal(report.body.requested, 103);
    assert.equal(report.body.sent, 103);
    assert.equal(report.body.versions, 1);
    assert.equal((await rt.api("/v1/reports/messages/invoice")).status, 404);

    const erased = await rt.api("/v1/subscribers/buyer3%40example.test", { method: "DELETE" });
    assert.equal(erased.status, 200, JSON.stringify(erased.body));
    assert.equal(erased.body.erased, true);
    for (const table of ["sends where email = $1", "message_requests where email = $1", "outbox where recipient = $1"]) {
      assert.equal((await query(rt.databaseUrl, `select 1 from ${table}`, ["buyer3@example.test"])).length, 0, table);
    }
    assert.equal((await query(rt.databaseUrl, "select 1 from message_requests")).length, 101);
  });
});
