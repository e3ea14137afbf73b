import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { MkError } from "../../cli/errors.js";
import type { LocalRuntime } from "../../cli/local/up.js";
import { readLedgerHeads } from "../../cli/tax/ledger-heads.js";
import { ledgerKey } from "../../runtime/tax/ledger.js";
import { initAndUp, type LocalRepository } from "../helpers/local-repository.js";
import { STACK_LINE } from "../helpers/run-mk.js";

let repo: string;
let local: LocalRuntime;
let mk: LocalRepository["mk"];
let stop: LocalRepository["stop"];
let api: LocalRepository["api"];
const file = async (name: string, text: string) => {
  const at = path.join(repo, name);
  await writeFile(at, text);
  return at;
};

before(async () => {
  ({ repo, local, mk, stop, api } = await initAndUp("mk-tax-"));
  assert.equal((await mk("apply", "--auto-approve")).code, 0);
}, { timeout: 120_000 });

after(() => stop(), { timeout: 120_000 });

describe("mk fx import", { timeout: 180_000 }, () => {
  it("reads the ECB's daily file, its history file and a plain CSV", async () => {
    // As the ECB publishes them: ", " separators and "03 June 2021" in the daily file; N/A and a trailing comma in the history.
    const daily = await file("eurofxref.csv", "Date, USD, JPY, BGN, THB, KWD, \n20 November 2026, 1.0512, 162.35, 1.9558, 37.938, 0.3241, \n");
    const run = await mk("fx", "import", daily);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'Imported 5 rates (5 currency pairs, 1 days from 2026-11-20 to 2026-11-20) into "local".\n');

    const hist = await file("eurofxref-hist.csv", "Date,USD,JPY,CYP,THB,\n2026-11-19,1.0500,162.10,N/A,37.900,\n2026-11-18,1.0490,161.95,N/A,37.850,\n");
    assert.equal((await mk("fx", "import", hist)).stdout, 'Imported 6 rates (3 currency pairs, 2 days from 2026-11-18 to 2026-11-19) into "local".\n');

    const plain = await file("rates.csv", "date,base,quote,rate\n2026-11-20,usd,thb,36.09\n");
    const json = await mk("fx", "import", plain, "--json");
    assert.deepEqual([json.code, json.stderr], [0, ""]);
    assert.deepEqual(JSON.parse(json.stdout), { env: "local", source: "CSV rates.csv", rates: 1, pairs: ["USD/THB"], days: 1, from: "2026-11-20", to: "2026-11-20" });

    const db = new pg.Client({ connectionString: local.databaseUrl });
    await db.connect();
    try {
      const stored = (await db.query("select day::text, base, quote, rate::float8 as rate, source from fx_rates where quote in ('THB', 'KWD') order by base, quote, day")).rows;
      assert.deepEqual(stored, [
        { day: "2026-11-20", base: "EUR", quote: "KWD", rate: 0.3241, source: "ECB eurofxref.csv" },
        { day: "2026-11-18", base: "EUR", quote: "THB", rate: 37.85, source: "ECB eurofxref-hist.csv" },
        { day: "2026-11-19", base: "EUR", quote: "THB", rate: 37.9, source: "ECB eurofxref-hist.csv" },
        { day: "2026-11-20", base: "EUR", quote: "THB", rate: 37.938, source: "ECB eurofxref.csv" },
        { day: "2026-11-20", base: "USD", quote: "THB", rate: 36.09, source: "CSV rates.csv" },
      ]);
      assert.equal((await db.query("select 1 from fx_rates where quote = 'CYP'")).rowCount, 0, "N/A is no rate");
    } finally {
      await db.end();
    }
  });

  it("names the file, line and column of a bad rate, and imports nothing", async () => {
    const bad = await file("bad-hist.csv", "Date,USD,THB,\n2026-11-17,1.04,37.8,\n2026-11-16,1.04,abc,\n");
    const run = await mk("fx", "import", bad);
    assert.equal(run.code, 1);
    assert.equal(run.stderr, 'Error: MK088 bad-hist.csv:3: THB must be a positive decimal number, e.g. 1.0512 (got "abc")\n');
    const missing = await mk("fx", "import", path.join(repo, "nope.csv"));
    assert.equal(missing.stderr, `Error: MK088 cannot read ${path.join(repo, "nope.csv")}: ENOENT\n`);
    const wrong = await mk("fx", "import", await file("other.csv", "when,what\n1,2\n"));
    assert.match(wrong.stderr, /^Error: MK088 other\.csv:1: header must be the ECB's/);
    assert.doesNotMatch(wrong.stderr, STACK_LINE);
  });
});

describe("mk tax rates, mk tax verify", { timeout: 180_000 }, () => {
  it("prints the rates in force with their sources, flags unconfirmed rows, and shows history", async () => {
    const today = await mk("tax", "rates", "--country", "th");
    assert.equal(today.code, 0, today.stderr);
    assert.match(today.stdout, /TH\s+│?\s+│?\s*VAT\s+│?\s*7 %\s+│?\s*2026-10-01/);
    assert.match(today.stdout, /^! TH 7 % from 2026-10-01 is unconfirmed: UNVERIFIED/m);
    const canada = JSON.parse((await mk("tax", "rates", "--country", "CA", "--date", "2025-03-31", "--json")).stdout) as { region: string | null; type: string; rate: string }[];
    assert.deepEqual(canada.find((r) => r.region === "NS"), { ...canada.find((r) => r.region === "NS"), type: "HST", rate: "15" });
    const history = JSON.parse((await mk("tax", "rates", "--country", "TH", "--history", "--json")).stdout) as { rate: string; from: string }[];
    assert.deepEqual(history.map((r) => [r.rate, r.from]), [["7", "1992-01-01"], ["10", "1997-08-16"], ["7", "1999-04-01"], ["7", "2026-10-01"]]);
  });

  it("says the ledger holds", async () => {
    const run = await mk("tax", "verify");
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, "The tax ledger holds: 0 entries in 0 chains (none).\n");
    assert.deepEqual(await mk("tax", "verify", "--json"), { code: 0, stdout: `${JSON.stringify({ ok: true, checked: 0, countries: [], heads: [] }, null, 2)}\n`, stderr: "" });
  });

  it("exits 3 and names the entry when someone edited the ledger behind the database's back", async () => {
    await api("/v1/subscribers/import", { subscribers: [{ email: "buyer@example.test", country: "TH" }] });
    const events = ["o1", "o2"].map((key) => ({ idempotencyKey: key, type: "purchase", subscriber: { email: "buyer@example.test" }, occurredAt: "2026-11-20T10:00:00+07:00", amount: { value: 107_000, currency: "THB" } }));
    await api("/v1/events", { events });
    // mk up keys the chain with the key it generated into its data folder; each chain's head is printed.
    const keyId = ledgerKey((await readFile(path.join(repo, ".mk", "ledger-key"), "utf8")).trim()).id;
    const head = (await api("/v1/tax/verify")).heads[0] as { seq: number; hash: string; keyId: string };
    assert.deepEqual([head.seq, head.keyId], [2, keyId]);
    assert.equal((await mk("tax", "verify", "--country", "TH")).stdout, `The tax ledger holds: 2 entries in 1 chain (TH).\n  TH  2  ${head.hash}  keyed (key id ${keyId})\n`);
    const db = new pg.Client({ connectionString: local.databaseUrl });
    await db.connect();
    try {
      await db.query("set session_replication_role = replica; update tax_ledger set gross_minor = 10700, net_minor = 10000, tax_minor = 700 where event_key = 'o2'");
    } finally {
      await db.end();
    }
    const run = await mk("tax", "verify");
    assert.equal(run.code, 3);
    assert.match(run.stderr, /^Tampered: TH entry 2 \(id \d+, event o2\): its fields do not match its hash \(the entry was changed\)\. 1 entries before it hold\.\n$/);
    const json = await mk("tax", "verify", "--json");
    assert.equal(json.code, 3);
    assert.equal(json.stderr, run.stderr);
    const result = JSON.parse(json.stdout) as { ok: boolean; firstBad: { country: string; seq: number; eventKey: string } };
    assert.deepEqual([result.ok, result.firstBad.country, result.firstBad.seq, result.firstBad.eventKey], [false, "TH", 2, "o2"]);
  });

  it("finds entries cut from the end of a chain against the heads recorded before, which plain verification cannot", async () => {
    await api("/v1/subscribers/import", { subscribers: [{ email: "kunde@example.test", country: "DE" }] });
    const buy = (key: string) => ({ idempotencyKey: key, type: "purchase", subscriber: { email: "kunde@example.test" }, occurredAt: "2026-11-20T10:00:00+01:00", amount: { value: 11_900, currency: "EUR" } });
    await api("/v1/events", { events: [buy("de1"), buy("de2")] });
    const recorded = await mk("tax", "verify", "--country", "DE", "--json");
    assert.equal(recorded.code, 0, recorded.stderr);
    const heads = await file("heads.json", recorded.stdout);
    await api("/v1/events", { events: [buy("de3")] });
    const db = new pg.Client({ connectionString: local.databaseUrl });
    await db.connect();
    try {
      await db.query("set session_replication_role = replica; delete from tax_ledger where country = 'DE' and seq > 1");
    } finally {
      await db.end();
    }
    // What is left is a valid chain (no exit 3); only the recorded head shows the cut.
    const run = await mk("tax", "verify", "--country", "DE", "--expect-head", heads);
    assert.deepEqual([run.code, run.stderr], [1, "Error: MK105 the tax ledger no longer holds a head recorded in " + heads + ": DE ends at entry 1, but entry 2 was its head when recorded: entries were cut from its end\n"]);
    assert.match(run.stdout, /^The tax ledger holds: 1 entries in 1 chain \(DE\)\.\n  DE  1  [0-9a-f]{64}  keyed/);
  });
});

describe("mk tax verify --expect-head FILE", { timeout: 180_000 }, () => {
  it("reads the heads mk tax verify --json wrote, and names the file and field of one that is not", async () => {
    const hash = "a".repeat(64);
    const written = await file("recorded.json", JSON.stringify({ ok: true, checked: 9, countries: ["TH"], heads: [{ country: "TH", seq: 9, hash, keyId: null }] }));
    assert.deepEqual(await readLedgerHeads(written), [{ country: "TH", seq: 9, hash }]);
    const failures: [string, string][] = [
      [await file("h1.json", "{ not json"), "is not JSON"],
      [await file("h2.json", JSON.stringify({ heads: [{ country: "TH", seq: 0, hash }] })), ": heads[0].seq must be an entry number, 1 or more"],
      [await file("h3.json", JSON.stringify({ heads: [{ country: "TH", seq: 1, hash: "XYZ" }] })), ": heads[0].hash must be 64 lowercase hex digits"],
      [await file("h4.json", JSON.stringify({ heads: [{ country: "TH", seq: 1, hash }, { country: "TH", seq: 2, hash }] })), ": heads name each country once"],
      [await file("h5.json", JSON.stringify({ heads: {} })), ": heads must be the list of heads mk tax verify --json prints"],
      [path.join(repo, "missing.json"), ": ENOENT"],
    ];
    for (const [at, message] of failures) {
      await assert.rejects(readLedgerHeads(at), (error: unknown) => {
        assert.ok(error instanceof MkError && error.code === "MK106", String(error));
        assert.ok(error.message.includes(message), `${error.message} has ${message}`);
        return true;
      });
    }
  });
});
