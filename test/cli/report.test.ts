import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { parse } from "csv-parse/sync";
import type { CampaignReport } from "../../schemas/report.js";
import { initAndUp, type LocalRepository } from "../helpers/local-repository.js";
import { STACK_LINE } from "../helpers/run-mk.js";
import { query } from "../helpers/sending.js";

/**
 * mk report on mk init's repository: the welcome campaign sent through the
 * outbox to 6 friends, 3 of whom click and 2 buy (one in THB, one in USD,
 * one refunded in part), all through POST /v1/events with the send ids.
 */
let repo: string;
let mk: LocalRepository["mk"];
let stop: LocalRepository["stop"];
let api: LocalRepository["api"];
let local: LocalRepository["local"];

before(async () => {
  ({ repo, mk, stop, api, local } = await initAndUp("mk-report-"));
  assert.equal((await mk("apply", "--auto-approve")).code, 0);
  const people = ["email,firstName,consent,country", ...Array.from({ length: 6 }, (_, i) => `friend${i}@example.test,Friend${i},marketing,${i < 4 ? "TH" : "DE"}`)];
  await writeFile(path.join(repo, "people.csv"), `${people.join("\n")}\n`);
  assert.equal((await mk("subscribers", "import", path.join(repo, "people.csv"))).code, 0);
  assert.equal((await mk("send", "welcome")).code, 0);
  let sent: { sendId: string; to: string }[] = [];
  for (let i = 0; i < 100 && sent.length < 6; i++) {
    sent = await api("/v1/outbox?limit=10");
    if (sent.length < 6) await new Promise((resolve) => setTimeout(resolve, 200));
  }
  // The friends read it an hour later: clicks seconds after the send would be a scanner's.
  await query(local.databaseUrl, "update sends set sent_at = sent_at - interval '1 hour' where campaign = 'welcome'");
  const send = (i: number) => sent.find((m) => m.to === `friend${i}@example.test`)!;
  const at = new Date().toISOString();
  const event = (key: string, i: number, type: string, extra: object = {}) => ({ idempotencyKey: key, type, subscriber: { email: `friend${i}@example.test` }, occurredAt: at, sendId: send(i).sendId, ...extra });
  const result = await api("/v1/events", {
    events: [
      event("c0", 0, "click"),
      event("c0b", 0, "click"),
      event("c1", 1, "click"),
      event("c4", 4, "click"),
      event("p0", 0, "purchase", { amount: { value: 129900, currency: "THB" } }),
      event("p4", 4, "purchase", { amount: { value: 4999, currency: "USD" } }),
      event("r4", 4, "refund", { amount: { value: 1000, currency: "USD" } }),
    ],
  });
  assert.equal(result.accepted, 7, JSON.stringify(result));
}, { timeout: 120_000 });

after(() => stop(), { timeout: 120_000 });

describe("mk report campaign", { timeout: 180_000 }, () => {
  it("prints the funnel, money, countries and days as tables", async () => {
    const run = await mk("report", "campaign", "welcome");
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, "");
    const out = run.stdout;
    assert.match(out, /^Campaign welcome: started \d{4}-\d\d-\d\d \d\d:\d\d UTC, 6 recipients/);
    assert.match(out, /sent\s+│?\s*6/);
    assert.match(out, /clicked by people\s+│?\s*3\s+│?\s*50\.0 %/);
    assert.match(out, /converted\s+│?\s*2\s+│?\s*33\.3 %/);
    assert.match(out, /not reported/, "the outbox reports no deliveries");
    assert.match(out, /revenue {2}THB\s1,299\.00 net \(1 purchase THB\s1,299\.00\)/);
    assert.match(out, /revenue {2}\$39\.99 net \(1 purchase \$49\.99, 1 refund -\$10\.00\)/);
    // 6 sends at $0.10 per 1,000 round to 0 cents: no cost, so no ROAS.
    assert.match(out, /cost {5}\$0\.00 {3}CPA \$0\.00 {3}ROAS - {2}\(no cost recorded\)/);
    assert.match(out, /TH\s+│?\s*4\s+│?\s*2\s+│?\s*1/);
    assert.match(out, /DE\s+│?\s*2\s+│?\s*1\s+│?\s*1/);
    assert.match(out, /\d{4}-\d\d-\d\d: 3 clicked, 2 converted/);
  });

  it("prints the runtime's JSON, a tidy CSV, and a self-contained HTML file", async () => {
    const json = await mk("report", "campaign", "welcome", "--format", "json");
    const report = JSON.parse(json.stdout) as CampaignReport;
    // friend0's two clicks name the same (no) link: one (send, link).
    assert.deepEqual([report.totals.sent, report.totals.clicked, report.totals.clicks, report.totals.converted], [6, 3, 3, 2]);
    assert.deepEqual(report.revenue, [
      { currency: "THB", purchases: 1, refunds: 0, revenueMinor: 129900, refundedMinor: 0, netMinor: 129900 },
      { currency: "USD", purchases: 1, refunds: 1, revenueMinor: 4999, refundedMinor: 1000, netMinor: 3999 },
    ]);

    const csv = parse((await mk("report", "campaign", "welcome", "--format", "csv")).stdout, { columns: true }) as { section: string; key: string; metric: string; value: string }[];
    const value = (section: string, key: string, metric: string) => csv.find((r) => r.section === section && r.key === key && r.metric === metric)?.value;
    assert.equal(value("total", "", "clicked"), "3");
    assert.equal(value("revenue", "THB", "net"), "1299.00");
    assert.equal(value("revenue", "USD", "refunded"), "10.00");
    assert.equal(value("country", "TH", "sent"), "4");

    const out = path.join(repo, "welcome.html");
    const html = await mk("report", "campaign", "welcome", "--format", "html", "--out", out);
    assert.equal(html.code, 0, html.stderr);
    assert.equal(html.stderr, `Wrote ${out}\n`);
    const page = await readFile(out, "utf8");
    assert.match(page, /^<!doctype html>/);
    assert.match(page, /<title>Campaign report: welcome<\/title>/);
    assert.match(page, /uPlot/, "the chart library is inline");
    assert.match(page, /THB\s1,299\.00/);
    assert.doesNotMatch(page, /<(script|link|img)[^>]+(src|href)=/i, "nothing is fetched from elsewhere");
  });

  it("takes --json for --format json, and refuses --json with another --format in one coded line", async () => {
    const json = await mk("report", "campaign", "welcome", "--json");
    assert.deepEqual([json.code, json.stderr], [0, ""]);
    const report = JSON.parse(json.stdout) as CampaignReport;
    assert.equal(report.campaign, "welcome");
    assert.deepEqual([report.totals.sent, report.totals.clicked, report.totals.converted], [6, 3, 2]);
    assert.equal((await mk("report", "campaign", "welcome", "--json", "--format", "json")).code, 0, "the same format twice is no conflict");

    const out = path.join(repo, "welcome.json");
    assert.equal((await mk("report", "campaign", "welcome", "--json", "--out", out)).stderr, `Wrote ${out}\n`);
    assert.equal((JSON.parse(await readFile(out, "utf8")) as CampaignReport).totals.sent, 6);

    for (const format of ["csv", "table"]) {
      const both = await mk("report", "campaign", "welcome", "--json", "--format", format);
      assert.deepEqual([both.code, both.stdout], [1, ""]);
      assert.equal(both.stderr, `Error: MK093 --json is --format json; give one of them, not --json with --format ${format}\n`);
    }
  });

  it("fails with one line for an unknown campaign, an unknown format and an --out it cannot write", async () => {
    const unknown = await mk("report", "campaign", "nope");
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr, 'Error: MK086 no campaign named "nope" is applied\n');
    const out = await mk("report", "campaign", "welcome", "--out", path.join(repo, "no-such-folder", "r.txt"));
    assert.equal(out.code, 1);
    assert.match(out.stderr, /^Error: MK087 cannot write .*no-such-folder\/r\.txt: ENOENT\n$/);
    const format = await mk("report", "campaign", "welcome", "--format", "pdf");
    assert.equal(format.code, 2);
    assert.doesNotMatch(format.stderr, STACK_LINE);
  });
});

describe("mk report campaigns", { timeout: 180_000 }, () => {
  it("lists started campaigns with key figures, as a table, JSON or CSV", async () => {
    const table = await mk("report", "campaigns");
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /welcome\s+│?\s*\d{4}-\d\d-\d\d \d\d:\d\d UTC\s+│?\s*6\s+│?\s*0\s+│?\s*3\s+│?\s*3\s+│?\s*2\s+│?\s*0\.00 %\s+│?\s*THB\s1,299\.00 · \$39\.99/);
    const json = JSON.parse((await mk("report", "campaigns", "--format", "json")).stdout);
    assert.equal(json[0].campaign, "welcome");
    const shorthand = await mk("report", "campaigns", "--json");
    assert.equal(shorthand.stderr, "");
    assert.deepEqual((JSON.parse(shorthand.stdout) as { campaign: string }[]).map((c) => c.campaign), ["welcome"]);
    assert.match((await mk("report", "campaigns", "--json", "--format", "csv")).stderr, /^Error: MK093 /);
    const csv = parse((await mk("report", "campaigns", "--format", "csv")).stdout, { columns: true }) as Record<string, string>[];
    assert.deepEqual([csv[0]!["campaign"], csv[0]!["clicked"], csv[0]!["net_revenue"]], ["welcome", "3", "THB 1299.00; USD 39.99"]);
  });
});
