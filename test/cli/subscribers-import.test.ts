import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { generateSubscribersCsv } from "../../bench/generate-subscribers.js";
import { MkError } from "../../cli/errors.js";
import { RuntimeClient } from "../../cli/runtime-client.js";
import { importSubscribersCsv } from "../../cli/subscribers/import.js";
import { stopDatabase } from "../helpers/database.js";
import { startRuntime, TOKEN, type TestRuntime } from "../helpers/runtime.js";

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

    const person = await subscriber("person.1@example.com");
    assert.equal(person.last_name, "Rivera, 1");
    assert.deepEqual(person.tags, ["remote-worker", "buyer"]);
    assert.deepEqual(person.attributes, { plan: "pro", seats: 1 });
    assert.equal(person.consent, "marketing");

    const again = await importSubscribersCsv(file, client);
    assert.deepEqual({ ...again, rejected: again.rejected.length }, { rows: 100_000, inserted: 0, updated: 0, unchanged: 99_000, rejected: 1000 });
    assert.equal(Number((await db.query("select count(*) from subscribers")).rows[0].count), 99_000);
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
    const recording = { importSubscribers: async (subscribers: unknown[]) => (batches.push(JSON.stringify(subscribers).length), { inserted: subscribers.length, updated: 0, unchanged: 0 }) };
    const summary = await importSubscribersCsv(file, recording as unknown as RuntimeClient);
    assert.deepEqual({ rows: summary.rows, inserted: summary.inserted, rejected: summary.rejected.length }, { rows: 45, inserted: 45, rejected: 0 });
    assert.equal(batches.length, 2);
    for (const characters of batches) assert.ok(characters <= 8 * 1024 * 1024, `${characters} characters in one request`);
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
  });
});
