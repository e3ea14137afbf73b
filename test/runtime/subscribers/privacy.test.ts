import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { to as copyTo } from "pg-copy-streams";
import { RuntimeClient } from "../../../cli/runtime-client.js";
import { importSubscribersCsv } from "../../../cli/subscribers/import.js";
import { foldRollups } from "../../../runtime/reports/rollups.js";
import { NO_PERSONAL_DATA, PERSONAL_DATA } from "../../../runtime/subscribers/erase.js";
import { stopDatabase } from "../../helpers/database.js";
import { adminQuery, databaseUrl, startTestCluster, TEMPLATE_DATABASE, type TestCluster } from "../../helpers/test-cluster.js";
import { startRuntime, TOKEN, type TestRuntime } from "../../helpers/runtime.js";
import { applyCampaigns, query, type SequenceFixture } from "../../helpers/sending.js";
import { waitFor } from "../../helpers/wait-for.js";

after(() => stopDatabase(), { timeout: 120_000 });

/** Column names that suggest personal data: a table with one must be in erase's list or declared free of it. */
const PERSONAL_LOOKING = /email|subscriber|recipient|(^|_)ip($|_)|address|payload|body|html|text|propert|data|attribute|user_agent|evidence|detail|phone|header|first_name|last_name|author|trigger_key/;

/**
 * Debian's postgresql-15, the deployed path's PostgreSQL (.ci/run installs it): when it is here,
 * this file runs on a cluster of it, and erase is checked against a real pg_dump of the whole
 * database. (Debian has no pg_dump for the embedded PostgreSQL 18, and an older pg_dump refuses a
 * newer server.)
 */
const DEPLOYED_BIN = "/usr/lib/postgresql/15/bin";
const deployed = existsSync(path.join(DEPLOYED_BIN, "pg_dump"));

/**
 * The whole database as text: pg_dump's plain format on the deployed PostgreSQL; without it,
 * every row of every table as COPY writes it (what pg_dump's data section holds).
 */
async function dumpDatabase(databaseUrl: string): Promise<string> {
  if (deployed) return (await promisify(execFile)(path.join(DEPLOYED_BIN, "pg_dump"), ["--dbname", databaseUrl], { maxBuffer: 256 * 1024 * 1024 })).stdout;
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const tables = (await client.query<{ name: string }>("select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = current_schema() and c.relkind = 'r' order by 1")).rows;
    const parts: string[] = [];
    for (const { name } of tables) {
      const stream = client.query(copyTo(`copy ${client.escapeIdentifier(name)} to stdout`));
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      parts.push(`-- ${name}\n${Buffer.concat(chunks).toString("utf8")}`);
    }
    return parts.join("\n");
  } finally {
    await client.end();
  }
}

const onboarding: SequenceFixture = {
  name: "onboarding",
  trigger: { event: "signup" },
  audience: "everyone",
  steps: [
    { name: "welcome", send: { template: "templates/hello.mjml", subject: "Welcome, {{subscriber.firstName}}" } },
    { name: "pause", wait: "2d" },
  ],
};

describe("privacy: export and erase", { timeout: 300_000 }, () => {
  let rt: TestRuntime;
  let cluster: TestCluster | undefined;
  before(async () => {
    if (deployed) {
      cluster = await startTestCluster({ binDir: DEPLOYED_BIN });
      await adminQuery(cluster.url, `create database privacy template ${TEMPLATE_DATABASE}`);
    }
    rt = await startRuntime({ MK_WORKERS: "1" }, cluster && databaseUrl(cluster.url, "privacy"));
  }, { timeout: 120_000 });
  after(async () => {
    await rt.close();
    await cluster?.stop();
  }, { timeout: 60_000 });

  it("every table that can hold personal data is in erase's list or declared free of it, and every cascade it relies on exists", async () => {
    const columns = await query<{ table_name: string; column_name: string }>(
      rt.databaseUrl,
      `select c.table_name, c.column_name from information_schema.columns c
       join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
       join pg_class k on k.relname = c.table_name and k.relnamespace = (select oid from pg_namespace where nspname = current_schema())
       where c.table_schema = current_schema() and t.table_type = 'BASE TABLE' and not k.relispartition
       order by c.table_name, c.ordinal_position`,
    );
    const byTable = new Map<string, string[]>();
    for (const c of columns) byTable.set(c.table_name, [...(byTable.get(c.table_name) ?? []), c.column_name]);
    const personal = new Map(PERSONAL_DATA.map((l) => [l.table, l]));
    const problems: string[] = [];
    for (const [table, names] of byTable) {
      const looking = names.filter((n) => PERSONAL_LOOKING.test(n));
      const declared = NO_PERSONAL_DATA[table];
      const location = personal.get(table);
      if (!location && !declared) problems.push(`${table} (${names.join(", ")}) is neither in PERSONAL_DATA nor in NO_PERSONAL_DATA (runtime/subscribers/erase.ts)`);
      if (location && declared) problems.push(`${table} is in both lists`);
      for (const column of location?.columns ?? []) if (!names.includes(column)) problems.push(`${table}.${column} is in PERSONAL_DATA but not in the database`);
      const unreviewed = declared ? looking.filter((n) => !(declared.reviewed ?? []).includes(n)) : [];
      if (unreviewed.length > 0) problems.push(`${table} is declared free of personal data, but ${unreviewed.join(", ")} look personal: erase them, or list them as reviewed`);
    }
    for (const table of [...personal.keys(), ...Object.keys(NO_PERSONAL_DATA)]) if (!byTable.has(table)) problems.push(`${table} is listed but is no table`);
    const cascades = await query<{ child: string; parent: string }>(
      rt.databaseUrl,
      `select conrelid::regclass::text as child, confrelid::regclass::text as parent from pg_constraint
       where contype = 'f' and confdeltype = 'c' and connamespace = (select oid from pg_namespace where nspname = current_schema())`,
    );
    for (const location of PERSONAL_DATA) {
      if ("cascadesFrom" in location.erase && !cascades.some((c) => c.child === location.table && c.parent === (location.erase as { cascadesFrom: string }).cascadesFrom)) {
        problems.push(`${location.table} has no ON DELETE CASCADE foreign key to ${location.erase.cascadesFrom}`);
      }
    }
    assert.deepEqual(problems, []);
  });

  it("exports everything held about an address, then erases it everywhere while reports, the tax ledger and other subscribers stay as they were", async () => {
    // 1. Ana (and Bob, who must not be touched): consent by import, a campaign, a sequence, events, a click, a purchase, SES events, a suppression, dead letters.
    const imported = await rt.api("/v1/subscribers/import", {
      body: { file: "people.csv", subscribers: [
        { email: "ana.erase@example.test", firstName: "Ana", country: "PT", consent: "marketing", line: 2, consentProof: { confirmedAt: "2026-01-02T10:00:00Z", confirmIp: "198.51.100.7" } },
        { email: "bob@example.test", firstName: "Bob", country: "PT", consent: "marketing", line: 3 },
      ] },
    });
    assert.equal(imported.body.inserted, 2, JSON.stringify(imported.body));
    await rt.api("/v1/subscribers/import", { body: { file: "people.csv", subscribers: [{ email: "ana.erase@example.test", consent: null, line: 2 }] } });
    await rt.api("/v1/subscribers/import", { body: { file: "people.csv", subscribers: [{ email: "ana.erase@example.test", consent: "marketing", line: 2 }] } });
    await applyCampaigns(rt, [{ name: "launch" }], {}, { sequences: [onboarding] });
    assert.equal((await rt.api("/v1/sends/start", { body: { campaign: "launch" } })).status, 200);
    const now = new Date().toISOString();
    const signup = await rt.api("/v1/events", { body: { events: [
      { idempotencyKey: "signup-1", type: "signup", subscriber: { email: "ana.erase@example.test" }, occurredAt: now, ip: "203.0.113.9" },
      { idempotencyKey: "signup-2", type: "signup", subscriber: { email: "bob@example.test" }, occurredAt: now },
    ] } });
    assert.equal(signup.body.accepted, 2, JSON.stringify(signup.body));
    await waitFor(async () => (await query(rt.databaseUrl, "select 1 from sends where status = 'sent'")).length === 4, 60_000, "the campaign's and the welcome step's sends");
    const sends = await query<{ id: string; email: string }>(rt.databaseUrl, "select id, email from sends where campaign = 'launch' order by email");
    const sendOf = (email: string) => sends.find((s) => s.email === email)!.id;
    const later = new Date().toISOString();
    const events = await rt.api("/v1/events", { body: { events: [
      ...["ana.erase@example.test", "bob@example.test"].flatMap((email, i) => [
        { idempotencyKey: `click-${i}`, type: "click", subscriber: { email }, occurredAt: later, sendId: sendOf(email), properties: { link: 0, note: `${email} clicked` }, ip: "203.0.113.10" },
        { idempotencyKey: `buy-${i}`, type: "purchase", subscriber: { email }, occurredAt: later, sendId: sendOf(email), amount: { value: 10_700, currency: "EUR" }, country: "PT" },
      ]),
      // Dead letters: one in the address's upper case, one naming no known subscriber, one about Bob.
      { idempotencyKey: "bad-1", type: "page_view", subscriber: { email: "ANA.ERASE@EXAMPLE.TEST" }, occurredAt: "yesterday" },
      { idempotencyKey: "bad-2", type: "page_view", subscriber: { email: "Ana.Erase@Example.Test " }, occurredAt: now, properties: { x: 1 }, sendId: "not-a-uuid" },
      { idempotencyKey: "bad-3", type: "page_view", subscriber: { email: "bob@example.test" }, occurredAt: "yesterday" },
      { idempotencyKey: "bad-4", type: "page_view", subscriber: { email: "joana.erase@example.test" }, occurredAt: "yesterday" },
    ] } });
    assert.equal(events.body.accepted, 4, JSON.stringify(events.body));
    await query(rt.databaseUrl, `insert into events (idempotency_key, subscriber_id, name, occurred_at, send_id, data, campaign)
      select 'sns:ana-bounce', id, 'ses.delivery', now(), $1, '{"sesMessageId":"m-1"}', 'launch' from subscribers where email = 'ana.erase@example.test'`, [sendOf("ana.erase@example.test")]);
    await query(rt.databaseUrl, "insert into suppressions (email, reason, source) values ('ana.erase@example.test', 'manual', 'support ticket for ana.erase@example.test')");
    await foldRollups(rt.pool);

    // 2. The export holds each part.
    const exported = await rt.api("/v1/subscribers/ANA.Erase@example.test/export");
    assert.equal(exported.status, 200, JSON.stringify(exported.body));
    const doc = exported.body;
    assert.equal(doc.email, "ana.erase@example.test");
    assert.equal(doc.profile.first_name, "Ana");
    assert.deepEqual(doc.consent.map((c: { action: string; source_detail: string }) => [c.action, c.source_detail]), [["granted", "people.csv:2"], ["withdrawn", "people.csv:2"], ["granted", "people.csv:2"]]);
    assert.equal(doc.consent[0].ip, "198.51.100.7");
    assert.deepEqual(doc.topics.map((t: { topic: string; granted: boolean }) => [t.topic, t.granted]), [["", true]]);
    assert.deepEqual(doc.sends.map((s: { campaign: string; status: string }) => s.status), ["sent", "sent"]);
    assert.ok(doc.sends.some((s: { campaign: string }) => s.campaign === "launch") && doc.sends.some((s: { campaign: string }) => s.campaign.startsWith("onboarding/")), JSON.stringify(doc.sends));
    assert.equal(doc.outbox.length, 2);
    assert.ok(doc.outbox.every((o: { recipient: string }) => o.recipient.includes("ana.erase@example.test")));
    assert.deepEqual(doc.events.map((e: { name: string }) => e.name).sort(), ["click", "purchase", "ses.delivery", "signup"]);
    assert.equal(doc.events.find((e: { name: string }) => e.name === "signup").ip, "203.0.113.9");
    assert.equal(doc.enrollments.length, 1);
    assert.equal(doc.enrollments[0].sequence, "onboarding");
    assert.ok(doc.enrollments[0].steps.some((s: { kind: string; step: number }) => s.kind === "send" && s.step === 0), JSON.stringify(doc.enrollments[0].steps));
    // Once per link, and once more by who clicked it: a machine, the ingested click coming seconds after the send.
    assert.deepEqual(doc.clicks.map((c: { campaign: string; link: string; actor: string }) => [c.campaign, c.link, c.actor]), [["launch", "0", ""], ["launch", "0", "machine"]]);
    assert.deepEqual(doc.suppressions.map((s: { reason: string }) => s.reason), ["manual"]);
    assert.deepEqual(doc.deadLetters.map((d: { idempotency_key: string }) => d.idempotency_key), ["bad-1", "bad-2"]);
    assert.equal(doc.deadLetters[0].payload.subscriber.email, "ANA.ERASE@EXAMPLE.TEST");
    assert.equal(doc.erasedAt, null);

    // 3. Erase: what the reports and the ledger say before and after.
    const report = async () => (await rt.api("/v1/reports/campaigns/launch")).body;
    const tax = async () => ({ ...(await rt.api("/v1/reports/tax?country=PT&from=2000-01-01&to=2100-01-01")).body, generatedAt: undefined });
    const [reportBefore, taxBefore] = [await report(), await tax()];
    const ledgerBefore = await query(rt.databaseUrl, "select * from tax_ledger order by id");
    const rollupsBefore = await query(rt.databaseUrl, "select * from campaign_rollups order by campaign, variant, day, country");
    assert.ok((await dumpDatabase(rt.databaseUrl)).toLowerCase().includes("ana.erase@example.test"), "the dump finds the address before");

    const erased = await rt.api("/v1/subscribers/Ana.Erase@Example.Test", { method: "DELETE" });
    assert.deepEqual([erased.status, erased.body], [200, { erased: true }]);
    await foldRollups(rt.pool);

    const dump = (await dumpDatabase(rt.databaseUrl)).toLowerCase();
    const ana = /(^|[^a-z0-9._%+-])ana\.erase@example\.test/;
    assert.ok(!ana.test(dump), `the address is still in: ${dump.split("\n").filter((l) => ana.test(l) || l.startsWith("-- ")).join("\n").slice(0, 2000)}`);
    assert.ok(dump.includes("joana.erase@example.test"), "another address that contains hers is not erased");
    assert.ok(!dump.includes("203.0.113.9\t") && !dump.includes("198.51.100.7"), "her IPs are gone");
    assert.ok(dump.includes("bob@example.test"), "Bob is still there");
    assert.deepEqual(await report(), reportBefore, "the campaign report is unchanged");
    assert.deepEqual(await tax(), taxBefore, "the tax report is unchanged");
    assert.deepEqual(await query(rt.databaseUrl, "select * from tax_ledger order by id"), ledgerBefore);
    assert.deepEqual(await query(rt.databaseUrl, "select * from campaign_rollups order by campaign, variant, day, country"), rollupsBefore);
    const verify = await rt.api("/v1/tax/verify");
    assert.equal(verify.status, 200);
    assert.deepEqual([verify.body.ok, verify.body.checked], [true, 2], JSON.stringify(verify.body));
    const bob = (await rt.api("/v1/subscribers/bob@example.test/export")).body;
    assert.deepEqual([bob.sends.length, bob.events.length, bob.deadLetters.length], [2, 3, 1], "Bob keeps his sends, events and dead letter");
    assert.equal((await rt.api("/v1/subscribers/joana.erase@example.test/export")).body.deadLetters.length, 1);

    // 4. Again, and an address never seen: the same answer; every request recorded with its token's name and no address.
    assert.deepEqual((await rt.api("/v1/subscribers/ana.erase@example.test", { method: "DELETE" })).body, { erased: false });
    assert.deepEqual((await rt.api("/v1/subscribers/nobody@example.test", { method: "DELETE" })).body, { erased: false });
    const log = await query<{ token_name: string; found: boolean; address_hash: Buffer }>(rt.databaseUrl, "select token_name, found, address_hash from erasures order by id");
    assert.deepEqual(log.map((r) => [r.token_name, r.found]), [["MK_API_TOKEN", true], ["MK_API_TOKEN", false], ["MK_API_TOKEN", false]]);
    assert.ok(log[0]!.address_hash.equals(log[1]!.address_hash) && !log[0]!.address_hash.equals(log[2]!.address_hash));
    const after = (await rt.api("/v1/subscribers/ana.erase@example.test/export")).body;
    assert.equal(after.profile, null);
    assert.ok(after.erasedAt);
    assert.deepEqual([after.sends, after.events, after.deadLetters, after.suppressions], [[], [], [], []]);

    // 5. A later import of the address is refused, with its line; the rest of the batch goes in.
    const again = await rt.api("/v1/subscribers/import", { body: { file: "people.csv", subscribers: [
      { email: "carla@example.test", line: 2 },
      { email: "ana.erase@example.test", firstName: "Ana", line: 3 },
    ] } });
    assert.equal(again.body.inserted, 1, JSON.stringify(again.body));
    assert.deepEqual(again.body.refused.map((r: { index: number; line: number }) => [r.index, r.line]), [[1, 3]]);
    assert.match(again.body.refused[0].reason, /erased at its owner's request/);
    assert.equal((await query(rt.databaseUrl, "select 1 from subscribers where email = 'ana.erase@example.test'")).length, 0);
    // Through mk subscribers import's own code: the CSV's line of the erased address is among the rejected rows.
    const dir = await mkdtemp(path.join(tmpdir(), "mk-erase-"));
    try {
      const file = path.join(dir, "people.csv");
      await writeFile(file, "email,firstName\ndora@example.test,Dora\n ANA.Erase@example.test ,Ana\n");
      const summary = await importSubscribersCsv(file, new RuntimeClient({ env: "test", url: rt.url, token: TOKEN }));
      assert.deepEqual([summary.inserted, summary.rejected.map((r) => r.line)], [1, [3]], JSON.stringify(summary));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses an address that cannot be one, and tokens without the admin scope", async () => {
    const long = `${"a".repeat(250)}@example.test`;
    assert.equal((await rt.api(`/v1/subscribers/${"a".repeat(240)}@example.test/export`)).status, 200, "a long address is an address");
    const refused = await rt.api(`/v1/subscribers/${long}`, { method: "DELETE" });
    assert.deepEqual([refused.status, refused.body.error.code, refused.body.error.fields[0].path], [400, "invalid_request", "email"]);
    const token = (await rt.api("/v1/tokens", { body: { name: "reporting", scope: "report" } })).body.token as string;
    const forbidden = await rt.api("/v1/subscribers/bob@example.test", { method: "DELETE", token });
    assert.equal(forbidden.status, 403);
    assert.equal((await rt.api("/v1/subscribers/bob@example.test/export", { token })).status, 403);
  });
});
