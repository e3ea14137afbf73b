import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { taxLine } from "../../../runtime/tax/compute.js";
import { readRateFile, shippedRates, TaxRates } from "../../../runtime/tax/rates.js";

const EU = ["AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"];
const OTHERS = ["TH", "GB", "NO", "CH", "AU", "NZ", "SG", "JP", "KR", "IN", "ID", "MY", "PH", "VN", "MX", "CO", "CL", "ZA", "CA", "US"];

describe("the shipped tax-rate data", { timeout: 180_000 }, () => {
  const rows = shippedRates();

  it("covers every required country, each row with a source, and periods that never overlap", () => {
    const countries = new Set(rows.map((r) => r.country));
    for (const c of [...EU, ...OTHERS]) assert.ok(countries.has(c), `${c} has rates`);
    for (const r of rows) assert.match(r.source, /^https?:\/\//);
    const series = new Map<string, typeof rows>();
    for (const r of rows) series.set(`${r.country}/${r.region}/${r.tax_type}`, [...(series.get(`${r.country}/${r.region}/${r.tax_type}`) ?? []), r]);
    for (const [key, list] of series) {
      const sorted = [...list].sort((a, b) => a.effective_from.localeCompare(b.effective_from));
      for (let i = 1; i < sorted.length; i++) {
        assert.ok(sorted[i - 1]!.effective_to !== "" && sorted[i - 1]!.effective_to < sorted[i]!.effective_from, `${key}: ${sorted[i - 1]!.effective_from} overlaps ${sorted[i]!.effective_from}`);
      }
      assert.equal(sorted.at(-1)!.effective_to, "", `${key} has a rate in force now`);
    }
  });

  it("answers Thailand's 7 %, its statutory 10 % of 1997–99, and the EU changes by date", () => {
    const rates = new TaxRates(rows);
    assert.equal(rates.at("TH", null, "2026-09-30")!.rate, "7");
    assert.equal(rates.at("TH", null, "1998-06-01")!.rate, "10");
    assert.equal(rates.at("FI", null, "2024-08-31")!.rate, "24");
    assert.equal(rates.at("FI", null, "2024-09-01")!.rate, "25.5");
    assert.equal(rates.at("EE", null, "2025-07-01")!.rate, "24");
    assert.equal(rates.at("US", null, "2026-11-23")!.type, "NONE");
    assert.equal(rates.at("BR", null, "2026-11-23"), undefined, "no data: no rate");
  });

  it("adds Canada's provincial taxes to GST, except where HST replaces it", () => {
    const rates = new TaxRates(rows);
    assert.deepEqual({ rate: rates.at("CA", "QC", "2026-11-23")!.rate, type: rates.at("CA", "QC", "2026-11-23")!.type }, { rate: "14.975", type: "GST+QST" });
    assert.deepEqual({ rate: rates.at("CA", "ON", "2026-11-23")!.rate, type: rates.at("CA", "ON", "2026-11-23")!.type }, { rate: "13", type: "HST" });
    assert.equal(rates.at("CA", "NS", "2025-03-31")!.rate, "15");
    assert.equal(rates.at("CA", "NS", "2025-04-01")!.rate, "14");
    assert.equal(rates.at("CA", null, "2026-11-23")!.rate, "5", "no province: the federal GST");
  });

  it("lets mk.yaml override a country's rate for a period, and says so", () => {
    const rates = new TaxRates(rows, [{ country: "TH", type: "VAT", rate: "10", from: "2026-10-01", reason: "Royal Decree not extended" }]);
    assert.equal(rates.at("TH", null, "2026-09-30")!.rate, "7");
    const october = rates.at("TH", null, "2026-10-01")!;
    assert.equal(october.rate, "10");
    assert.equal(october.components[0]!.origin, "mk.yaml");
    assert.deepEqual(rates.inForce("2026-11-23", "TH").map((r) => [r.rate, r.origin]), [["10", "mk.yaml"]]);
  });

  it("refuses a damaged data file with its line and field", async () => {
    const file = path.join(await mkdtemp(path.join(tmpdir(), "mk-rates-")), "rates.csv");
    await writeFile(file, "country,region,tax_type,rate,category,effective_from,effective_to,reviewed,source,note\nTH,,VAT,7,standard,2020-01-01,,yes,https://rd.go.th,ok\nXX,,VAT,abc,standard,2020-01-01,,yes,https://x.example,bad\n");
    assert.throws(() => readRateFile(file), /rates\.csv:3: country "XX" is not an ISO 3166-1 alpha-2 country code/);
  });
});

describe("tax on one line, in decimals, half up to the minor unit", { timeout: 180_000 }, () => {
  it("splits tax-inclusive prices and adds to tax-exclusive ones", () => {
    // 1,070.00 THB including 7 %: 7,000 of 107,000 satang.
    assert.deepEqual(taxLine(107_000, "7", true), { netMinor: 100_000, taxMinor: 7_000, grossMinor: 107_000 });
    // ¥1,000 including 10 %: 1000 × 10 / 110 = 90.909… → 91.
    assert.deepEqual(taxLine(1_000, "10", true), { netMinor: 909, taxMinor: 91, grossMinor: 1_000 });
    // 0.050 KWD excluding 7 %: 50 × 0.07 = 3.5 fils → 4 (half up).
    assert.deepEqual(taxLine(50, "7", false), { netMinor: 50, taxMinor: 4, grossMinor: 54 });
    // 19.99 CAD excluding 14.975 %: 1999 × 0.14975 = 299.35 → 299.
    assert.deepEqual(taxLine(1_999, "14.975", false), { netMinor: 1_999, taxMinor: 299, grossMinor: 2_298 });
  });

  it("mirrors a refund exactly, and taxes nothing at 0 %", () => {
    assert.deepEqual(taxLine(-50, "7", false), { netMinor: -50, taxMinor: -4, grossMinor: -54 });
    assert.deepEqual(taxLine(-1_000, "10", true), { netMinor: -909, taxMinor: -91, grossMinor: -1_000 });
    assert.deepEqual(taxLine(4_999, "0", true), { netMinor: 4_999, taxMinor: 0, grossMinor: 4_999 });
  });
});
