import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { parse } from "csv-parse/sync";
import { getDocument } from "pdfjs-dist/legacy/build/pdf.mjs";
import type { TaxReport } from "../../schemas/tax.js";
import { stopDatabase } from "../helpers/database.js";
import { runMk, STACK_LINE } from "../helpers/run-mk.js";
import { startRuntime, TOKEN, type TestRuntime } from "../helpers/runtime.js";
import { query } from "../helpers/sending.js";
import { tempRepo } from "../helpers/temp-repo.js";

after(() => stopDatabase(), { timeout: 120_000 });

/** pdf.js's copies of the 14 standard PDF fonts (the report uses Helvetica). */
const STANDARD_FONTS = `${path.dirname(createRequire(import.meta.url).resolve("pdfjs-dist/package.json"))}/standard_fonts/`;

/*
 * A fixture computed by hand (decimal arithmetic, half up per line), not by
 * mk: 33 sales and refunds in Thailand in THB, USD, EUR, JPY and KWD,
 * September at 7 % and October at 10 % (an mk.yaml override: the reduced rate
 * lapsing), the first 16 with tax-inclusive prices and the rest exclusive.
 * ECB rates per EUR: THB 38 in September and 40 in October, USD 1.25, JPY 160,
 * KWD 0.32 — so 1 USD = 30.4 / 32 THB, 1 JPY = 0.2375 / 0.25 THB,
 * 1 KWD = 118.75 / 125 THB. Each line converted on its own, rounded half up.
 *
 * key, tax date, currency, amount (minor), kind, prices include tax,
 * net, tax, gross (minor units of the currency; refunds negative), net THB, tax THB (satang).
 */
type Line = [string, string, string, number, "purchase" | "refund", boolean, number, number, number, number, number];
const LINES: Line[] = [
  ["t01", "2026-09-10", "THB", 107000, "purchase", true, 100000, 7000, 107000, 100000, 7000],
  ["t02", "2026-09-10", "THB", 53500, "purchase", true, 50000, 3500, 53500, 50000, 3500],
  ["t03", "2026-09-10", "USD", 4999, "purchase", true, 4672, 327, 4999, 142029, 9941],
  ["t04", "2026-09-10", "EUR", 2500, "purchase", true, 2336, 164, 2500, 88768, 6232],
  ["t05", "2026-09-10", "JPY", 1000, "purchase", true, 935, 65, 1000, 22206, 1544],
  ["t06", "2026-09-10", "KWD", 5000, "purchase", true, 4673, 327, 5000, 55492, 3883],
  ["t07", "2026-09-30", "THB", 99900, "purchase", true, 93364, 6536, 99900, 93364, 6536],
  ["t08", "2026-09-30", "USD", 1999, "purchase", true, 1868, 131, 1999, 56787, 3982],
  ["t09", "2026-09-30", "JPY", 4980, "purchase", true, 4654, 326, 4980, 110533, 7743],
  ["t10", "2026-09-30", "KWD", 333, "purchase", true, 311, 22, 333, 3693, 261],
  ["t11", "2026-09-30", "THB", 53500, "refund", true, -50000, -3500, -53500, -50000, -3500],
  ["t12", "2026-10-01", "THB", 110000, "purchase", true, 100000, 10000, 110000, 100000, 10000],
  ["t13", "2026-10-01", "USD", 12000, "purchase", true, 10909, 1091, 12000, 349088, 34912],
  ["t14", "2026-10-01", "JPY", 12800, "purchase", true, 11636, 1164, 12800, 290900, 29100],
  ["t15", "2026-10-01", "EUR", 999, "purchase", true, 908, 91, 999, 36320, 3640],
  ["t16", "2026-10-01", "USD", 1999, "refund", true, -1817, -182, -1999, -58144, -5824],
  ["t17", "2026-09-10", "THB", 100000, "purchase", false, 100000, 7000, 107000, 100000, 7000],
  ["t18", "2026-09-10", "USD", 2000, "purchase", false, 2000, 140, 2140, 60800, 4256],
  ["t19", "2026-09-10", "KWD", 1250, "purchase", false, 1250, 88, 1338, 14844, 1045],
  ["t20", "2026-09-30", "JPY", 3000, "purchase", false, 3000, 210, 3210, 71250, 4988],
  ["t21", "2026-09-30", "EUR", 1234, "purchase", false, 1234, 86, 1320, 46892, 3268],
  ["t22", "2026-09-30", "USD", 999, "refund", false, -999, -70, -1069, -30370, -2128],
  ["t23", "2026-10-01", "THB", 1999, "purchase", false, 1999, 200, 2199, 1999, 200],
  ["t24", "2026-10-01", "KWD", 125, "purchase", false, 125, 13, 138, 1563, 163],
  ["t25", "2026-10-15", "THB", 250000, "purchase", false, 250000, 25000, 275000, 250000, 25000],
  ["t26", "2026-10-15", "USD", 7777, "purchase", false, 7777, 778, 8555, 248864, 24896],
  ["t27", "2026-10-15", "JPY", 999, "purchase", false, 999, 100, 1099, 24975, 2500],
  ["t28", "2026-10-15", "EUR", 4999, "purchase", false, 4999, 500, 5499, 199960, 20000],
  ["t29", "2026-10-15", "KWD", 2000, "purchase", false, 2000, 200, 2200, 25000, 2500],
  ["t30", "2026-10-15", "THB", 100000, "refund", false, -100000, -10000, -110000, -100000, -10000],
  ["t31", "2026-10-15", "JPY", 500, "refund", false, -500, -50, -550, -12500, -1250],
  ["t32", "2026-10-15", "KWD", 1000, "refund", false, -1000, -100, -1100, -12500, -1250],
  ["t33", "2026-10-31", "USD", 3333, "purchase", false, 3333, 333, 3666, 106656, 10656],
];

const sum = (lines: Line[], column: number) => lines.reduce((n, l) => n + (l[column] as number), 0);
const totalsOf = (lines: Line[]) => ({
  sales: lines.filter((l) => l[4] === "purchase").length,
  refunds: lines.filter((l) => l[4] === "refund").length,
  netMinor: sum(lines, 9),
  taxMinor: sum(lines, 10),
  grossMinor: sum(lines, 9) + sum(lines, 10),
});
const SEPTEMBER = LINES.filter((l) => l[1].startsWith("2026-09"));
const OCTOBER = LINES.filter((l) => l[1].startsWith("2026-10"));

function project(pricesIncludeTax: boolean) {
  return {
    kind: "Project",
    name: "fixture",
    spec: {
      name: "fixture",
      defaults: { from: "Fixture <hello@fixture.example>", timezone: "Asia/Bangkok", postalAddress: "1 Test Rd, Bangkok" },
      currency: "THB",
      tax: { pricesIncludeTax, rates: [{ country: "TH", type: "VAT", rate: "10", from: "2026-10-01", reason: "the Royal Decree keeping 7 % was not extended" }] },
    },
  };
}

describe("mk report tax on a hand-computed fixture", { timeout: 180_000 }, () => {
  let rt: TestRuntime;
  let repo: Awaited<ReturnType<typeof tempRepo>>;
  const mk = (...args: string[]) => runMk([...args, "--env", "fixture", "--dir", repo.root], { env: { MK_FIXTURE_TOKEN: TOKEN } });

  before(async () => {
    rt = await startRuntime();
    repo = await tempRepo();
    await repo.write("mk.yaml", (await readFile(path.join(repo.root, "mk.yaml"), "utf8")).replace("environments:\n", `environments:\n  fixture: { url: "${rt.url}", tokenEnv: MK_FIXTURE_TOKEN }\n`));
    await query(rt.databaseUrl, "insert into subscribers (email, country) values ('nomad@example.test', 'TH'), ('big@example.test', 'TH')");
    const apply = async (pricesIncludeTax: boolean) => {
      const { serial } = (await rt.api("/v1/state")).body as { serial: number };
      const result = await rt.api("/v1/apply", { body: { baseSerial: serial, source: { commit: null, author: null, branch: null, dirty: false }, templates: [], resources: [project(pricesIncludeTax)] } });
      assert.equal(result.status, 200, JSON.stringify(result.body));
    };
    // ECB reference rates (per EUR); none for 2026-10-31, so that day's line uses 2026-10-30's, flagged.
    const ecb = (day: string, thb: string) => ["THB", "USD", "JPY", "KWD"].map((quote) => ({ day, base: "EUR", quote, rate: { THB: thb, USD: "1.25", JPY: "160", KWD: "0.32" }[quote]! }));
    const fx = await rt.api("/v1/fx/rates", { body: { source: "test", rates: [...ecb("2026-09-10", "38"), ...ecb("2026-09-30", "38"), ...ecb("2026-10-01", "40"), ...ecb("2026-10-15", "40"), ...ecb("2026-10-30", "40")] } });
    assert.equal(fx.status, 200, JSON.stringify(fx.body));
    const ingest = async (lines: Line[]) => {
      const events = lines.map(([key, day, currency, value, kind]) => ({ idempotencyKey: key, type: kind, subscriber: { email: "nomad@example.test" }, occurredAt: `${day}T12:00:00+07:00`, amount: { value, currency }, country: "TH" }));
      const result = await rt.api("/v1/events", { body: { events } });
      assert.equal(result.body.accepted, lines.length, JSON.stringify(result.body));
    };
    await apply(true);
    await ingest(LINES.filter((l) => l[5]));
    await apply(false);
    await ingest(LINES.filter((l) => !l[5]));
  }, { timeout: 120_000 });
  after(async () => {
    await rt.close();
    await repo.remove();
  }, { timeout: 120_000 });

  it("stores every line of the fixture in the ledger, to the minor unit", async () => {
    const rows = await query<{ event_key: string; net_minor: string; tax_minor: string; gross_minor: string; rate: string }>(
      rt.databaseUrl,
      "select event_key, net_minor, tax_minor, gross_minor, rate::float8::text as rate from tax_ledger order by event_key",
    );
    assert.deepEqual(
      rows.map((r) => [r.event_key, Number(r.net_minor), Number(r.tax_minor), Number(r.gross_minor), r.rate]),
      LINES.map((l) => [l[0], l[6], l[7], l[8], l[1] < "2026-10-01" ? "7" : "10"]),
    );
  });

  it("gives the fixture's totals in JSON: in THB, per currency, per rate, per month", async () => {
    const run = await mk("report", "tax", "--country", "TH", "--from", "2026-09-01", "--to", "2026-10-31", "--format", "json");
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout) as TaxReport;
    assert.equal(report.reportingCurrency, "THB");
    assert.equal(report.pricesIncludeTax, "mixed");
    assert.deepEqual(report.totals, totalsOf(LINES));
    assert.deepEqual(report.totals, { sales: 27, refunds: 6, netMinor: 2_388_469, taxMinor: 210_794, grossMinor: 2_599_263 });
    for (const currency of ["EUR", "JPY", "KWD", "THB", "USD"]) {
      const lines = LINES.filter((l) => l[2] === currency);
      const got = report.byCurrency.find((c) => c.currency === currency)!;
      assert.deepEqual([got.originalNetMinor, got.originalTaxMinor, got.originalGrossMinor], [sum(lines, 6), sum(lines, 7), sum(lines, 8)], currency);
      assert.deepEqual([got.netMinor, got.taxMinor], [sum(lines, 9), sum(lines, 10)], currency);
    }
    assert.deepEqual(report.byRate, [
      { rate: "7", taxType: "VAT", ...totalsOf(SEPTEMBER) },
      { rate: "10", taxType: "VAT", ...totalsOf(OCTOBER) },
    ]);
    assert.deepEqual(report.byMonth, [{ month: "2026-09", ...totalsOf(SEPTEMBER) }, { month: "2026-10", ...totalsOf(OCTOBER) }]);
    assert.deepEqual(report.byCampaign, [{ campaign: null, ...totalsOf(LINES) }]);
    const usd31 = report.fx.find((f) => f.currency === "USD" && f.day === "2026-10-31")!;
    assert.deepEqual(usd31, { currency: "USD", day: "2026-10-31", rateDay: "2026-10-30", rate: "32", stale: true, via: "EUR" });
    assert.equal(report.fx.find((f) => f.currency === "JPY" && f.day === "2026-09-10")!.rate, "0.2375");
    assert.deepEqual(report.fxMissing, []);
    assert.deepEqual(report.ratesInForce.map((r) => [r.rate, r.from, r.origin]), [["7", "1999-04-01", "data"], ["7", "2026-10-01", "data"], ["10", "2026-10-01", "mk.yaml"]]);
    assert.equal(report.threshold!.crossed, false);
  });

  it("gives the same totals as a table and as CSV", async () => {
    const table = await mk("report", "tax", "--country", "TH", "--from", "2026-09-01", "--to", "2026-10-31");
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^Tax report TH · 2026-09-01\.\.2026-10-31 \(2026-09-01 to 2026-10-31\) · reporting currency THB · prices with and without tax$/m);
    assert.match(table.stdout, /27\s+│?\s*6\s+│?\s*THB\s23,884\.69\s+│?\s*THB\s2,107\.94\s+│?\s*THB\s25,992\.63/);
    assert.match(table.stdout, /! 1 exchange rate from an earlier day/);
    const csv = parse((await mk("report", "tax", "--country", "TH", "--from", "2026-09-01", "--to", "2026-10-31", "--format", "csv")).stdout, { columns: true }) as Record<string, string>[];
    const value = (section: string, key: string, metric: string) => csv.find((r) => r["section"] === section && r["key"] === key && r["metric"] === metric)?.["value"];
    assert.deepEqual([value("total", "", "net_THB"), value("total", "", "tax_THB"), value("total", "", "gross_THB")], ["23884.69", "2107.94", "25992.63"]);
    assert.equal(value("currency", "KWD", "gross"), (sum(LINES.filter((l) => l[2] === "KWD"), 8) / 1000).toFixed(3));
    assert.equal(value("month", "2026-10", "tax_THB"), (totalsOf(OCTOBER).taxMinor / 100).toFixed(2));
  });

  it("takes months and quarters: 2026-09 and 2026-Q3 are September, 2026-Q4 is October (--json is --format json)", async () => {
    for (const [period, lines] of [["2026-09", SEPTEMBER], ["2026-Q3", SEPTEMBER], ["2026-Q4", OCTOBER]] as const) {
      const report = JSON.parse((await mk("report", "tax", "--country", "TH", "--period", period, "--json")).stdout) as TaxReport;
      assert.deepEqual(report.totals, totalsOf([...lines]), period);
    }
  });

  it("writes a one- or two-page PDF with the same totals", async () => {
    const out = path.join(repo.root, "th.pdf");
    const run = await mk("report", "tax", "--country", "TH", "--from", "2026-09-01", "--to", "2026-10-31", "--format", "pdf", "--out", out);
    assert.equal(run.code, 0, run.stderr);
    const pdf = await getDocument({ data: new Uint8Array(await readFile(out)), standardFontDataUrl: STANDARD_FONTS }).promise;
    assert.ok(pdf.numPages >= 1 && pdf.numPages <= 2, `${pdf.numPages} pages`);
    let text = "";
    for (let page = 1; page <= pdf.numPages; page++) {
      text += `${(await (await pdf.getPage(page)).getTextContent()).items.map((item) => ("str" in item ? item.str : "")).join(" ")}\n`;
    }
    assert.match(text, /Tax report TH/);
    assert.match(text, /THB\s23,884\.69/);
    assert.match(text, /THB\s2,107\.94/);
    assert.match(text, /By tax rate/);
  });

  it("gives an empty report for a country without sales, and one-line errors for a bad country or period", async () => {
    const empty = JSON.parse((await mk("report", "tax", "--country", "DE", "--period", "2026-Q3", "--format", "json")).stdout) as TaxReport;
    assert.deepEqual(empty.totals, { sales: 0, refunds: 0, netMinor: 0, taxMinor: 0, grossMinor: 0 });
    assert.equal(empty.reportingCurrency, "EUR");
    assert.match((await mk("report", "tax", "--country", "DE", "--period", "2026-Q3")).stdout, /No sales or refunds recorded for DE in 2026-Q3\./);
    const country = await mk("report", "tax", "--country", "XX", "--period", "2026-Q3");
    assert.equal(country.code, 1);
    assert.equal(country.stderr, 'Error: MK089 "XX" is not an ISO 3166-1 alpha-2 country code (for example TH, DE, US)\n');
    const period = await mk("report", "tax", "--country", "TH", "--period", "2026-13");
    assert.equal(period.stderr, 'Error: MK089 period must be a month (2026-10), a quarter (2026-Q3) or a year (2026); got "2026-13"\n');
    const pdf = await mk("report", "tax", "--country", "TH", "--period", "2026-Q3", "--format", "pdf");
    assert.equal(pdf.stderr, "Error: MK089 --format pdf needs --out <file.pdf>\n");
    const both = await mk("report", "tax", "--country", "TH", "--period", "2026-Q3", "--json", "--format", "pdf");
    assert.deepEqual([both.code, both.stdout, both.stderr], [1, "", "Error: MK093 --json is --format json; give one of them, not --json with --format pdf\n"]);
    assert.doesNotMatch(country.stderr + period.stderr + pdf.stderr + both.stderr, STACK_LINE);
  });

  it("flags the year the sales cross Thailand's THB 1.8 million threshold", async () => {
    const events = [
      { idempotencyKey: "big-1", type: "purchase", subscriber: { email: "big@example.test" }, occurredAt: "2027-02-10T10:00:00+07:00", amount: { value: 100_000_000, currency: "THB" }, country: "TH" },
      { idempotencyKey: "big-2", type: "purchase", subscriber: { email: "big@example.test" }, occurredAt: "2027-03-05T10:00:00+07:00", amount: { value: 100_000_000, currency: "THB" }, country: "TH" },
    ];
    assert.equal((await rt.api("/v1/events", { body: { events } })).body.accepted, 2);
    const february = JSON.parse((await mk("report", "tax", "--country", "TH", "--period", "2027-02", "--format", "json")).stdout) as TaxReport;
    assert.equal(february.threshold!.crossed, false);
    const march = await mk("report", "tax", "--country", "TH", "--period", "2027-03");
    assert.match(march.stdout, /^! Registration threshold crossed on 2027-03-05: THB\s2,000,000\.00 from 1 January to 2027-03-31, above THB\s1,800,000\.00\./m);
  });

  it("verifies the ledger before reporting with --verify", async () => {
    const run = await mk("report", "tax", "--verify");
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /^Ledger verified: 35 entries in 1 chain\(s\) hold\.\n$/);
    const json = await mk("report", "tax", "--verify", "--json");
    assert.equal(json.code, 0, json.stderr);
    const verified = JSON.parse(json.stdout) as { heads: { country: string; seq: number }[] };
    assert.deepEqual({ ...verified, heads: verified.heads.map((h) => [h.country, h.seq]) }, { ok: true, checked: 35, countries: ["TH"], heads: [["TH", 35]] }, "verifying alone, --json prints the result");
    const report = await mk("report", "tax", "--country", "TH", "--period", "2026-Q3", "--verify", "--json");
    assert.deepEqual((JSON.parse(report.stdout) as TaxReport).totals, totalsOf(SEPTEMBER), "with a report, stdout holds the report alone");
  });

  it("refuses to report, exit 3, naming the entry a superuser changed with the triggers off", async () => {
    await query(rt.databaseUrl, "set session_replication_role = replica; update tax_ledger set tax_minor = 0, net_minor = gross_minor where event_key = 't07'");
    const run = await mk("report", "tax", "--country", "TH", "--period", "2026-Q3", "--verify");
    assert.equal(run.code, 3);
    assert.equal(run.stdout, "");
    assert.match(run.stderr, /^Tampered: TH entry \d+ \(id \d+, event t07\): its fields do not match its hash \(the entry was changed\)\. \d+ entries before it hold\.\n$/);
  });
});
