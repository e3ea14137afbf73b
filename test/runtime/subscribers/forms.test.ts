import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { purgeExpiredSignups } from "../../../runtime/forms/signup.js";
import { sha256 } from "../../../runtime/state/canonical.js";
import { stopDatabase } from "../../helpers/database.js";
import { startRuntime, type TestRuntime } from "../../helpers/runtime.js";
import { applyCampaigns, query, type SequenceFixture } from "../../helpers/sending.js";
import { waitFor } from "../../helpers/wait-for.js";

after(() => stopDatabase(), { timeout: 120_000 });

const T0 = new Date("2026-11-23T08:00:00Z");
const HOUR = 3_600_000;
const CONFIRM_HTML = '<html><body><p>Hi {{subscriber.firstName}}, please <a href="{{confirmUrl}}">confirm</a>.</p></body></html>';
const TOKEN_IN_HTML = /\/f\/confirm\/([A-Za-z0-9_-]{39})/;

const welcome: SequenceFixture = {
  name: "welcome",
  trigger: { event: "signup" },
  audience: "everyone",
  steps: [{ name: "hello", send: { template: "templates/hello.mjml", subject: "Welcome, {{subscriber.firstName}}" } }],
};

const project = {
  topics: [
    { name: "news", title: "News", default: "opt-in" },
    { name: "offers", title: "Offers", default: "opt-in" },
  ],
  forms: [
    {
      name: "newsletter",
      topics: ["news", "offers"],
      doubleOptIn: true,
      template: "templates/confirm.mjml",
      subject: "Confirm your subscription",
      redirect: {},
      allowedOrigins: ["https://nomaddesk.example"],
    },
    { name: "quick", topics: ["news"], doubleOptIn: false, subject: "unused", redirect: { success: "https://nomaddesk.example/thanks" }, allowedOrigins: [] },
  ],
};

describe("signup forms with double opt-in", { timeout: 240_000 }, () => {
  let rt: TestRuntime;
  let now = T0;
  let ip = 0;
  /** A new client IP per call: the per-IP limit (MK_FORM_RATE_PER_IP=4, bursts of 1) is its own test's. */
  const nextIp = () => `198.51.100.${++ip}`;
  const post = (form: string, fields: Record<string, string | string[]>, options: { ip?: string; json?: boolean; origin?: string } = {}) => {
    const pairs = Object.entries(fields).flatMap(([k, v]) => [v].flat().map((x): [string, string] => [k, x]));
    const body = options.json ? JSON.stringify(fields) : new URLSearchParams(pairs).toString();
    return rt.app.inject({
      method: "POST",
      url: `/f/${form}`,
      remoteAddress: options.ip ?? nextIp(),
      headers: { "content-type": options.json ? "application/json" : "application/x-www-form-urlencoded", "user-agent": "SignupBrowser/1.0", ...(options.origin ? { origin: options.origin } : {}) },
      payload: body,
    });
  };
  const confirm = (method: "GET" | "POST", token: string, remoteAddress = "203.0.113.9") =>
    rt.app.inject({ method, url: `/f/confirm/${token}`, remoteAddress, headers: { "user-agent": "MailClient/2.0", ...(method === "POST" ? { "content-type": "application/x-www-form-urlencoded" } : {}) }, payload: method === "POST" ? "" : undefined });
  const confirmations = (email: string) =>
    query<{ html: string; campaign: string; subject: string; headers: Record<string, string> }>(rt.databaseUrl, "select html, campaign, subject, headers from outbox where recipient = $1 and campaign like 'form:%' order by created_at", [email]);
  const tokenFor = async (email: string) => {
    await waitFor(async () => (await confirmations(email)).length > 0, 30_000, `a confirmation email to ${email}`);
    const html = (await confirmations(email)).at(-1)!.html;
    return TOKEN_IN_HTML.exec(html)![1]!;
  };
  const counts = async (email: string) =>
    (
      await query<{ subscribers: number; consent: number; events: number; enrollments: number; mail: number }>(
        rt.databaseUrl,
        `select (select count(*) from subscribers where email = $1)::int as subscribers,
                (select count(*) from consent_events c join subscribers s on s.id = c.subscriber_id where s.email = $1)::int as consent,
                (select count(*) from events e join subscribers s on s.id = e.subscriber_id where s.email = $1 and e.name = 'signup')::int as events,
                (select count(*) from enrollments e join subscribers s on s.id = e.subscriber_id where s.email = $1)::int as enrollments,
                (select count(*) from outbox where recipient = $1)::int as mail`,
        [email],
      )
    )[0]!;

  before(async () => {
    rt = await startRuntime({ MK_WORKERS: "1", MK_FORM_RATE_PER_IP: "4", }, undefined, { clock: () => now });
    await applyCampaigns(rt, [], {}, { sequences: [welcome], templates: { "templates/confirm.mjml": CONFIRM_HTML }, project });
  }, { timeout: 120_000 });
  after(() => rt.close(), { timeout: 120_000 });

  it("a form post → a confirmation in the outbox → its link → a subscriber with consent proof → a signup event → the welcome message", async () => {
    const answer = await post("newsletter", { email: " Ana@Example.test ", firstName: "Ana", topics: ["news"] }, { ip: "192.0.2.10" });
    assert.equal(answer.statusCode, 200);
    assert.match(answer.body, /Check your inbox/);
    assert.deepEqual(await query(rt.databaseUrl, "select email from subscribers"), [], "no subscriber before the link is followed");

    const token = await tokenFor("ana@example.test");
    const [mail] = await confirmations("ana@example.test");
    assert.equal(mail!.subject, "Confirm your subscription");
    assert.match(mail!.html, /Hi Ana/);
    assert.equal(mail!.headers["List-Unsubscribe"], undefined, "a confirmation is no list mail");

    const shown = await confirm("GET", token);
    assert.equal(shown.statusCode, 200);
    assert.match(shown.body, /Subscribe to our email about News\?<\/p><form method="post">/, "a GET (a link scanner's) only shows the button, naming the topics");
    assert.equal((await counts("ana@example.test")).subscribers, 0);

    const done = await confirm("POST", token);
    assert.equal(done.statusCode, 200);
    assert.match(done.body, /your subscription to News is confirmed/);
    const [subscriber] = await query<{ consent: string; first_name: string }>(rt.databaseUrl, "select consent, first_name from subscribers where email = 'ana@example.test'");
    assert.deepEqual(subscriber, { consent: "marketing", first_name: "Ana" });
    const history = await query<{ topic: string; action: string; source: string; source_detail: string; ip: string; user_agent: string; text_hash: string; evidence: Record<string, string>; occurred_at: Date }>(
      rt.databaseUrl,
      "select topic, action, source, source_detail, host(ip) as ip, user_agent, text_hash, evidence, occurred_at from consent_events order by topic",
    );
    assert.deepEqual(history.map((h) => [h.topic, h.action, h.source, h.source_detail, h.ip, h.user_agent, h.text_hash]), [
      ["", "granted", "form", "newsletter", "203.0.113.9", "MailClient/2.0", sha256(CONFIRM_HTML)],
      ["news", "granted", "form", "newsletter", "203.0.113.9", "MailClient/2.0", sha256(CONFIRM_HTML)],
    ]);
    assert.equal(history[0]!.occurred_at.toISOString(), T0.toISOString());
    assert.equal(history[0]!.evidence["requestIp"], "192.0.2.10", "the signup request's evidence is kept with the confirmation's");
    assert.equal(history[0]!.evidence["requestUserAgent"], "SignupBrowser/1.0");
    assert.equal((await counts("ana@example.test")).events, 1, "one signup event");
    await waitFor(async () => (await query(rt.databaseUrl, "select 1 from outbox where recipient = 'ana@example.test' and campaign = 'welcome/v1/step-1'")).length === 1, 30_000, "the welcome message");
  });

  it("replaying the confirmation link changes nothing", async () => {
    const token = TOKEN_IN_HTML.exec((await confirmations("ana@example.test"))[0]!.html)![1]!;
    const before = await counts("ana@example.test");
    for (const method of ["POST", "GET", "POST"] as const) {
      const again = await confirm(method, token, "203.0.113.77");
      assert.equal(again.statusCode, 200);
      assert.match(again.body, /your subscription to News is confirmed/);
    }
    assert.deepEqual(await counts("ana@example.test"), before);
  });

  it("answers a known and an unknown address byte for byte the same, and mails no confirmed address again", async () => {
    const known = await post("newsletter", { email: "ana@example.test", topics: "news" });
    const unknown = await post("newsletter", { email: "nobody-yet@example.test", topics: "news" });
    assert.equal(known.statusCode, unknown.statusCode);
    assert.equal(known.headers["content-type"], unknown.headers["content-type"]);
    assert.equal(known.body, unknown.body);
    const knownJson = await post("newsletter", { email: "ana@example.test", topics: ["news"] }, { json: true });
    const unknownJson = await post("newsletter", { email: "nobody-json@example.test", topics: ["news"] }, { json: true });
    assert.equal(knownJson.statusCode, 202);
    assert.equal(knownJson.body, unknownJson.body);
    await tokenFor("nobody-yet@example.test");
    assert.equal((await confirmations("ana@example.test")).length, 1, "already confirmed for news: not mailed again");
  });

  it("refuses bots: the honeypot and the limits per IP and per address", async () => {
    const human = await post("newsletter", { email: "human@example.test" });
    const bot = await post("newsletter", { email: "bot@example.test", website: "https://spam.example" });
    assert.equal(bot.body, human.body, "a bot gets the usual answer");
    assert.deepEqual(await query(rt.databaseUrl, "select email from signups where email = 'bot@example.test'"), [], "and nothing is stored");

    const flood = "192.0.2.99";
    assert.equal((await post("newsletter", { email: "first@example.test" }, { ip: flood })).statusCode, 200);
    const limitedUnknown = await post("newsletter", { email: "second@example.test" }, { ip: flood });
    const limitedKnown = await post("newsletter", { email: "ana@example.test" }, { ip: flood });
    assert.equal(limitedUnknown.statusCode, 429);
    assert.equal(limitedUnknown.headers["retry-after"], "60");
    const withoutId = (body: string) => ({ ...JSON.parse(body).error, requestId: undefined });
    assert.deepEqual(withoutId(limitedKnown.body), withoutId(limitedUnknown.body), "the 429 does not depend on the address");
    assert.deepEqual(await query(rt.databaseUrl, "select email from signups where email = 'second@example.test'"), []);

    const answers = new Set<string>();
    for (let i = 0; i < 6; i++) answers.add((await post("newsletter", { email: "target@example.test" })).body);
    assert.equal(answers.size, 1, "the same answer each time");
    const [{ n }] = (await query<{ n: number }>(rt.databaseUrl, "select count(*)::int as n from signups where email = 'target@example.test'")) as [{ n: number }];
    assert.equal(n, 3, "one address gets at most three confirmations");
  });

  it("sends CORS headers to the form's allowed origins only, preflight included", async () => {
    const preflight = (origin: string) => rt.app.inject({ method: "OPTIONS", url: "/f/newsletter", headers: { origin, "access-control-request-method": "POST" } });
    const allowed = await preflight("https://nomaddesk.example");
    assert.equal(allowed.statusCode, 204);
    assert.equal(allowed.headers["access-control-allow-origin"], "https://nomaddesk.example");
    assert.equal(allowed.headers["access-control-allow-headers"], "content-type");
    const other = await preflight("https://evil.example");
    assert.equal(other.headers["access-control-allow-origin"], undefined);
    const fromAllowed = await post("newsletter", { email: "cors@example.test" }, { json: true, origin: "https://nomaddesk.example" });
    assert.equal(fromAllowed.headers["access-control-allow-origin"], "https://nomaddesk.example");
    const fromOther = await post("quick", { email: "cors@example.test" }, { json: true, origin: "https://nomaddesk.example" });
    assert.equal(fromOther.headers["access-control-allow-origin"], undefined, "another form's origins are not this one's");
  });

  it("without double opt-in subscribes at once; erase removes the signup too", async () => {
    const answer = await post("quick", { email: "quick@example.test", firstName: "Quinn" });
    assert.equal(answer.statusCode, 303);
    assert.equal(answer.headers.location, "https://nomaddesk.example/thanks");
    const after = await counts("quick@example.test");
    assert.equal(after.subscribers, 1);
    assert.equal(after.consent, 2, "marketing mail and the form's topic");
    assert.equal(after.events, 1);
    assert.equal((await confirmations("quick@example.test")).length, 0, "no confirmation email");

    const exported = await rt.api("/v1/subscribers/quick%40example.test/export");
    assert.deepEqual(exported.body.signups.map((r: { form: string; ip: string; token_digest?: string }) => [r.form, r.ip, r.token_digest]), [["quick", "198.51.100." + ip, undefined]], "export holds the signup, not its token");
    assert.equal((await rt.api("/v1/subscribers/quick%40example.test", { method: "DELETE" })).status, 200);
    assert.deepEqual(await query(rt.databaseUrl, "select id from signups where email = 'quick@example.test'"), []);
  });

  it("lets someone who unsubscribed sign up again, but mails no address that bounced", async () => {
    await query(rt.databaseUrl, "insert into suppressions (email, reason, source) values ('back@example.test', 'unsubscribe', 'test'), ('bounced@example.test', 'bounce', 'test')");
    await post("newsletter", { email: "back@example.test" });
    await post("newsletter", { email: "bounced@example.test" });
    assert.equal((await confirm("POST", await tokenFor("back@example.test"))).statusCode, 200);
    assert.deepEqual(await query(rt.databaseUrl, "select email, reason from suppressions where email like 'b%' order by email"), [{ email: "bounced@example.test", reason: "bounce" }]);
    await waitFor(async () => (await query(rt.databaseUrl, "select status from sends where email = 'bounced@example.test' and status = 'suppressed'")).length === 1, 30_000, "the bounced address's confirmation suppressed");
    assert.equal((await confirmations("bounced@example.test")).length, 0);
  });

  it("shows an expired link a clear page, subscribes no one, and purges the signup", async () => {
    await post("newsletter", { email: "late@example.test" });
    const token = await tokenFor("late@example.test");
    now = new Date(T0.getTime() + 49 * HOUR);
    for (const method of ["GET", "POST"] as const) {
      const page = await confirm(method, token);
      assert.equal(page.statusCode, 410);
      assert.match(page.body, /link has expired, and nothing was subscribed/);
    }
    assert.equal((await counts("late@example.test")).subscribers, 0);
    await post("newsletter", { email: "someone-else@example.test" });
    assert.equal((await query(rt.databaseUrl, "select id from signups where email = 'late@example.test'")).length, 1, "a form post does no housekeeping");
    assert.ok((await purgeExpiredSignups(rt.pool, now)) > 0, "the daily maintenance purges it");
    assert.deepEqual(await query(rt.databaseUrl, "select id from signups where email = 'late@example.test'"), []);
    const purged = await confirm("GET", token);
    assert.equal(purged.statusCode, 410, "still a clear page once purged");
    assert.match(purged.body, /no longer valid/);
    assert.equal((await confirm("GET", token.slice(0, -2) + (token.endsWith("AA") ? "BB" : "AA"))).statusCode, 400, "an altered token is invalid");
  });
});
