import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { stopDatabase } from "../../helpers/database.js";
import { startRuntime, type TestRuntime } from "../../helpers/runtime.js";
import { query } from "../../helpers/sending.js";

after(() => stopDatabase(), { timeout: 120_000 });

const sale = (key: string, email: string, value: number, currency: string, occurredAt: string, extra: object = {}) => ({
  idempotencyKey: key,
  type: "purchase",
  subscriber: { email },
  occurredAt,
  amount: { value, currency },
  ...extra,
});

describe("the tax ledger", { timeout: 180_000 }, () => {
  let rt: TestRuntime;
  before(async () => {
    rt = await startRuntime();
    await query(rt.databaseUrl, "insert into subscribers (email, country) values ('th@example.test', 'TH'), ('qc@example.test', 'CA'), ('nowhere@example.test', null)");
  }, { timeout: 120_000 });
  after(() => rt.close(), { timeout: 120_000 });

  it("records each purchase and refund once, with the rate in force on the date it wrote, in decimals", async () => {
    const events = [
      sale("s1", "th@example.test", 107_000, "THB", "2026-10-01T00:30:00+07:00"),
      sale("s1", "th@example.test", 107_000, "THB", "2026-10-02T00:30:00+07:00"),
      { ...sale("r1", "th@example.test", 10_700, "THB", "2026-10-05T12:00:00+07:00"), type: "refund" },
      sale("s2", "qc@example.test", 1_999, "CAD", "2026-11-01T10:00:00-05:00", { region: "QC" }),
      sale("s3", "nowhere@example.test", 4_999, "USD", "2026-11-01T10:00:00Z"),
      { idempotencyKey: "v1", type: "page_view", subscriber: { email: "th@example.test" }, occurredAt: "2026-11-01T10:00:00Z" },
    ];
    const first = await rt.api("/v1/events", { body: { events } });
    assert.deepEqual([first.body.accepted, first.body.duplicates], [5, 1]);
    const again = await rt.api("/v1/events", { body: { events } });
    assert.deepEqual([again.body.accepted, again.body.duplicates], [0, 6]);

    const ledger = await query<Record<string, unknown>>(
      rt.databaseUrl,
      "select country, seq::int, kind, event_key, tax_date::text, currency, net_minor::int, tax_minor::int, gross_minor::int, rate::text, tax_type from tax_ledger order by id",
    );
    assert.deepEqual(ledger, [
      // Prices include tax (mk.yaml's default): 1,070 THB at 7 % = 1,000 + 70.
      { country: "CA", seq: 1, kind: "sale", event_key: "s2", tax_date: "2026-11-01", currency: "CAD", net_minor: 1_739, tax_minor: 260, gross_minor: 1_999, rate: "14.97500", tax_type: "GST+QST" },
      { country: "TH", seq: 1, kind: "sale", event_key: "s1", tax_date: "2026-10-01", currency: "THB", net_minor: 100_000, tax_minor: 7_000, gross_minor: 107_000, rate: "7.00000", tax_type: "VAT" },
      { country: "TH", seq: 2, kind: "refund", event_key: "r1", tax_date: "2026-10-05", currency: "THB", net_minor: -10_000, tax_minor: -700, gross_minor: -10_700, rate: "7.00000", tax_type: "VAT" },
      { country: "ZZ", seq: 1, kind: "sale", event_key: "s3", tax_date: "2026-11-01", currency: "USD", net_minor: 4_999, tax_minor: 0, gross_minor: 4_999, rate: "0.00000", tax_type: "UNKNOWN" },
    ]);
    const tagged = await query<{ idempotency_key: string; tax_rate: string | null; tax_type: string | null }>(rt.databaseUrl, "select idempotency_key, tax_rate::text, tax_type from events order by idempotency_key");
    assert.deepEqual(tagged.map((e) => [e.idempotency_key, e.tax_rate, e.tax_type]), [
      ["r1", "7.00000", "VAT"],
      ["s1", "7.00000", "VAT"],
      ["s2", "14.97500", "GST+QST"],
      ["s3", "0.00000", "UNKNOWN"],
      ["v1", null, null],
    ]);
  });

  it("extends each country's chain in order when batches arrive concurrently", async () => {
    const batch = (k: number) => Array.from({ length: 50 }, (_, i) => sale(`c${k}-${i}`, "th@example.test", 1_000 + i, "THB", "2026-11-10T10:00:00+07:00"));
    const results = await Promise.all([0, 1, 2, 3].map((k) => rt.api("/v1/events", { body: { events: batch(k) } })));
    for (const r of results) assert.equal(r.body.accepted, 50);
    const seqs = (await query<{ seq: number }>(rt.databaseUrl, "select seq::int from tax_ledger where country = 'TH' order by seq")).map((r) => r.seq);
    assert.deepEqual(seqs, Array.from({ length: 202 }, (_, i) => i + 1));
    assert.deepEqual((await rt.api("/v1/tax/verify")).body, { ok: true, checked: 204, countries: ["CA", "TH", "ZZ"] });
  });

  it("refuses UPDATE, DELETE and TRUNCATE, even from the database's owner", async () => {
    for (const sql of ["update tax_ledger set tax_minor = 0 where event_key = 's1'", "delete from tax_ledger where event_key = 's1'", "truncate tax_ledger"]) {
      await assert.rejects(query(rt.databaseUrl, sql), /tax_ledger is append-only: (UPDATE|DELETE|TRUNCATE) is refused; record a correcting entry instead/);
    }
    assert.equal((await query(rt.databaseUrl, "select 1 from tax_ledger")).length, 204);
  });

  it("gives a role that only reads and appends no way to change or unprotect the ledger", async () => {
    await query(rt.databaseUrl, "create role mk_app login password 'app-password'; grant select, insert on tax_ledger to mk_app");
    const url = new URL(rt.databaseUrl);
    url.username = "mk_app";
    url.password = "app-password";
    const client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    try {
      await assert.rejects(client.query("update tax_ledger set tax_minor = 0"), /permission denied for table tax_ledger/);
      await assert.rejects(client.query("alter table tax_ledger disable trigger tax_ledger_no_update"), /must be owner of table tax_ledger/);
      assert.equal((await client.query("select count(*)::int as n from tax_ledger")).rows[0].n, 204);
      // It can append (the runtime's job), here rolled back.
      await client.query("begin");
      await client.query(
        `insert into tax_ledger (country, seq, kind, event_key, occurred_at, tax_date, currency, net_minor, tax_minor, gross_minor, rate, tax_type, prices_include_tax, prev_hash, hash)
         values ('XX', 1, 'sale', 'probe', now(), current_date, 'USD', 1, 0, 1, 0, 'NONE', true, '', '')`,
      );
      await client.query("rollback");
    } finally {
      await client.end();
    }
  });

  it("names the first entry a superuser changed with the triggers off, and a deleted one", async () => {
    const edit = new pg.Client({ connectionString: rt.databaseUrl });
    await edit.connect();
    try {
      await edit.query("set session_replication_role = replica");
      await edit.query("update tax_ledger set tax_minor = 6000, net_minor = 101000 where event_key = 's1'");
      const tampered = (await rt.api("/v1/tax/verify?country=TH")).body;
      assert.equal(tampered.ok, false);
      assert.deepEqual(tampered.firstBad, { id: tampered.firstBad.id, country: "TH", seq: 1, eventKey: "s1", reason: "its fields do not match its hash (the entry was changed)" });
      await edit.query("update tax_ledger set tax_minor = 7000, net_minor = 100000 where event_key = 's1'");
      assert.equal((await rt.api("/v1/tax/verify?country=TH")).body.ok, true, "put back exactly, the chain holds again");
      await edit.query("delete from tax_ledger where country = 'TH' and seq = 100");
      assert.deepEqual((await rt.api("/v1/tax/verify")).body.firstBad.reason, "entry 100 of TH is missing (the next one is 101)");
    } finally {
      await edit.end();
    }
  });
});
