import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { signLinkToken } from "../../../runtime/sending/link-tokens.js";
import { stopDatabase } from "../../helpers/database.js";
import { SIGNING_SECRET, startRuntime, type TestRuntime } from "../../helpers/runtime.js";
import { applyCampaigns, query } from "../../helpers/sending.js";
import { waitFor } from "../../helpers/wait-for.js";

/**
 * The preference page (`/p/:token`, issue 18 item 3): the footer link of a
 * sent message opens it, it shows and changes that subscriber's topics with
 * proof, and nothing else opens it.
 */
const TEMPLATE = "templates/prefs.mjml";
const HTML = '<html><body><p>Hi {{subscriber.firstName}}</p><a href="{{unsubscribeUrl}}">Unsubscribe</a> <a href="{{preferencesUrl}}">Manage preferences</a></body></html>';
const TOPICS = [
  { name: "newsletter", title: "News <b>& more</b>", description: 'Monthly. <script>alert("x")</script>', default: "opt-out" },
  { name: "product-news", title: "Product news", default: "opt-in" },
  { name: "events", title: "Events", default: "opt-out" },
];
const FORM = "application/x-www-form-urlencoded";

let rt: TestRuntime;
/** The preference page URL in each recipient's sent message of campaign "spring". */
const pageOf = new Map<string, string>();
const sendOf = new Map<string, string>();

before(async () => {
  rt = await startRuntime({ MK_WORKERS: "1" });
  await rt.api("/v1/subscribers/import", { body: { subscribers: ["pat", "quin"].map((n) => ({ email: `${n}@example.test`, firstName: n, consent: "marketing" })) } });
  await applyCampaigns(rt, [{ name: "spring", template: TEMPLATE }, { name: "autumn", template: TEMPLATE }], {}, { templates: { [TEMPLATE]: HTML } });
  const state = (await rt.api("/v1/state")).body;
  const resources = state.resources.map((r: { kind: string; name: string; spec: Record<string, unknown> }) => ({ kind: r.kind, name: r.name, spec: r.kind === "Project" ? { ...r.spec, topics: TOPICS } : r.spec }));
  const applied = await rt.api("/v1/apply", { body: { baseSerial: state.serial, resources, templates: [], source: { commit: null, author: null, branch: null, dirty: null } } });
  assert.equal(applied.status, 200, JSON.stringify(applied.body));
  assert.equal((await rt.api("/v1/sends/start", { body: { campaign: "spring" } })).body.recipients, 2);
  await waitFor(async () => (await query(rt.databaseUrl, "select 1 from outbox where campaign = 'spring'")).length === 2);
  for (const m of await query<{ recipient: string; html: string; send_id: string }>(rt.databaseUrl, "select recipient, html, send_id from outbox where campaign = 'spring'")) {
    pageOf.set(m.recipient, new URL(/href="([^"]*\/p\/[\w-]+)"/.exec(m.html)![1]!).pathname);
    sendOf.set(m.recipient, m.send_id);
  }
}, { timeout: 120_000 });
after(async () => {
  await rt.close();
  await stopDatabase();
}, { timeout: 120_000 });

const get = (url: string) => rt.app.inject({ method: "GET", url });
const post = (url: string, payload: string, headers: Record<string, string> = { "content-type": FORM }) =>
  rt.app.inject({ method: "POST", url, headers: { "user-agent": "Browser/2.0", ...headers }, payload, remoteAddress: "198.51.100.23" });
const events = (email: string) =>
  query<{ topic: string; action: string; source: string; source_detail: string | null; ip: string | null; user_agent: string | null }>(
    rt.databaseUrl,
    `select e.topic, e.action, e.source, e.source_detail, host(e.ip) as ip, e.user_agent from consent_events e join subscribers s on s.id = e.subscriber_id
     where s.email = $1 and e.source = 'preference-page' order by e.id`,
    [email],
  );
/** Each topic's checkbox on a page: name → checked. */
const boxes = (html: string) => Object.fromEntries([...html.matchAll(/<input type="checkbox" name="topic" value="([^"]+)"( checked)?>/g)].map((m) => [m[1], m[2] !== undefined]));
const sideEffects = async () =>
  (await query<{ n: string }>(rt.databaseUrl, "select (select count(*) from consent_events) || '/' || (select count(*) from suppressions) || '/' || (select count(*) from events) as n"))[0]!.n;

describe("the preference page", { timeout: 180_000 }, () => {
  it("{{preferencesUrl}} renders in each sent message and opens that subscriber's page: no cookie, no script, not cached, no referrer", async () => {
    assert.equal(pageOf.size, 2);
    assert.notEqual(pageOf.get("pat@example.test"), pageOf.get("quin@example.test"));
    const response = await get(pageOf.get("pat@example.test")!);
    assert.equal(response.statusCode, 200);
    assert.match(response.body, /<strong>pat@example\.test<\/strong>/);
    assert.doesNotMatch(response.body, /quin/);
    assert.equal(response.headers["set-cookie"], undefined);
    assert.equal(response.headers["cache-control"], "no-store");
    assert.equal(response.headers["referrer-policy"], "no-referrer");
    const csp = String(response.headers["content-security-policy"]);
    assert.match(csp, /default-src 'none'/);
    const style = /<style>([^<]*)<\/style>/.exec(response.body)![1]!;
    assert.ok(csp.includes(`style-src 'sha256-${createHash("sha256").update(style).digest("base64")}'`), "its one stylesheet, by hash");
    assert.match(csp, /form-action 'self'/);
    assert.doesNotMatch(response.body, /<script/i);
  });

  it("shows each topic's state from its default and the history; a post records one event per changed topic with IP, user agent and source; the page then shows it", async () => {
    const url = pageOf.get("quin@example.test")!;
    const before = await get(url);
    assert.deepEqual(boxes(before.body), { newsletter: true, "product-news": false, events: true }, "opt-out topics in, opt-in ones out");
    assert.match(before.body, /You are subscribed/);

    // Leave the newsletter, join product news, keep events.
    const saved = await post(url, "form=preferences&topic=product-news&topic=events");
    assert.equal(saved.statusCode, 303);
    const token = url.split("/").at(-1)!;
    assert.equal(saved.headers.location, `${token}?saved=1`, "back to the same page, relative to /p/");
    assert.deepEqual(await events("quin@example.test"), [
      { topic: "newsletter", action: "withdrawn", source: "preference-page", source_detail: "campaign:spring", ip: "198.51.100.23", user_agent: "Browser/2.0" },
      { topic: "product-news", action: "granted", source: "preference-page", source_detail: "campaign:spring", ip: "198.51.100.23", user_agent: "Browser/2.0" },
    ]);
    const after = await get(`${url}?saved=1`);
    assert.deepEqual(boxes(after.body), { newsletter: false, "product-news": true, events: true });
    assert.match(after.body, /Your choices are saved/);
    assert.deepEqual((await rt.api("/v1/subscribers/quin@example.test")).body.topics, { newsletter: false, "product-news": true });

    assert.equal((await post(url, "form=preferences&topic=product-news&topic=events")).statusCode, 303);
    assert.equal((await events("quin@example.test")).length, 2, "the same choices again record nothing");
    const untouched = await sideEffects();
    assert.equal((await post(url, "List-Unsubscribe=One-Click")).statusCode, 303);
    assert.equal(await sideEffects(), untouched, "a post that is not the page's form changes nothing");
  });

  it("unsubscribe from everything withdraws marketing consent as the unsubscribe link does; the next campaign skips them", async () => {
    const url = pageOf.get("pat@example.test")!;
    assert.equal((await post(url, "form=preferences&topic=newsletter&everything=yes")).statusCode, 303);
    assert.deepEqual(await events("pat@example.test"), [
      { topic: "", action: "withdrawn", source: "preference-page", source_detail: "campaign:spring", ip: "198.51.100.23", user_agent: "Browser/2.0" },
    ]);
    assert.deepEqual(await query(rt.databaseUrl, "select consent from subscribers where email = 'pat@example.test'"), [{ consent: null }]);
    assert.deepEqual(await query(rt.databaseUrl, "select reason from suppressions where email = 'pat@example.test'"), [{ reason: "unsubscribe" }]);
    const page = await get(url);
    assert.match(page.body, /You are unsubscribed from all email from nomad-desk/);
    assert.doesNotMatch(page.body, /<form/, "nothing to post once unsubscribed");

    assert.equal((await rt.api("/v1/sends/start", { body: { campaign: "autumn" } })).body.recipients, 1);
    assert.deepEqual(await query(rt.databaseUrl, "select email from sends where campaign = 'autumn'"), [{ email: "quin@example.test" }]);
  });

  it("a forged, truncated, other-kind or orphaned token gets the same 404 page and changes nothing; a preferences token opens no other link", async () => {
    const token = pageOf.get("quin@example.test")!.split("/").at(-1)!;
    const sendId = sendOf.get("quin@example.test")!;
    const tokens = {
      forged: `${token.slice(0, 40)}${token[40] === "A" ? "B" : "A"}${token.slice(41)}`,
      truncated: token.slice(0, 50),
      unsubscribe: signLinkToken(SIGNING_SECRET, { kind: "unsubscribe", sendId, linkIndex: 0 }),
      view: signLinkToken(SIGNING_SECRET, { kind: "view", sendId, linkIndex: 0 }),
      otherSecret: signLinkToken(`${SIGNING_SECRET}x`, { kind: "preferences", sendId, linkIndex: 0 }),
      noSuchSend: signLinkToken(SIGNING_SECRET, { kind: "preferences", sendId: "00000000-0000-4000-8000-000000000000", linkIndex: 0 }),
    };
    const before = await sideEffects();
    const bodies = new Set<string>();
    for (const [reason, t] of Object.entries(tokens)) {
      for (const response of [await get(`/p/${t}`), await post(`/p/${t}`, "form=preferences&everything=yes")]) {
        assert.equal(response.statusCode, 404, reason);
        assert.equal(response.headers.location, undefined, reason);
        bodies.add(response.body);
      }
    }
    assert.equal(bodies.size, 1, "one body whatever the reason");
    assert.doesNotMatch([...bodies][0]!, /quin|example\.test/);
    assert.equal(await sideEffects(), before);
    for (const kind of ["u", "v", "c"]) assert.notEqual((await get(`/${kind}/${token}`)).statusCode, 200, `/${kind}/ refuses a preferences token`);
  });

  it("takes only a form body, and a small one: JSON or multipart is a 415, a large body a 413, before anything changes", async () => {
    const url = pageOf.get("quin@example.test")!;
    const before = await sideEffects();
    assert.equal((await post(url, JSON.stringify({ form: "preferences", everything: "yes" }), { "content-type": "application/json" })).statusCode, 415);
    assert.equal((await post(url, "--x\r\nContent-Disposition: form-data; name=\"everything\"\r\n\r\nyes\r\n--x--", { "content-type": "multipart/form-data; boundary=x" })).statusCode, 415);
    assert.equal((await post(url, `form=preferences&everything=yes&pad=${"x".repeat(20_000)}`)).statusCode, 413);
    assert.equal(await sideEffects(), before);
  });

  it("escapes the topics' titles and descriptions from mk.yaml", async () => {
    const { body } = await get(pageOf.get("quin@example.test")!);
    assert.match(body, /<strong>News &#60;b&#62;&#38; more&#60;\/b&#62;<\/strong>/);
    assert.match(body, /Monthly\. &#60;script&#62;alert\(&#34;x&#34;\)&#60;\/script&#62;/);
    assert.doesNotMatch(body, /<b>|<script/);
  });
});
