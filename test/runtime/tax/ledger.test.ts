import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { ConfigError, loadConfig } from "../../../runtime/config.js";
import { migrateAs, RuntimeRoleRefused } from "../../../runtime/db/migrate.js";
import { ensureEventPartitions } from "../../../runtime/events/partitions.js";
import { ingestEvents } from "../../../runtime/events/ingest.js";
import { foldRollups } from "../../../runtime/reports/rollups.js";
import { entryHash, ledgerKey, type LedgerEntry, type LedgerKey } from "../../../runtime/tax/ledger.js";
import { verifyLedger } from "../../../runtime/tax/verify.js";
import { freshDatabase, stopDatabase } from "../../helpers/database.js";
import { startRuntime, type TestRuntime } from "../../helpers/runtime.js";
import { addSubscribers, applyCampaigns, query } from "../../helpers/sending.js";
import { waitFor } from "../../helpers/wait-for.js";

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
    const verified = (await rt.api("/v1/tax/verify")).body;
    assert.deepEqual({ ...verified, heads: undefined }, { ok: true, checked: 204, countries: ["CA", "TH", "ZZ"], heads: undefined });
    const last = (await query<{ hash: string }>(rt.databaseUrl, "select hash from tax_ledger where country = 'TH' and seq = 202"))[0]!;
    assert.deepEqual(verified.heads[1], { country: "TH", seq: 202, hash: last.hash, keyId: null }, "each chain's head; unkeyed without MK_LEDGER_KEY");
  });

  it("refuses UPDATE, DELETE and TRUNCATE, even from the database's owner", async () => {
    for (const sql of ["update tax_ledger set tax_minor = 0 where event_key = 's1'", "delete from tax_ledger where event_key = 's1'", "truncate tax_ledger"]) {
      await assert.rejects(query(rt.databaseUrl, sql), /tax_ledger is append-only: (UPDATE|DELETE|TRUNCATE) is refused; record a correcting entry instead/);
    }
    assert.equal((await query(rt.databaseUrl, "select 1 from tax_ledger")).length, 204);
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

/** A connection string for `role` (password the role's name) to `database`, on the cluster `url` points at. */
function as(url: string, role: string, database: string): string {
  const at = new URL(url);
  at.username = role;
  at.password = role;
  at.pathname = `/${database}`;
  return at.toString();
}

/**
 * What someone who can change rows but has no key does: change one entry's
 * amounts, then hash it and every later entry again (with `key`, or plain
 * SHA-256), recording `keyId` as their scheme; inside `owner`'s transaction.
 */
async function recompute(owner: pg.Client, country: string, fromSeq: number, key: LedgerKey | undefined, keyId: string | null): Promise<void> {
  const rows = (await owner.query(
    `select seq, region, kind, event_key, occurred_at, tax_date::text as tax_date, currency, net_minor, tax_minor, gross_minor, rate::text as rate,
       tax_type, prices_include_tax, campaign, variant, prev_hash from tax_ledger where country = $1 order by seq`,
    [country],
  )).rows;
  let prev = rows.find((r) => Number(r.seq) === fromSeq)!.prev_hash as string;
  for (const row of rows.filter((r) => Number(r.seq) >= fromSeq)) {
    const edited = Number(row.seq) === fromSeq;
    const entry: LedgerEntry = {
      country, region: row.region, kind: row.kind, eventKey: row.event_key, occurredAt: row.occurred_at, taxDate: row.tax_date, currency: row.currency,
      netMinor: Number(row.net_minor) + (edited ? 650 : 0), taxMinor: Number(row.tax_minor) - (edited ? 650 : 0), grossMinor: Number(row.gross_minor),
      rate: row.rate, taxType: row.tax_type, pricesIncludeTax: row.prices_include_tax, campaign: row.campaign, variant: row.variant,
    };
    const hash = entryHash(entry, Number(row.seq), prev, key);
    await owner.query("update tax_ledger set net_minor = $3, tax_minor = $4, prev_hash = $5, hash = $6, key_id = $7 where country = $1 and seq = $2", [
      country, row.seq, entry.netMinor, entry.taxMinor, prev, hash, keyId,
    ]);
    prev = hash;
  }
}

describe("the ledger under a runtime role that owns nothing (MK_MIGRATION_DATABASE_URL)", { timeout: 180_000 }, () => {
  const KEY = "ledger-key-for-tests-0123456789-abcdef";
  const key = ledgerKey(KEY);
  let superuser: string;
  let ownerUrl: string;
  let runtimeUrl: string;
  let rt: TestRuntime;
  const buy = (idempotencyKey: string, email: string, extra: object = {}) => ({
    idempotencyKey, type: "purchase", subscriber: { email }, occurredAt: new Date().toISOString(), amount: { value: 107_000, currency: "THB" }, ...extra,
  });

  before(async () => {
    superuser = await freshDatabase();
    await query(superuser, "create role ledger_owner login password 'ledger_owner'");
    await query(superuser, "create role ledger_runtime login password 'ledger_runtime'");
    await query(superuser, "create database ledger_split owner ledger_owner");
    ownerUrl = as(superuser, "ledger_owner", "ledger_split");
    runtimeUrl = as(superuser, "ledger_runtime", "ledger_split");
    const migrations = await migrateAs({ DATABASE_URL: runtimeUrl, MK_MIGRATION_DATABASE_URL: ownerUrl });
    assert.ok(migrations.includes("000012_ledger_key"));
    // Entry 1 of TH is written before the runtime has a key; the rest with it.
    const unkeyed = await startRuntime({}, runtimeUrl);
    try {
      await addSubscribers(runtimeUrl, 2, { countries: ["TH"] });
      assert.equal((await unkeyed.api("/v1/events", { body: { events: [buy("before-key", "s1@example.test")] } })).body.accepted, 1);
    } finally {
      await unkeyed.close();
    }
    rt = await startRuntime({ MK_LEDGER_KEY: KEY, MK_WORKERS: "1", MK_REPORT_CACHE_SECONDS: "0" }, runtimeUrl, { rollupFoldIntervalMs: 0 });
  }, { timeout: 120_000 });
  after(() => rt?.close(), { timeout: 120_000 });

  it("migrates as the owner and runs as a role that appends purchases, sends, folds and partitions, but cannot rewrite or unprotect the ledger", async () => {
    // Sending, purchases attributed to the send, rollups and the tax report, all as the runtime's role.
    await applyCampaigns(rt, [{ name: "launch" }]);
    assert.equal((await rt.api("/v1/sends/start", { body: { campaign: "launch" } })).status, 200);
    await waitFor(async () => (await query(runtimeUrl, "select 1 from sends where status = 'sent'")).length === 2, 60_000, "both sends");
    const sends = await query<{ id: string; email: string }>(runtimeUrl, "select id, email from sends order by email");
    const events = sends.map((send, i) => buy(`after-key-${i}`, send.email, { sendId: send.id }));
    const ingested = await rt.api("/v1/events", { body: { events: [...events, buy("after-key-2", "s2@example.test")] } });
    assert.equal(ingested.body.accepted, 3, JSON.stringify(ingested.body));
    const imported = await rt.api("/v1/subscribers/import", { body: { subscribers: [{ email: "later@example.test", country: "TH" }] } });
    assert.deepEqual([imported.status, imported.body.inserted], [200, 1], "COPY into a temporary table, as the runtime's role");
    await foldRollups(rt.pool);
    assert.deepEqual(await query(runtimeUrl, "select sum(sent)::int as sent, sum(converted)::int as converted from campaign_rollups where campaign = 'launch'"), [{ sent: 2, converted: 2 }]);
    const ledger = await query<{ seq: number; key_id: string | null }>(runtimeUrl, "select seq::int, key_id from tax_ledger where country = 'TH' order by seq");
    assert.deepEqual(ledger, [{ seq: 1, key_id: null }, { seq: 2, key_id: key.id }, { seq: 3, key_id: key.id }, { seq: 4, key_id: key.id }]);
    assert.deepEqual(await query(runtimeUrl, "select lines::int, gross_minor::int from tax_daily where country = 'TH'"), [{ lines: 4, gross_minor: 428_000 }], "tax_daily kept by the database");
    const report = await rt.api(`/v1/reports/tax?country=TH&period=${new Date().getUTCFullYear()}`);
    assert.equal(report.status, 200, JSON.stringify(report.body));
    const verified = (await rt.api("/v1/tax/verify")).body;
    assert.deepEqual([verified.ok, verified.checked, verified.heads[0].seq, verified.heads[0].keyId], [true, 4, 4, key.id]);

    // This month's partition and the next ones exist, created by the runtime's role through the owner's function.
    const month = new Date().toISOString().slice(0, 7).replace("-", "_");
    assert.deepEqual(await query(runtimeUrl, "select pg_get_userbyid(relowner) as owner from pg_class where relname = $1", [`events_${month}`]), [{ owner: "ledger_owner" }]);
    assert.deepEqual(await ensureEventPartitions(rt.pool, new Date("2031-01-15T00:00:00Z")), ["2031-01", "2031-02", "2031-03", "2031-04"]);

    // What the runtime's role may not do.
    const runtime = new pg.Client({ connectionString: runtimeUrl });
    await runtime.connect();
    try {
      for (const sql of ["alter table tax_ledger disable trigger all", "alter table tax_ledger disable trigger tax_ledger_no_update", "alter table tax_ledger owner to ledger_runtime"]) {
        await assert.rejects(runtime.query(sql), /must be owner of table tax_ledger/, sql);
      }
      for (const sql of ["update tax_ledger set tax_minor = 0", "delete from tax_ledger", "truncate tax_ledger"]) await assert.rejects(runtime.query(sql), /permission denied for table tax_ledger/, sql);
      for (const sql of ["update tax_daily set gross_minor = 0", "delete from tax_daily", "insert into tax_daily values ('TH', current_date, 'THB', 1, 1, 0, 1)"]) {
        await assert.rejects(runtime.query(sql), /permission denied for table tax_daily/, sql);
      }
      await assert.rejects(runtime.query("select mk_detach_event_partition('2031-04-01')"), /must be owner of table events/);
      await assert.rejects(runtime.query("set session_replication_role = replica"), /permission denied to set parameter/);
    } finally {
      await runtime.end();
    }
    assert.equal((await query(ownerUrl, "select count(*)::int as n from tax_ledger"))[0]!.n, 4);

    // Migrating again grants again and changes nothing; a runtime role that could act as the owner is refused.
    assert.deepEqual(await migrateAs({ DATABASE_URL: runtimeUrl, MK_MIGRATION_DATABASE_URL: ownerUrl }), []);
    const superuserHere = new URL(superuser);
    superuserHere.pathname = "/ledger_split";
    for (const DATABASE_URL of [ownerUrl, superuserHere.toString()]) {
      await assert.rejects(migrateAs({ DATABASE_URL, MK_MIGRATION_DATABASE_URL: ownerUrl }), (error: unknown) => {
        assert.ok(error instanceof RuntimeRoleRefused);
        assert.match(error.message, /^MK_MIGRATION_DATABASE_URL: the runtime's role (ledger_owner|postgres) can act as ledger_owner, the role migrations run as .* give DATABASE_URL a role of its own$/);
        return true;
      });
    }
  });

  it("finds a chain the owner recomputed without the key (as plain SHA-256, with another key, or back to unkeyed), and never extends a keyed chain without its key", async () => {
    const owner = new pg.Client({ connectionString: ownerUrl });
    await owner.connect();
    const other = ledgerKey("somebody-elses-key-0123456789-abcdefgh");
    const attacks: [string, () => Promise<void>, string][] = [
      ["plain SHA-256, key id kept", () => recompute(owner, "TH", 3, undefined, key.id), "its fields do not match its hash (the entry was changed)"],
      ["another key, our key id", () => recompute(owner, "TH", 3, other, key.id), "its fields do not match its hash (the entry was changed)"],
      ["another key, its own id", () => recompute(owner, "TH", 3, other, other.id), `its key id ${other.id} is not MK_LEDGER_KEY's (${key.id}): an unknown key`],
      ["back to plain SHA-256", () => recompute(owner, "TH", 3, undefined, null), "it is unkeyed after keyed entries (a chain never goes back to plain SHA-256: it was rewritten without the key)"],
    ];
    try {
      for (const [name, attack, reason] of attacks) {
        // The owner can turn the trigger off (inside a transaction, rolled back after each attack).
        await owner.query("begin");
        await owner.query("alter table tax_ledger disable trigger tax_ledger_no_update");
        await attack();
        const result = await verifyLedger(owner, { key });
        assert.equal(result.ok, false, name);
        assert.deepEqual([result.firstBad?.seq, result.firstBad?.reason], [3, reason], name);
        await owner.query("rollback");
      }
      assert.equal((await verifyLedger(owner, { key })).ok, true, "rolled back, the chain holds");
      const unkeyedRuntime = await verifyLedger(owner, {});
      assert.equal(unkeyedRuntime.firstBad?.reason, `it is keyed (key id ${key.id}) and the runtime has no MK_LEDGER_KEY to check it with`);
      // Nor does a runtime that lost its key (or has another) extend a keyed chain: the purchase is refused, nothing written.
      for (const ledgerKey of [undefined, other]) {
        await assert.rejects(ingestEvents(rt.pool, [buy("no-key", "s1@example.test")], { deadLetter: true, attributionWindowMs: 1000, ledgerKey }), {
          name: "LedgerKeyMismatch",
          message: `the tax ledger's TH chain is keyed with key id ${key.id}, and the runtime has ${ledgerKey ? `MK_LEDGER_KEY with key id ${other.id}` : "no MK_LEDGER_KEY"}: set MK_LEDGER_KEY to the key the chain was written with; purchases and refunds are refused until then`,
        });
      }
      assert.deepEqual(await query(ownerUrl, "select 1 from events where idempotency_key = 'no-key'"), []);
    } finally {
      await owner.end();
    }
  });

  it("passes a chain the owner cut short, but not against the heads recorded before", async () => {
    const recorded = (await rt.api("/v1/tax/verify")).body.heads as { country: string; seq: number; hash: string }[];
    assert.deepEqual(recorded.map((h) => [h.country, h.seq]), [["TH", 4]]);
    const th = recorded[0]!;
    const entry2 = (await query<{ hash: string }>(ownerUrl, "select hash from tax_ledger where country = 'TH' and seq = 2"))[0]!.hash;
    await query(ownerUrl, "alter table tax_ledger disable trigger tax_ledger_no_update; delete from tax_ledger where country = 'TH' and seq > 2; alter table tax_ledger enable trigger tax_ledger_no_update");

    const plain = (await rt.api("/v1/tax/verify")).body;
    assert.deepEqual([plain.ok, plain.checked, plain.heads[0].seq, plain.lostHeads], [true, 2, 2, undefined], "what is left is a valid chain");
    const expect = [`TH:${th.seq}:${th.hash}`, `DE:7:${"d".repeat(64)}`].join(",");
    const checked = await rt.api(`/v1/tax/verify?expect=${encodeURIComponent(expect)}`);
    assert.equal(checked.status, 200, JSON.stringify(checked.body));
    assert.deepEqual(checked.body.lostHeads, [
      { country: "TH", seq: 4, hash: th.hash, headSeq: 2, reason: "truncated" },
      { country: "DE", seq: 7, hash: "d".repeat(64), headSeq: 0, reason: "truncated" },
    ]);
    const same = await rt.api(`/v1/tax/verify?expect=${encodeURIComponent(`TH:2:${entry2}`)}`);
    assert.deepEqual(same.body.lostHeads, [], "a head still in its chain");
    const replaced = await rt.api(`/v1/tax/verify?country=TH&expect=${encodeURIComponent(`TH:1:${"e".repeat(64)},DE:7:${"d".repeat(64)}`)}`);
    assert.deepEqual(replaced.body.lostHeads, [{ country: "TH", seq: 1, hash: "e".repeat(64), headSeq: 2, reason: "replaced" }], "--country checks that country's head only");
    const bad = await rt.api("/v1/tax/verify?expect=TH:0:abc");
    assert.deepEqual([bad.status, bad.body.error.fields], [400, [{ path: "expect[0]", message: "must be heads such as TH:202:<64 hex digits>, separated by commas" }]]);
  });
});

describe("MK_LEDGER_KEY and MK_MIGRATION_DATABASE_URL", { timeout: 180_000 }, () => {
  it("are checked at start without printing the key, and count as unset when empty (compose's ${NAME:-})", () => {
    const base = { DATABASE_URL: "postgres://mk_runtime:secret@db:5432/mk", MK_API_TOKEN: "t".repeat(32), MK_SIGNING_SECRET: "s".repeat(32) };
    const config = loadConfig({ ...base, MK_LEDGER_KEY: "k".repeat(32), MK_MIGRATION_DATABASE_URL: "postgres://mk_owner:secret@db:5432/mk" });
    assert.deepEqual([config.MK_LEDGER_KEY, config.MK_MIGRATION_DATABASE_URL], ["k".repeat(32), "postgres://mk_owner:secret@db:5432/mk"]);
    const empty = loadConfig({ ...base, MK_LEDGER_KEY: "", MK_MIGRATION_DATABASE_URL: "" });
    assert.deepEqual([empty.MK_LEDGER_KEY, empty.MK_MIGRATION_DATABASE_URL], [undefined, undefined]);
    assert.throws(
      () => loadConfig({ ...base, MK_LEDGER_KEY: "short-ledger-key", MK_MIGRATION_DATABASE_URL: "mysql://owner@db/mk" }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.deepEqual(error.problems, [
          "MK_MIGRATION_DATABASE_URL must be a PostgreSQL connection string such as postgres://mk_owner:password@host:5432/mk (the role that owns the tables)",
          "MK_LEDGER_KEY must be at least 32 characters (openssl rand -base64 32)",
        ]);
        assert.doesNotMatch(error.message, /short-ledger-key/);
        return true;
      },
    );
  });
});
