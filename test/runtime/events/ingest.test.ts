import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { stopDatabase } from "../../helpers/database.js";
import { startRuntime, TOKEN, type TestRuntime } from "../../helpers/runtime.js";
import { addSubscribers, applyCampaigns, query } from "../../helpers/sending.js";

after(() => stopDatabase(), { timeout: 120_000 });

const purchase = (key: string, email: string, occurredAt = "2026-11-20T10:00:00+07:00") => ({
  idempotencyKey: key,
  type: "purchase",
  subscriber: { email },
  occurredAt,
  amount: { value: 129900, currency: "THB" },
  properties: { plan: "pro" },
});

describe("POST /v1/events", { timeout: 540_000 }, () => {
  let rt: TestRuntime;
  before(async () => {
    rt = await startRuntime({ MK_EVENTS_BATCH_LIMIT: "1000" });
    await addSubscribers(rt.databaseUrl, 1000, { countries: ["TH", "DE"] });
  }, { timeout: 120_000 });
  after(() => rt.close(), { timeout: 120_000 });

  it("reports each event: accepted, duplicate (in the batch or stored), rejected with the reason into the dead-letter table", async () => {
    const events = [
      purchase("k1", "S1@example.test"),
      purchase("k1", "s1@example.test", "2027-01-01T00:00:00Z"),
      { ...purchase("k2", "s2@example.test"), amount: undefined },
      purchase("k3", "nobody@example.test"),
      { idempotencyKey: "k4", type: "signup", subscriber: { id: 3 }, occurredAt: "2026-11-20T03:00:00Z", ip: "203.0.113.9", utm: { source: "ig" } },
      "not an event",
    ];
    const response = await rt.api("/v1/events", { body: { events } });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.deepEqual(response.body, {
      accepted: 2,
      duplicates: 1,
      rejected: 3,
      results: [
        { index: 0, status: "accepted" },
        { index: 1, status: "duplicate" },
        { index: 2, status: "rejected", reason: "amount: a purchase or refund needs an amount" },
        { index: 3, status: "rejected", reason: "subscriber: no subscriber with email nobody@example.test" },
        { index: 4, status: "accepted" },
        { index: 5, status: "rejected", reason: "(event): Invalid input: expected object, received string" },
      ],
    });
    const stored = await query(rt.databaseUrl, "select idempotency_key, name, amount_minor::int, currency, country, host(ip) as ip, data from events order by idempotency_key");
    assert.deepEqual(stored, [
      { idempotency_key: "k1", name: "purchase", amount_minor: 129900, currency: "THB", country: "DE", ip: null, data: { plan: "pro" } },
      { idempotency_key: "k4", name: "signup", amount_minor: null, currency: null, country: "DE", ip: "203.0.113.9", data: {} },
    ]);
    const dead = await query<{ idempotency_key: string | null; reason: string; payload: string }>(rt.databaseUrl, "select idempotency_key, reason, payload from event_dead_letters order by id");
    assert.equal(dead.length, 3);
    assert.deepEqual(JSON.parse(dead[2]!.payload), "not an event");
    assert.equal(dead[0]!.idempotency_key, "k2");

    const again = await rt.api("/v1/events", { body: { events: [purchase("k1", "s1@example.test", "2030-05-05T05:05:05Z")] } });
    assert.deepEqual(again.body.results, [{ index: 0, status: "duplicate" }], "a key stored before is a duplicate whatever its occurredAt");
  });

  it("lists dead letters and replays them once their cause is fixed; a second replay stores nothing twice", async () => {
    const listed = await rt.api("/v1/events/dead-letters");
    assert.deepEqual(listed.body.map((d: { idempotencyKey: string | null }) => d.idempotencyKey), ["k2", "k3", null]);
    assert.deepEqual(listed.body[1].payload.subscriber, { email: "nobody@example.test" });

    await query(rt.databaseUrl, "insert into subscribers (email) values ('nobody@example.test')");
    const replay = await rt.api("/v1/events/dead-letters/replay", { body: {} });
    assert.deepEqual(
      { ...replay.body, stillRejected: replay.body.stillRejected.map((r: { reason: string }) => r.reason) },
      { replayed: 3, accepted: 1, duplicates: 0, stillRejected: ["amount: a purchase or refund needs an amount", "(event): Invalid input: expected object, received string"] },
    );
    assert.equal((await query(rt.databaseUrl, "select 1 from events where idempotency_key = 'k3'")).length, 1);
    const second = await rt.api("/v1/events/dead-letters/replay", { body: {} });
    assert.deepEqual([second.body.replayed, second.body.accepted], [2, 0]);
    assert.equal((await query(rt.databaseUrl, "select 1 from events where idempotency_key = 'k3'")).length, 1);
    assert.equal((await rt.api("/v1/events/dead-letters/replay", { body: { ids: [0] } })).status, 400);
  });

  it("answers 4xx, never 500, to a body that is not a batch: too many, not JSON, wrong type", async () => {
    const tooMany = await rt.api("/v1/events", { body: { events: Array.from({ length: 1001 }, (_, i) => purchase(`x${i}`, "s1@example.test")) } });
    assert.equal(tooMany.status, 413);
    assert.match(tooMany.body.error.message, /at most 1000 events; this one has 1001/);
    const notJson = await fetch(`${rt.url}/v1/events`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }, body: "{ nope" });
    assert.equal(notJson.status, 400);
    const text = await fetch(`${rt.url}/v1/events`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}`, "content-type": "text/csv" }, body: "a,b" });
    assert.equal(text.status, 415);
    assert.equal((await rt.api("/v1/events", { body: { events: "all" } })).status, 400);
    assert.equal((await rt.api("/v1/events", { body: [1, 2] })).status, 400);
  });

  it("rejects properties nested more than 16 levels or over 32 KB, with the field's reason", async () => {
    const nest = (levels: number) => `${'{"a":'.repeat(levels)}1${"}".repeat(levels)}`;
    const event = (key: string, properties: string) => `{"idempotencyKey":"${key}","type":"signup","subscriber":{"email":"s2@example.test"},"occurredAt":"2026-11-20T10:00:00Z","properties":${properties}}`;
    const body = `{"events":[${[event("deep-16", nest(16)), event("deep-17", nest(17)), event("big", JSON.stringify({ text: "x".repeat(33_000) }))].join(",")}]}`;
    const response = await fetch(`${rt.url}/v1/events`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }, body });
    assert.equal(response.status, 200);
    const { results } = (await response.json()) as { results: { status: string; reason?: string }[] };
    assert.deepEqual(results.map((r) => r.status), ["accepted", "rejected", "rejected"]);
    assert.match(results[1]?.reason ?? "", new RegExp(`^properties${".a".repeat(16)}: nests more than 16 levels`));
    assert.match(results[2]?.reason ?? "", /^properties: must be at most 32,768 characters as JSON/);

    // Nested 100,000 levels: refused as a whole before anything (a schema, the dead-letter copy) walks it recursively.
    const abyss = `{"events":[${event("abyss", nest(100_000))}]}`;
    const refused = await fetch(`${rt.url}/v1/events`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }, body: abyss });
    assert.equal(refused.status, 400);
    const error = ((await refused.json()) as { error: { code: string; message: string } }).error;
    assert.equal(error.code, "invalid_request");
    assert.match(error.message, /^the request body nests more than 128 levels of objects and lists \(at events\[0\]\.properties(\.a)+\)$/);
  });

  it("stores exactly the valid unique events of 100,000 with 2 % invalid and 5 % duplicates", { timeout: 180_000 }, async (t) => {
    const total = 100_000;
    const events: unknown[] = [];
    let invalid = 0;
    for (let i = 0; i < total; i++) {
      if (i % 50 === 7) {
        invalid++;
        events.push({ ...purchase(`bulk-bad-${i}`, `s${1 + (i % 1000)}@example.test`), occurredAt: "yesterday" });
      } else if (i % 20 === 3) {
        // A resend of an earlier event, half of them with another occurredAt.
        const earlier = i - 3 - 20 * (i % 7);
        events.push(purchase(`bulk-${Math.max(0, earlier)}`, `s${1 + (Math.max(0, earlier) % 1000)}@example.test`, i % 2 ? "2026-11-21T00:00:00Z" : "2026-11-20T10:00:00+07:00"));
      } else events.push(purchase(`bulk-${i}`, `s${1 + (i % 1000)}@example.test`));
    }
    const unique = new Set(events.filter((e) => !String((e as { idempotencyKey: string }).idempotencyKey).startsWith("bulk-bad")).map((e) => (e as { idempotencyKey: string }).idempotencyKey));
    const started = performance.now();
    let accepted = 0;
    let duplicates = 0;
    for (let start = 0; start < total; start += 1000) {
      const response = await rt.api("/v1/events", { body: { events: events.slice(start, start + 1000) } });
      assert.equal(response.status, 200);
      accepted += response.body.accepted;
      duplicates += response.body.duplicates;
    }
    t.diagnostic(`${total.toLocaleString("en")} events in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    assert.equal(accepted, unique.size);
    assert.equal(accepted + duplicates + invalid, total);
    const [stored] = await query<{ n: number; keys: number }>(rt.databaseUrl, "select count(*)::int as n, count(distinct idempotency_key)::int as keys from events where idempotency_key like 'bulk-%'");
    assert.deepEqual(stored, { n: unique.size, keys: unique.size });
    const [dead] = await query<{ n: number }>(rt.databaseUrl, "select count(*)::int as n from event_dead_letters where idempotency_key like 'bulk-bad-%' and reason like 'occurredAt: %'");
    assert.equal(dead!.n, invalid);
  });

  it("stores each key once when clients send overlapping batches at the same time", { timeout: 60_000 }, async () => {
    const keys = Array.from({ length: 2000 }, (_, i) => `overlap-${i}`);
    const batches = [0, 1, 2, 3].map((client) => {
      const order = client % 2 ? [...keys].reverse() : keys;
      return order.slice(client * 200, client * 200 + 1000).map((key, i) => purchase(key, `s${1 + (i % 1000)}@example.test`));
    });
    const responses = await Promise.all(batches.map((events) => rt.api("/v1/events", { body: { events } })));
    for (const response of responses) assert.equal(response.status, 200, JSON.stringify(response.body));
    const accepted = responses.reduce((sum, r) => sum + (r.body.accepted as number), 0);
    const [stored] = await query<{ n: number; keys: number }>(rt.databaseUrl, "select count(*)::int as n, count(distinct idempotency_key)::int as keys from events where idempotency_key like 'overlap-%'");
    assert.equal(stored!.n, stored!.keys);
    assert.equal(accepted, stored!.n);
  });

  it("stores every value exactly as sent, whatever characters it holds (events are written with COPY), and refuses its key a second time", async () => {
    const awkward = "tab\there, new\nline, return\r, backslash \\ and \\N, \\. and \"quotes\", ünïcödé 🎉";
    const event = {
      idempotencyKey: `copy-${awkward}`,
      type: "page_view",
      subscriber: { email: "s7@example.test" },
      occurredAt: "2026-11-20T10:00:00.123+07:00",
      ip: "2001:db8::7",
      utm: { source: awkward, campaign: "\\N" },
      properties: { text: awkward, nested: { list: [awkward, null, 1.5] }, empty: "" },
    };
    const first = await rt.api("/v1/events", { body: { events: [event] } });
    assert.deepEqual([first.status, first.body.accepted], [200, 1], JSON.stringify(first.body));
    const [stored] = await query<{ data: unknown; utm: unknown; ip: string; occurred_at: Date }>(
      rt.databaseUrl,
      "select data, utm, host(ip) as ip, occurred_at from events where idempotency_key = $1",
      [event.idempotencyKey],
    );
    assert.deepEqual(stored, { data: event.properties, utm: event.utm, ip: "2001:db8::7", occurred_at: new Date("2026-11-20T03:00:00.123Z") });
    const again = await rt.api("/v1/events", { body: { events: [event] } });
    assert.deepEqual([again.body.accepted, again.body.duplicates], [0, 1]);
    const [count] = await query<{ n: number }>(rt.databaseUrl, "select count(*)::int as n from events where idempotency_key = $1", [event.idempotencyKey]);
    assert.equal(count!.n, 1);
  });

  it("attributes an event to the campaign whose send or click came within the window before it", async () => {
    await applyCampaigns(rt, [{ name: "attrib", variants: [{ name: "a", weight: 50 }, { name: "b", weight: 50 }] }]);
    await rt.api("/v1/sends/start", { body: { campaign: "attrib" } });
    await query(rt.databaseUrl, "update sends set status = 'sent', sent_at = '2026-11-20T00:00:00Z' where campaign = 'attrib'");
    const rows = await query<{ id: string; email: string; variant: string }>(rt.databaseUrl, "select id, email, variant from sends where campaign = 'attrib' order by email limit 5");
    const [a, b, c, d, e] = rows as [(typeof rows)[0], (typeof rows)[0], (typeof rows)[0], (typeof rows)[0], (typeof rows)[0]];
    await query(rt.databaseUrl, "insert into events (subscriber_id, name, occurred_at, send_id) select subscriber_id, 'click', '2026-11-28T00:00:00Z', id from sends where id = $1", [c.id]);
    const at = (key: string, email: string, occurredAt: string, extra: object) => ({ ...purchase(key, email, occurredAt), ...extra });
    const response = await rt.api("/v1/events", {
      body: {
        events: [
          at("attr-a", a.email, "2026-11-22T00:00:00Z", { sendId: a.id }),
          at("attr-b", b.email, "2026-12-01T00:00:00Z", { sendId: b.id }),
          at("attr-c", c.email, "2026-12-02T00:00:00Z", { sendId: c.id }),
          at("attr-d", d.email, "2026-11-21T00:00:00Z", { utm: { source: "mk", campaign: "attrib" } }),
          at("attr-e", e.email, "2026-11-21T00:00:00Z", { utm: { campaign: "someone-else" } }),
          at("attr-f", e.email, "2026-11-19T00:00:00Z", { sendId: e.id }),
        ],
      },
    });
    assert.equal(response.body.accepted, 6);
    const stored = await query<{ idempotency_key: string; campaign: string | null; variant: string | null }>(
      rt.databaseUrl,
      "select idempotency_key, campaign, variant from events where idempotency_key like 'attr-%' order by idempotency_key",
    );
    assert.deepEqual(stored, [
      { idempotency_key: "attr-a", campaign: "attrib", variant: a.variant },
      { idempotency_key: "attr-b", campaign: null, variant: null },
      { idempotency_key: "attr-c", campaign: "attrib", variant: c.variant },
      { idempotency_key: "attr-d", campaign: "attrib", variant: d.variant },
      { idempotency_key: "attr-e", campaign: null, variant: null },
      { idempotency_key: "attr-f", campaign: null, variant: null },
    ]);
  });

  it("never answers 500 to any JSON (fuzzed)", { timeout: 120_000 }, async () => {
    const anyEvent = fc.oneof(
      fc.anything(),
      fc.record(
        {
          idempotencyKey: fc.oneof(fc.string(), fc.string({ unit: "grapheme", maxLength: 300 }), fc.constant("a\u0000b")),
          type: fc.oneof(fc.constantFrom("purchase", "refund", "signup", "x"), fc.string()),
          subscriber: fc.oneof(fc.record({ email: fc.oneof(fc.emailAddress(), fc.string()) }), fc.record({ id: fc.oneof(fc.integer(), fc.double()) }), fc.anything()),
          occurredAt: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.string()),
          amount: fc.record({ value: fc.oneof(fc.integer(), fc.double(), fc.string()), currency: fc.oneof(fc.constantFrom("USD", "THB"), fc.string()) }),
          properties: fc.dictionary(fc.string(), fc.jsonValue()),
          ip: fc.oneof(fc.ipV4(), fc.ipV6(), fc.string()),
          country: fc.string({ maxLength: 3 }),
          sendId: fc.oneof(fc.uuid(), fc.string()),
        },
        { requiredKeys: [] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.record({ events: fc.array(anyEvent, { maxLength: 20 }) }), fc.jsonValue()), async (body) => {
        const response = await rt.api("/v1/events", { body });
        assert.ok(response.status < 500, `${response.status} for ${JSON.stringify(body).slice(0, 300)}`);
      }),
      { numRuns: 300 },
    );
  });
});
