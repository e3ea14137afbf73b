import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { RuntimeClient } from "../../../cli/runtime-client.js";
import { subscriberPages, subscriberProfile } from "../../../cli/subscribers/profile.js";
import { signLinkToken } from "../../../runtime/sending/link-tokens.js";
import { handleSesNotification } from "../../../runtime/webhooks/ses-events.js";
import { stopDatabase } from "../../helpers/database.js";
import { SIGNING_SECRET, startRuntime, TOKEN, type TestRuntime } from "../../helpers/runtime.js";
import { applyCampaigns, query } from "../../helpers/sending.js";

/**
 * Subscribers through the API, and the consent history every path that
 * changes consent writes (migration 000014): import, API, the unsubscribe
 * link, bounces and complaints.
 */
let rt: TestRuntime;
before(async () => {
  rt = await startRuntime();
}, { timeout: 120_000 });
after(async () => {
  await rt.close();
  await stopDatabase();
}, { timeout: 120_000 });

const history = (email: string) =>
  query<{ topic: string; action: string; source: string; source_detail: string | null; ip: string | null; user_agent: string | null; evidence: unknown }>(
    rt.databaseUrl,
    `select e.topic, e.action, e.source, e.source_detail, host(e.ip) as ip, e.user_agent, e.evidence
     from consent_events e join subscribers s on s.id = e.subscriber_id where s.email = $1 order by e.id`,
    [email],
  );

describe("the consent history", { timeout: 180_000 }, () => {
  it("records an import's consent with its file:line and proof, once per change; a withdrawal too", async () => {
    const proof = { grantedAt: "2024-03-01T10:00:00Z", ip: "198.51.100.7", confirmedAt: "2024-03-01T10:05:00Z", confirmIp: "2001:db8::1" };
    const body = { file: "lists/march.csv", subscribers: [{ email: "ana@example.test", consent: "marketing", line: 2, consentProof: proof }, { email: "ben@example.test", line: 3 }] };
    assert.equal((await rt.api("/v1/subscribers/import", { body })).status, 200);
    assert.equal((await rt.api("/v1/subscribers/import", { body })).body.unchanged, 2, "a re-import changes nothing");
    const [granted] = await query<{ occurred_at: Date }>(rt.databaseUrl, "select occurred_at from consent_events where source = 'import'");
    assert.equal(granted?.occurred_at.toISOString(), "2024-03-01T10:05:00.000Z", "the confirmation's time");
    assert.deepEqual(await history("ana@example.test"), [
      { topic: "", action: "granted", source: "import", source_detail: "lists/march.csv:2", ip: "2001:db8::1", user_agent: null, evidence: proof },
    ]);
    assert.deepEqual(await history("ben@example.test"), [], "no consent, nothing to record");

    await rt.api("/v1/subscribers/import", { body: { file: "lists/april.csv", subscribers: [{ email: "ana@example.test", consent: null, line: 9 }] } });
    const after = await history("ana@example.test");
    assert.deepEqual(after.map((e) => [e.action, e.source_detail]), [["granted", "lists/march.csv:2"], ["withdrawn", "lists/april.csv:9"]]);
    assert.deepEqual(await query(rt.databaseUrl, "select consent from subscribers where email = 'ana@example.test'"), [{ consent: null }]);
    const bad = await rt.api("/v1/subscribers/import", { body: { subscribers: [{ email: "x@example.test", consentProof: { ip: "999.1.1.1", grantedAt: "yesterday" } }] } });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.error.fields.map((f: { path: string }) => f.path).sort(), ["subscribers[0].consentProof.grantedAt", "subscribers[0].consentProof.ip"]);
  });

  it("is append-only: UPDATE and DELETE are refused; erasing the subscriber takes its history along", async () => {
    await assert.rejects(query(rt.databaseUrl, "update consent_events set action = 'granted'"), /append-only/);
    await assert.rejects(query(rt.databaseUrl, "delete from consent_events"), /append-only/);
    await rt.api("/v1/subscribers", { body: { email: "gone@example.test", consent: "marketing" } });
    await query(rt.databaseUrl, "delete from subscribers where email = 'gone@example.test'");
    assert.deepEqual(await query(rt.databaseUrl, "select count(*)::int as n from consent_events e where not exists (select 1 from subscribers s where s.id = e.subscriber_id)"), [{ n: 0 }]);
  });

  it("records the unsubscribe link with the visitor's IP and user agent, and a hard bounce and a complaint", async () => {
    await rt.api("/v1/subscribers/import", { body: { subscribers: ["cy", "di", "ed"].map((n) => ({ email: `${n}@example.test`, consent: "marketing" })) } });
    await applyCampaigns(rt, [{ name: "spring" }]);
    await rt.api("/v1/sends/start", { body: { campaign: "spring" } });
    const sends = await query<{ id: string; email: string }>(rt.databaseUrl, "select id, email from sends where campaign = 'spring' order by email");
    const send = (email: string) => sends.find((s) => s.email === email)!.id;

    const token = signLinkToken(SIGNING_SECRET, { kind: "unsubscribe", sendId: send("cy@example.test"), linkIndex: 0 });
    const unsubscribe = { method: "POST" as const, url: `/u/${token}`, headers: { "content-type": "application/x-www-form-urlencoded", "user-agent": "Mailbox/1.0" }, payload: "List-Unsubscribe=One-Click", remoteAddress: "203.0.113.9" };
    assert.equal((await rt.app.inject(unsubscribe)).statusCode, 200);
    assert.equal((await rt.app.inject(unsubscribe)).statusCode, 200);
    assert.deepEqual((await history("cy@example.test")).slice(1), [
      { topic: "", action: "withdrawn", source: "unsubscribe-link", source_detail: "campaign:spring", ip: "203.0.113.9", user_agent: "Mailbox/1.0", evidence: null },
    ], "once, however often it is posted");

    const ses = (record: Record<string, unknown>) => handleSesNotification(rt.pool, { Type: "Notification", MessageId: randomUUID(), TopicArn: "arn:aws:sns:eu-west-1:1:mk", Timestamp: new Date().toISOString(), Message: JSON.stringify(record) } as never);
    const mail = (email: string) => ({ timestamp: new Date().toISOString(), messageId: `ses-${email}`, destination: [email], tags: { "mk-send-id": [send(email)] } });
    await ses({ eventType: "Bounce", mail: mail("di@example.test"), bounce: { bounceType: "Permanent", bouncedRecipients: [{ emailAddress: "DI@example.test" }] } });
    await ses({ eventType: "Complaint", mail: mail("ed@example.test"), complaint: { complainedRecipients: [{ emailAddress: "ed@example.test" }] } });
    assert.deepEqual((await history("di@example.test")).slice(1).map((e) => [e.action, e.source, e.source_detail]), [["withdrawn", "bounce", "ses:ses-di@example.test"]]);
    assert.deepEqual((await history("ed@example.test")).slice(1).map((e) => [e.action, e.source, e.source_detail]), [["withdrawn", "complaint", "ses:ses-ed@example.test"]]);
    assert.deepEqual(await query(rt.databaseUrl, "select email from subscribers where email in ('cy@example.test', 'di@example.test', 'ed@example.test') and consent is not null"), []);
  });
});

describe("subscribers through the API", { timeout: 180_000 }, () => {
  it("upserts one (201, then 200) normalised as an import row, recording the token's name; reads and patches it; 404 for an unknown address", async () => {
    const crm = (await rt.api("/v1/tokens", { body: { name: "crm-sync", scope: "admin" } })).body.token as string;
    const created = await rt.api("/v1/subscribers", { body: { email: "Fay@Example.test", firstName: "Fay", consent: "marketing", tags: ["vip"] }, token: crm });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.email, "fay@example.test");
    assert.deepEqual(created.body.consentHistory.map((e: { source: string; sourceDetail: string }) => [e.source, e.sourceDetail]), [["api", "crm-sync"]]);
    assert.equal((await rt.api("/v1/subscribers", { body: { email: "fay@example.test", firstName: "Fay" } })).status, 200);

    const patched = await rt.api("/v1/subscribers/FAY@example.test", { method: "PATCH", body: { lastName: "Lim", consent: null } });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.deepEqual([patched.body.firstName, patched.body.lastName, patched.body.consent, patched.body.tags], ["Fay", "Lim", null, ["vip"]]);
    assert.deepEqual(patched.body.consentHistory.map((e: { action: string; sourceDetail: string }) => [e.action, e.sourceDetail]), [["granted", "crm-sync"], ["withdrawn", "MK_API_TOKEN"]]);
    assert.deepEqual((await rt.api("/v1/subscribers/fay@example.test")).body, patched.body);

    for (const [method, body] of [["GET", undefined], ["PATCH", { firstName: "X" }]] as const) {
      const missing = await rt.api("/v1/subscribers/nobody@example.test", { method, ...(body ? { body } : {}) });
      assert.equal(missing.status, 404, method);
      assert.equal(missing.body.error.code, "unknown_subscriber");
    }
    assert.deepEqual(await query(rt.databaseUrl, "select count(*)::int as n from subscribers where email = 'nobody@example.test'"), [{ n: 0 }]);
    const invalid = await rt.api("/v1/subscribers", { body: { email: "not-an-email", country: "Portugal" } });
    assert.equal(invalid.status, 400);
    assert.deepEqual(invalid.body.error.fields.map((f: { path: string }) => f.path).sort(), ["country", "email"]);
    const report = (await rt.api("/v1/tokens", { body: { name: "reader", scope: "report" } })).body.token as string;
    assert.equal((await rt.api("/v1/subscribers/fay@example.test", { token: report })).status, 403, "personal data is admin's");
  });

  it("lists in keyset pages, by applied audience or tag, and refuses an audience not applied or a bad cursor", async () => {
    await rt.api("/v1/subscribers/import", { body: { subscribers: Array.from({ length: 7 }, (_, i) => ({ email: `page${i}@example.test`, country: i % 2 ? "DE" : "PT", tags: i < 3 ? ["early"] : [] })) } });
    await applyCampaigns(rt, [{ name: "spring" }]);
    const state = (await rt.api("/v1/state")).body;
    const resources = state.resources.map((r: { kind: string; name: string; spec: unknown }) => ({ kind: r.kind, name: r.name, spec: r.spec }));
    resources.push({ kind: "Audience", name: "germany", spec: { where: { country: "DE" } } });
    const applied = await rt.api("/v1/apply", { body: { baseSerial: state.serial, resources, templates: [], source: { commit: null, author: null, branch: null, dirty: null } } });
    assert.equal(applied.status, 200, JSON.stringify(applied.body));

    const emails: string[] = [];
    let cursor: string | null = "";
    let pages = 0;
    while (cursor !== null) {
      const page: { status: number; body: { subscribers: { email: string }[]; nextCursor: string | null } } = await rt.api(`/v1/subscribers?limit=2&audience=germany${cursor ? `&cursor=${cursor}` : ""}`);
      assert.equal(page.status, 200, JSON.stringify(page.body));
      emails.push(...page.body.subscribers.map((s) => s.email));
      cursor = page.body.nextCursor;
      pages += 1;
    }
    assert.deepEqual(emails, ["page1@example.test", "page3@example.test", "page5@example.test"]);
    assert.equal(pages, 2);
    assert.deepEqual((await rt.api("/v1/subscribers?tag=early")).body.subscribers.map((s: { email: string }) => s.email), ["page0@example.test", "page1@example.test", "page2@example.test"]);
    assert.equal((await rt.api("/v1/subscribers?audience=nope")).status, 404);
    for (const bad of ["cursor=abc", "limit=0", "limit=5000", "colour=red"]) assert.equal((await rt.api(`/v1/subscribers?${bad}`)).status, 400, bad);
    assert.equal((await rt.api("/v1/subscribers", { token: `${TOKEN}x` })).status, 401);
  });

  it("mk subscribers get prints the profile and the consent history; list streams every page; an unknown address is MK109", async () => {
    const client = new RuntimeClient({ env: "local", url: rt.url, token: TOKEN });
    const text = subscriberProfile(await client.subscriber("fay@example.test"), { bold: false });
    assert.match(text, /^email +fay@example\.test$/m);
    assert.match(text, /^consent +none$/m);
    assert.match(text, /Consent history:\n[\s\S]*granted +│? *api +│? *crm-sync[\s\S]*withdrawn +│? *api +│? *MK_API_TOKEN/);
    const pages: string[][] = [];
    for await (const page of subscriberPages(client, { tag: "early" }, 2)) pages.push(page.map((s) => s.email));
    assert.deepEqual(pages, [["page0@example.test", "page1@example.test"], ["page2@example.test"]]);
    await assert.rejects(client.subscriber("nobody@example.test"), (error: { code?: string }) => error.code === "MK109");
  });
});

describe("topics", { timeout: 180_000 }, () => {
  it("a campaign about a topic skips those who left it (opt-out) or never chose it (opt-in); the count plan shows is the ledger's; one click leaves that topic only", async () => {
    const people = ["t1", "t2", "t3", "t4"].map((n) => `${n}@example.test`);
    await rt.api("/v1/subscribers/import", { body: { subscribers: people.map((email) => ({ email, consent: "marketing", tags: ["topics"] })) } });
    const [t1, t2, t3] = (await query<{ id: string }>(rt.databaseUrl, "select id from subscribers where email = any($1) order by email", [people])).map((r) => r.id);
    // t1 left the newsletter; t2 chose product news; t3 left everything.
    await query(rt.databaseUrl, "insert into consent_events (subscriber_id, topic, action, source) values ($1, 'newsletter', 'withdrawn', 'api'), ($2, 'product-news', 'granted', 'api'), ($3, '', 'withdrawn', 'api')", [t1, t2, t3]);

    await applyCampaigns(rt, [{ name: "spring" }]);
    const state = (await rt.api("/v1/state")).body;
    const topics = [{ name: "newsletter", title: "The newsletter", default: "opt-out" }, { name: "product-news", title: "Product news", default: "opt-in" }];
    const resources = state.resources.map((r: { kind: string; name: string; spec: Record<string, unknown> }) => ({ kind: r.kind, name: r.name, spec: r.kind === "Project" ? { ...r.spec, topics } : r.spec }));
    resources.push({ kind: "Audience", name: "topical", spec: { where: { tag: "topics" } } });
    for (const topic of ["newsletter", "product-news"]) resources.push({ kind: "Campaign", name: `about-${topic}`, spec: { subject: "News", audience: "topical", template: "templates/hello.mjml", topic, transactional: false } });
    const applied = await rt.api("/v1/apply", { body: { baseSerial: state.serial, resources, templates: [], source: { commit: null, author: null, branch: null, dirty: null } } });
    assert.equal(applied.status, 200, JSON.stringify(applied.body));

    const count = await rt.api("/v1/audiences/count", {
      body: {
        audiences: { topical: { tag: "topics" } },
        timezone: "UTC",
        campaigns: topics.map((t) => ({ name: `about-${t.name}`, audience: "topical", marketing: true, topic: { name: t.name, default: t.default } })),
        topics: topics.map((t) => ({ name: t.name, default: t.default })),
      },
    });
    assert.equal(count.status, 200, JSON.stringify(count.body));
    assert.deepEqual(count.body.campaigns, { "about-newsletter": 2, "about-product-news": 1 });
    for (const t of topics) {
      const started = await rt.api("/v1/sends/start", { body: { campaign: `about-${t.name}` } });
      assert.equal(started.body.recipients, count.body.campaigns[`about-${t.name}`], t.name);
    }
    const ledger = await query<{ campaign: string; email: string }>(rt.databaseUrl, "select campaign, email from sends where campaign like 'about-%' order by 1, 2");
    assert.deepEqual(ledger, [
      { campaign: "about-newsletter", email: "t2@example.test" },
      { campaign: "about-newsletter", email: "t4@example.test" },
      { campaign: "about-product-news", email: "t2@example.test" },
    ]);
    assert.ok(count.body.topics.newsletter >= 2 && count.body.topics["product-news"] === 1, JSON.stringify(count.body.topics));

    const sendId = (await query<{ id: string }>(rt.databaseUrl, "select id from sends where campaign = 'about-newsletter' and email = 't4@example.test'"))[0]!.id;
    const token = signLinkToken(SIGNING_SECRET, { kind: "unsubscribe", sendId, linkIndex: 0 });
    const confirm = await rt.app.inject({ method: "GET", url: `/u/${token}` });
    assert.match(confirm.body, /Stop email about The newsletter from/);
    const left = await rt.app.inject({ method: "POST", url: `/u/${token}`, headers: { "content-type": "application/x-www-form-urlencoded" }, payload: "List-Unsubscribe=One-Click" });
    assert.equal(left.statusCode, 200);
    assert.match(left.body, /no more email about The newsletter/);
    const t4 = await rt.api("/v1/subscribers/t4@example.test");
    assert.equal(t4.body.consent, "marketing", "still gets other marketing mail");
    assert.deepEqual(t4.body.topics, { newsletter: false });
    assert.deepEqual(await query(rt.databaseUrl, "select email from suppressions where email = 't4@example.test'"), [], "not suppressed");
    assert.deepEqual(t4.body.consentHistory.at(-1).topic, "newsletter");
  });
});
