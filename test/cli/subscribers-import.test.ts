import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { generateSubscribersCsv } from "../../bench/generate-subscribers.js";
import { MkError } from "../../cli/errors.js";
import { summaryLines } from "../../cli/commands/subscribers/import.js";
import { RuntimeClient } from "../../cli/runtime-client.js";
import { parseColumnMap } from "../../cli/subscribers/formats.js";
import { importSubscribersCsv, type ImportOptions } from "../../cli/subscribers/import.js";
import { importRow, subscriberOfRow } from "../../schemas/subscriber-import.js";
import type { ImportedSubscriber } from "../../schemas/api.js";
import { stopDatabase } from "../helpers/database.js";
import { startRuntime, TOKEN, type TestRuntime } from "../helpers/runtime.js";

/** Small exports of each format (made-up people at example.test). */
const FIXTURES = path.join(import.meta.dirname, "../fixtures/imports");

let rt: TestRuntime;
let client: RuntimeClient;
let dir: string;
let db: pg.Client;

before(async () => {
  rt = await startRuntime();
  client = new RuntimeClient({ env: "test", url: rt.url, token: TOKEN });
  dir = await mkdtemp(path.join(tmpdir(), "mk-import-"));
  db = new pg.Client({ connectionString: rt.databaseUrl });
  await db.connect();
}, { timeout: 120_000 });
after(async () => {
  await db.end();
  await rt.close();
  await stopDatabase();
  await rm(dir, { recursive: true, force: true });
}, { timeout: 120_000 });

const csv = async (name: string, text: string) => {
  const file = path.join(dir, name);
  await writeFile(file, text);
  return file;
};
const subscriber = async (email: string) => (await db.query("select * from subscribers where email = $1", [email])).rows[0];

describe("mk subscribers import", { timeout: 180_000 }, () => {
  it("imports 100,000 rows with 1% bad: every good row in, every bad row named by line; again, nothing changes", async () => {
    const file = path.join(dir, "people.csv");
    const badLines = await generateSubscribersCsv(file, 100_000, 100);
    const first = await importSubscribersCsv(file, client);
    assert.equal(first.rows, 100_000);
    assert.equal(first.inserted, 99_000);
    assert.deepEqual(first.rejected.map((r) => r.line), badLines);
    assert.match(first.rejected[0]?.reason ?? "", /^country: "XX" is not an ISO 3166-1 alpha-2 country code/);
    assert.match(first.rejected[3]?.reason ?? "", /^email: must be an email address/);
    assert.equal(Number((await db.query("select count(*) from subscribers")).rows[0].count), 99_000);

    const consentEvents = async () => Number((await db.query("select count(*) from consent_events").then((r) => r.rows[0].count)));
    const granted = Number((await db.query("select count(*) from subscribers where consent = 'marketing'")).rows[0].count);
    assert.equal(await consentEvents(), granted, "one consent event per row that grants consent; an empty consent cell of a new subscriber withdraws nothing");

    const person = await subscriber("person.1@example.com");
    assert.equal(person.last_name, "Rivera, 1");
    assert.deepEqual(person.tags, ["remote-worker", "buyer"]);
    assert.deepEqual(person.attributes, { plan: "pro", seats: 1 });
    assert.equal(person.consent, "marketing");

    const again = await importSubscribersCsv(file, client);
    assert.deepEqual(
      { ...again, rejected: again.rejected.length },
      { format: { name: "mk", title: "mk subscribers CSV" }, rows: 100_000, inserted: 0, updated: 0, unchanged: 99_000, rejected: 1000, skipped: { role: 0, disposable: 0, rows: [] } },
    );
    assert.equal(Number((await db.query("select count(*) from subscribers")).rows[0].count), 99_000);
    assert.equal(await consentEvents(), granted, "a re-import records no consent event");
  });

  it("keeps the last row of an email given in two batches on the wire at once, and two imports at once lose and duplicate nothing", async () => {
    const rows = (from: number, to: number, name: string) => Array.from({ length: to - from }, (_, i) => `wire${from + i}@example.com,${name}${from + i}`).join("\n");
    // 12,000 rows: three batches, all on the wire together; line 2's address comes back on the last line.
    const file = await csv("wire.csv", `email,firstName\n${rows(0, 12_000, "First")}\nwire0@example.com,Last\n`);
    const summary = await importSubscribersCsv(file, client);
    assert.deepEqual([summary.inserted, summary.updated, summary.unchanged], [12_000, 1, 0], "the address given twice is one subscriber, updated by the later batch");
    assert.equal((await subscriber("wire0@example.com")).first_name, "Last");

    const [a, b] = await Promise.all([
      importSubscribersCsv(await csv("wire-a.csv", `email,firstName\n${rows(6_000, 18_000, "A")}\n`), client),
      importSubscribersCsv(await csv("wire-b.csv", `email,firstName\n${rows(10_000, 22_000, "B")}\n`), client),
    ]);
    assert.equal(a.rejected.length + b.rejected.length, 0);
    assert.equal(a.inserted + b.inserted, 10_000, "each new address inserted once");
    const { rows: stored } = await db.query("select count(*)::int as n, count(distinct email)::int as emails from subscribers where email like 'wire%'");
    assert.deepEqual(stored[0], { n: 22_000, emails: 22_000 });
  });

  it("updates: empty cells keep what is stored, an empty consent withdraws it, attributes merge, the last row of an email wins", async () => {
    await importSubscribersCsv(await csv("a.csv", "email,firstName,country,consent,tags,plan\nmai@example.com,Mai,VN,marketing,a|b,pro\n"), client);
    const result = await importSubscribersCsv(
      await csv("b.csv", "email,firstName,country,consent,tags,city\n MAI@example.com ,,TH,,c,Hanoi\nmai@example.com,,TH,,c,Hue\n"),
      client,
    );
    assert.deepEqual({ inserted: result.inserted, updated: result.updated, unchanged: result.unchanged }, { inserted: 0, updated: 1, unchanged: 0 });
    const mai = await subscriber("mai@example.com");
    assert.equal(mai.first_name, "Mai");
    assert.equal(mai.country, "TH");
    assert.equal(mai.consent, null);
    assert.deepEqual(mai.tags, ["c"]);
    assert.deepEqual(mai.attributes, { plan: "pro", city: "Hue" });

    await importSubscribersCsv(await csv("c.csv", "email,lastName\nmai@example.com,Tran\n"), client);
    const kept = await subscriber("mai@example.com");
    assert.deepEqual([kept.last_name, kept.tags, kept.consent], ["Tran", ["c"], null], "columns not in the file are kept");
  });

  it("rejects a ragged row with its line and keeps going; an unclosed quote takes the rest of the file with it", async () => {
    const file = await csv("ragged.csv", 'email,firstName\nok1@example.com,A\nbad@example.com,B,extra\nok2@example.com,C\n"broken@example.com,D\nlost@example.com,E\n');
    const result = await importSubscribersCsv(file, client);
    assert.deepEqual(result.rejected.map((r) => r.line), [3, 6]);
    assert.match(result.rejected[0]?.reason ?? "", /^not valid CSV: Invalid Record Length: columns length is 2, got 3 on line 3$/);
    assert.match(result.rejected[1]?.reason ?? "", /Quote Not Closed/);
    assert.equal(result.inserted, 2);
    assert.ok(await subscriber("ok2@example.com"));
    assert.equal(await subscriber("bad@example.com"), undefined);
  });

  it("stops with MK080 when the file has no email column or cannot be read", async () => {
    const noEmail = await csv("no-email.csv", "name,country\nMai,VN\n");
    await assert.rejects(importSubscribersCsv(noEmail, client), (e: unknown) => e instanceof MkError && e.code === "MK080" && /no email column/.test(e.message));
    await assert.rejects(importSubscribersCsv(path.join(dir, "missing.csv"), client), (e: unknown) => e instanceof MkError && e.code === "MK080" && /ENOENT/.test(e.message));
  });

  it("stops with MK080 at the line a row starts when it runs past 256 KiB (a quote never closed), instead of reading the rest of the file into it", async () => {
    const open = `email,firstName\nok@example.com,A\n\nnot-closed@example.com,"B\n${"more text\n".repeat(30_000)}last@example.com,C\n`;
    await assert.rejects(
      importSubscribersCsv(await csv("open-quote.csv", open), client),
      (e: unknown) => e instanceof MkError && e.code === "MK080" && /open-quote\.csv:4: the row that starts on line 4 is longer than 262,144 characters/.test(e.message),
    );
    const long = await importSubscribersCsv(await csv("long-name.csv", `email,firstName\nlong@example.com,${"x".repeat(201)}\n`), client);
    assert.deepEqual(long.rejected, [{ line: 2, reason: "firstName: must be at most 200 characters" }]);
  });

  it("sends rows at every field's limit in batches of at most 8 Mi characters of JSON", async () => {
    const columns = Array.from({ length: 100 }, (_, i) => `a${i}`);
    const row = (n: number) => [`big${n}@example.com`, ...columns.map(() => "v".repeat(2000))].join(",");
    const file = await csv("big.csv", `email,${columns.join(",")}\n${Array.from({ length: 45 }, (_, n) => row(n)).join("\n")}\n`);
    const batches: number[] = [];
    const recording = { importSubscribers: async (rows: string[]) => (batches.push(`[${rows.join(",")}]`.length), { inserted: rows.length, updated: 0, unchanged: 0 }) };
    const summary = await importSubscribersCsv(file, recording as unknown as RuntimeClient);
    assert.deepEqual({ rows: summary.rows, inserted: summary.inserted, rejected: summary.rejected.length }, { rows: 45, inserted: 45, rejected: 0 });
    assert.equal(batches.length, 2);
    for (const characters of batches) assert.ok(characters <= 8 * 1024 * 1024, `${characters} characters in one request`);
  });

  it("a Mailchimp export and a file read with --map store country, time zone, tags and a consent event with its proof for every row", async () => {
    const mailchimp = await importSubscribersCsv(path.join(FIXTURES, "mailchimp.csv"), client);
    assert.deepEqual([mailchimp.format.name, mailchimp.inserted, mailchimp.rejected.length], ["mailchimp", 3, 0]);
    const custom = await importSubscribersCsv(path.join(FIXTURES, "custom.csv"), client, {
      map: parseColumnMap("E-mail=email,Vorname=firstName,Land=country,Zeitzone=timezone,Angemeldet=grantedAt,IP=ip"),
    });
    assert.deepEqual([custom.format.name, custom.inserted, custom.rejected.length], ["mapped", 2, 0]);
    const stored = await db.query(
      `select s.email, s.country, s.timezone, s.tags, s.consent, e.action, e.source, e.source_detail, e.occurred_at, host(e.ip) as ip, e.evidence
       from subscribers s join consent_events e on e.subscriber_id = s.id
       where s.email like '%@example.test' order by s.email`,
    );
    const rows = stored.rows.map((r) => ({ ...r, occurred_at: r.occurred_at.toISOString(), source_detail: r.source_detail.replace(/^.*\//, "") }));
    assert.deepEqual(rows.map((r) => [r.email, r.country, r.timezone, r.tags, r.consent, r.action, r.source, r.source_detail, r.occurred_at, r.ip]), [
      ["ana.silva@example.test", "US", "America/New_York", ["Newsletter", "Early access"], "marketing", "granted", "import", "mailchimp.csv:2", "2023-03-14T09:27:40.000Z", "198.51.100.23"],
      ["bjorn.lund@example.test", "SE", "Europe/Stockholm", ["Newsletter"], "marketing", "granted", "import", "mailchimp.csv:3", "2022-11-02T18:05:02.000Z", "2001:db8::7"],
      ["chioma.obi@example.test", "NG", "Africa/Lagos", [], "marketing", "granted", "import", "mailchimp.csv:4", "2024-05-20T07:49:31.000Z", "192.0.2.45"],
      ["lena.fischer@example.test", "DE", "Europe/Berlin", [], "marketing", "granted", "import", "custom.csv:2", "2024-01-08T10:11:12.000Z", "198.51.100.80"],
      ["max.huber@example.test", "AT", "Europe/Vienna", [], "marketing", "granted", "import", "custom.csv:3", "2023-10-31T17:45:00.000Z", "203.0.113.81"],
    ]);
    assert.deepEqual(rows[0]?.evidence, { grantedAt: "2023-03-14T09:26:53.000Z", ip: "198.51.100.23", confirmedAt: "2023-03-14T09:27:40.000Z", confirmIp: "198.51.100.23", source: "mailchimp export" });
  });

  it("the runtime refuses subscribers past the limits, naming each field", async () => {
    const response = await rt.api("/v1/subscribers/import", {
      body: {
        subscribers: [
          { email: `${"a".repeat(250)}@example.com` },
          { email: "b@example.com", firstName: "x".repeat(201), lastName: "nul\u0000byte", locale: `en-US-x-${"abcdefgh-".repeat(4)}abcdefgh` },
          { email: "c@example.com", tags: Array.from({ length: 101 }, (_, i) => `t${i}`) },
          { email: "d@example.com", tags: ["t".repeat(101)], attributes: { bio: "b".repeat(2001), ["k".repeat(101)]: 1 } },
          { email: "e@example.com", attributes: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`a${i}`, i])) },
        ],
      },
    });
    assert.equal(response.status, 400, JSON.stringify(response.body).slice(0, 300));
    assert.deepEqual(response.body.error.fields.map((f: { path: string }) => f.path), [
      "subscribers[0].email",
      "subscribers[1].firstName",
      "subscribers[1].lastName",
      "subscribers[1].locale",
      "subscribers[2].tags",
      "subscribers[3].tags[0]",
      "subscribers[3].attributes.bio",
      `subscribers[3].attributes.${"k".repeat(101)}`,
      "subscribers[4].attributes",
    ]);
    assert.equal(await subscriber("b@example.com"), undefined);
  });

  it("the runtime validates every row itself and names the failing field", async () => {
    const response = await rt.api("/v1/subscribers/import", { body: { subscribers: [{ email: "a@example.com" }, { email: "b@example.com", country: "XX" }] } });
    assert.equal(response.status, 400);
    assert.deepEqual(response.body.error.fields.map((f: { path: string }) => f.path), ["subscribers[1].country"]);
    // The rows mk subscribers import sends (schemas/subscriber-import.ts): the same rules, cell by cell.
    const cells = (email: string, country: string | null) => [email, null, null, country, null, null, null, null, null, 2, null];
    const rows = await rt.api("/v1/subscribers/import", { body: { rows: [cells("a@example.com", null), cells("b@example.com", "XX"), ["c@example.com"]] } });
    assert.equal(rows.status, 400);
    assert.deepEqual(rows.body.error.fields.map((f: { path: string }) => f.path), ["rows[1][3]", "rows[2]"]);
    assert.equal(await subscriber("a@example.com"), undefined);
  });
});

/** A runtime that records the requests the import would send. */
function recordingClient() {
  const requests: { subscribers: ImportedSubscriber[]; file?: string }[] = [];
  const client = {
    importSubscribers: async (rows: string[], file?: string) => {
      const subscribers = rows.map((row) => subscriberOfRow(importRow.parse(JSON.parse(row))));
      requests.push({ subscribers, file });
      return { inserted: subscribers.length, updated: 0, unchanged: 0 };
    },
  } as unknown as RuntimeClient;
  return { client, requests, sent: () => requests.flatMap((r) => r.subscribers) };
}

const importFixture = async (name: string, options: ImportOptions = {}) => {
  const recording = recordingClient();
  const summary = await importSubscribersCsv(path.join(FIXTURES, name), recording.client, options);
  return { summary, ...recording };
};
const mkError = (code: string, pattern: RegExp) => (e: unknown) => e instanceof MkError && e.code === code && pattern.test(e.message);

describe("subscribers import formats", { timeout: 30_000 }, () => {
  it("a file of many chunks, with rows CSV cannot read and rows that are no subscriber among them, sends every other row once, in file order, each with its line", async () => {
    // 12,000 rows (~300 KB): many chunks of the file and of the parser, three batches; every 997th row ragged, every 1,009th a bad address.
    const lines = Array.from({ length: 12_000 }, (_, i) => (i % 997 === 0 ? `r${i}@example.com,R,extra` : i % 1009 === 0 ? `no-at-${i},B` : `c${i}@example.com,C${i}`));
    const recording = recordingClient();
    const summary = await importSubscribersCsv(await csv("chunks.csv", `email,firstName\n${lines.join("\n")}\n`), recording.client);
    const ragged = lines.flatMap((l, i) => (i % 997 === 0 ? [i + 2] : []));
    const invalid = lines.flatMap((l, i) => (i % 997 !== 0 && i % 1009 === 0 ? [i + 2] : []));
    assert.equal(summary.rows, 12_000);
    assert.deepEqual(summary.rejected.map((r) => r.line), [...ragged, ...invalid].sort((x, y) => x - y));
    assert.ok(summary.rejected.every((r) => (ragged.includes(r.line) ? /^not valid CSV: Invalid Record Length/ : /^email: must be an email address/).test(r.reason)));
    const sent = recording.sent();
    const expected = lines.flatMap((l, i) => (i % 997 === 0 || i % 1009 === 0 ? [] : [{ email: `c${i}@example.com`, firstName: `C${i}`, line: i + 2 }]));
    assert.deepEqual(sent.map((s) => ({ email: s.email, firstName: s.firstName, line: s.line })), expected);
    assert.equal(recording.requests.length, 3, "in batches of at most 5,000");
  });

  it("a Mailchimp export becomes subscribers with country, time zone, tags, consent proof (confirm time and IP) and line, and the requests name the file", async () => {
    const { summary, requests, sent } = await importFixture("mailchimp.csv");
    assert.deepEqual(summary.format, { name: "mailchimp", title: "Mailchimp audience export" });
    assert.deepEqual({ rows: summary.rows, rejected: summary.rejected, skipped: summary.skipped.rows }, { rows: 3, rejected: [], skipped: [] });
    assert.ok(requests.every((r) => r.file === "mailchimp.csv" || r.file === "test/fixtures/imports/mailchimp.csv"), JSON.stringify(requests.map((r) => r.file)));
    const [ana, bjorn, chioma] = sent();
    assert.deepEqual(ana, {
      email: "ana.silva@example.test",
      firstName: "Ana",
      lastName: "Silva",
      country: "US",
      timezone: "America/New_York",
      tags: ["Newsletter", "Early access"],
      consent: "marketing",
      attributes: { MEMBER_RATING: 4, REGION: "NY" },
      line: 2,
      consentProof: { grantedAt: "2023-03-14T09:26:53.000Z", ip: "198.51.100.23", confirmedAt: "2023-03-14T09:27:40.000Z", confirmIp: "198.51.100.23", source: "mailchimp export" },
    });
    assert.deepEqual([bjorn?.line, bjorn?.country, bjorn?.timezone, bjorn?.tags, bjorn?.consentProof?.confirmIp], [3, "SE", "Europe/Stockholm", ["Newsletter"], "2001:db8::7"]);
    assert.deepEqual([chioma?.line, chioma?.country, chioma?.consentProof?.confirmedAt, chioma?.attributes?.["NOTES"]], [4, "NG", "2024-05-20T07:49:31.000Z", "met at the Lagos meetup"]);
    for (const s of sent()) assert.equal(s.attributes?.["LEID"] ?? s.attributes?.["LATITUDE"], undefined, "Mailchimp's ids and coordinates are not kept");

    // The unsubscribed and cleaned files: no consent, no proof.
    const left = await importFixtureAt(
      await csv("unsubscribed.csv", '"Email Address",OPTIN_TIME,CONFIRM_TIME,CONFIRM_IP,LEID,UNSUB_TIME,UNSUB_REASON\nleft@example.test,"2020-01-01 10:00:00","2020-01-01 10:01:00",192.0.2.9,1,"2024-02-02 12:00:00","No longer interested"\n'),
    );
    assert.equal(left.summary.format.name, "mailchimp");
    assert.deepEqual([left.sent()[0]?.consent, left.sent()[0]?.consentProof], [null, undefined]);
    const bad = await importSubscribersCsv(await csv("bad-time.csv", '"Email Address",OPTIN_TIME,LEID\nt@example.test,yesterday,1\n'), recordingClient().client);
    assert.deepEqual(bad.rejected, [{ line: 2, reason: 'OPTIN_TIME: "yesterday" is not a time (YYYY-MM-DD HH:MM:SS in UTC, or ISO 8601 with a zone)' }]);
    const badIp = await importSubscribersCsv(await csv("bad-ip.csv", '"Email Address",CC,CONFIRM_IP,LEID\nt@example.test,XX,999.1.1.1,1\n'), recordingClient().client);
    assert.match(badIp.rejected[0]?.reason ?? "", /^CC: "XX" is not an ISO 3166-1 alpha-2 country code.*; CONFIRM_IP: /, "errors name the file's columns");
  });

  it("recognises listmonk, Kit, Substack and Brevo (semicolons) by their headers, each with its consent state", async () => {
    const expected: Record<string, { name: string; consent: (string | null)[]; first: Partial<ImportedSubscriber> }> = {
      "listmonk.csv": {
        name: "listmonk",
        consent: ["marketing", null],
        first: { firstName: "Dara", lastName: "Nguyen", attributes: { city: "Hue", plan: "pro" }, consentProof: { grantedAt: "2024-02-01T12:30:45.123Z", source: "listmonk export" } },
      },
      "kit.csv": { name: "kit", consent: ["marketing", null], first: { firstName: "Fatima", tags: ["Course buyers", "Newsletter"], consentProof: { grantedAt: "2024-04-09T15:02:11.000Z", source: "kit export" } } },
      "substack.csv": {
        name: "substack",
        consent: ["marketing", null],
        first: { attributes: { active_subscription: true, expiry: "2025-06-01T00:00:00.000Z", plan: "paid", first_payment_at: "2023-09-12T08:41:00.000Z" } },
      },
      "brevo.csv": { name: "brevo", consent: ["marketing", null], first: { firstName: "Julia", lastName: "Kowalska", attributes: { SMS: "+48500100200" } } },
    };
    for (const [file, want] of Object.entries(expected)) {
      const { summary, sent } = await importFixture(file);
      assert.equal(summary.format.name, want.name, file);
      assert.deepEqual(summary.rejected, [], file);
      assert.deepEqual(sent().map((s) => s.consent), want.consent, file);
      assert.deepEqual(sent().map((s) => s.line), [2, 3], file);
      const first = sent()[0]!;
      for (const [key, value] of Object.entries(want.first)) assert.deepEqual(first[key as keyof ImportedSubscriber], value, `${file} ${key}`);
      assert.equal(sent()[1]?.consentProof, undefined, `${file}: who left carries no proof`);
    }
    const { summary } = await importFixture("custom.csv").catch((e: unknown) => ({ summary: e }));
    assert.ok(summary instanceof MkError && summary.code === "MK080" && /not an export mk recognises.*--map/.test(summary.message), String(summary));
  });

  it("--map imports a layout mk does not know; a field it does not import is MK114, a column the file lacks MK115", async () => {
    const map = parseColumnMap("E-mail=email,Vorname=firstName,Land=country,Zeitzone=timezone,Angemeldet=grantedAt,IP=ip");
    const { summary, sent } = await importFixture("custom.csv", { map });
    assert.deepEqual(summary.format, { name: "mapped", title: "columns mapped with --map" });
    assert.deepEqual(sent(), [
      { email: "lena.fischer@example.test", firstName: "Lena", country: "DE", timezone: "Europe/Berlin", consent: "marketing", attributes: { Kundennummer: "K-1001" }, line: 2, consentProof: { grantedAt: "2024-01-08T10:11:12.000Z", ip: "198.51.100.80" } },
      { email: "max.huber@example.test", firstName: "Max", country: "AT", timezone: "Europe/Vienna", consent: "marketing", attributes: { Kundennummer: "K-1002" }, line: 3, consentProof: { grantedAt: "2023-10-31T17:45:00.000Z", ip: "203.0.113.81" } },
    ]);
    // The map also renames a recognised export's columns (here only the email), and then nothing else is guessed.
    const mailchimp = await importFixture("mailchimp.csv", { map: parseColumnMap("Email Address=email,CC=country") });
    assert.deepEqual([mailchimp.sent()[0]?.country, mailchimp.sent()[0]?.timezone, mailchimp.sent()[0]?.attributes?.["TIMEZONE"]], ["US", undefined, "America/New_York"]);

    assert.throws(() => parseColumnMap("E-mail=email,Land=land"), mkError("MK114", /"land" \(for the column "Land"\) is not a field mk imports; use one of email, firstName/));
    assert.throws(() => parseColumnMap("E-mail"), mkError("MK114", /"E-mail" is not COLUMN=FIELD/));
    assert.throws(() => parseColumnMap("Land=country"), mkError("MK114", /no column is mapped to email/));
    await assert.rejects(importFixture("custom.csv", { map: parseColumnMap("Email=email,Land=country") }), mkError("MK115", /--map names "Email", which the header row does not have \(it has E-mail, Vorname/));
  });

  it("role addresses and disposable domains are skipped with their line and column, counted, and imported with --allow-role / --allow-disposable", async () => {
    const file = await csv(
      "hygiene.csv",
      '"Email Address",LEID\nperson@example.test,1\npostmaster@example.test,2\nNo-Reply+news@example.test,3\nburner@mailinator.com,4\nx@inbox.mailinator.com,5\ninfo@example.test,6\n',
    );
    const { summary, sent } = await importFixtureAt(file);
    assert.deepEqual(sent().map((s) => s.email), ["person@example.test"]);
    assert.deepEqual({ role: summary.skipped.role, disposable: summary.skipped.disposable }, { role: 3, disposable: 2 });
    assert.deepEqual(summary.skipped.rows, [
      { line: 3, field: "Email Address", reason: "postmaster@ is a role address, not a person (--allow-role imports it)" },
      { line: 4, field: "Email Address", reason: "no-reply@ is a role address, not a person (--allow-role imports it)" },
      { line: 5, field: "Email Address", reason: "mailinator.com is a disposable-mail domain (--allow-disposable imports it)" },
      { line: 6, field: "Email Address", reason: "mailinator.com is a disposable-mail domain (--allow-disposable imports it)" },
      { line: 7, field: "Email Address", reason: "info@ is a role address, not a person (--allow-role imports it)" },
    ]);
    assert.deepEqual(summaryLines("hygiene.csv", summary).slice(0, 3), [
      "Read hygiene.csv as Mailchimp audience export.",
      "6 rows: 1 inserted, 0 updated, 0 unchanged, 0 rejected, 5 skipped (3 role, 2 disposable).",
      "  hygiene.csv:3  skipped: Email Address: postmaster@ is a role address, not a person (--allow-role imports it)",
    ]);

    const roles = await importFixtureAt(file, { allowRole: true });
    assert.deepEqual(roles.sent().map((s) => s.line), [2, 3, 4, 7]);
    const both = await importFixtureAt(file, { allowRole: true, allowDisposable: true });
    assert.deepEqual([both.sent().length, both.summary.skipped.rows.length], [6, 0]);
  });
});

async function importFixtureAt(file: string, options: ImportOptions = {}) {
  const recording = recordingClient();
  const summary = await importSubscribersCsv(file, recording.client, options);
  return { summary, ...recording };
}
